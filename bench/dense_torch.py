"""Dense baseline: the same 784-300-100-10 MLP in PyTorch (eager, autograd, torch.optim.SGD),
float32, no biases. Runs on Debian's python3-torch (/usr/bin/python3), whose BLAS is the system
libblas.so.3 (OpenBLAS pthreads when libopenblas0-pthread is installed).
Input (argv[1], JSON): {"sizes", "batches", "warmup", "steps", "threads", "lr", "seed"}."""
import torch
import torch.nn.functional as F

from py_common import emit, python_info, spec, summary, threadpool_info, time_steps


def limit_threads(threads):
    if not threads:
        return None
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=threads, user_api="blas")
    except ImportError:
        return None


def time_sgd_steps(model, x_all, y_all, batch, s):
    """Times full training steps of `model` (forward, mean cross-entropy, backward, SGD update) on
    the batches of x_all, y_all in turn, as py_common.time_steps does."""
    opt = torch.optim.SGD(model.parameters(), lr=s.get("lr", 0.05))
    per_epoch = len(x_all) // batch

    def step(i):
        b = i % per_epoch
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x_all[b * batch:(b + 1) * batch]), y_all[b * batch:(b + 1) * batch])
        loss.backward()
        opt.step()

    return time_steps(step, s)


def main():
    s = spec()
    sizes = s.get("sizes", [784, 300, 100, 10])
    threads = s.get("threads")
    keep = limit_threads(threads)  # noqa: F841 (the limit holds while the object lives)
    torch.manual_seed(s.get("seed", 1))
    samples = 4096
    x_all = torch.rand(samples, sizes[0])
    y_all = torch.randint(0, sizes[-1], (samples,))
    results = []
    for batch in s.get("batches", [10, 32, 128]):
        model = torch.nn.Sequential(
            *[m for l in range(len(sizes) - 1) for m in
              ([torch.nn.Linear(sizes[l], sizes[l + 1], bias=False)] + ([torch.nn.ReLU()] if l < len(sizes) - 2 else []))]
        )
        times = time_sgd_steps(model, x_all, y_all, batch, s)
        results.append({"batch": batch, **summary(times)})
    emit({
        "baseline": "torch",
        "threads": threads,
        "versions": {"torch": torch.__version__, **python_info()},
        "torch_threads": torch.get_num_threads(),
        "blas": torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in torch.__config__.show() else None,
        "threadpoolctl": threadpool_info(),
        "results": results,
    })


if __name__ == "__main__":
    main()
