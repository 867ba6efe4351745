"""Dense baseline: the same 784-300-100-10 MLP in PyTorch (eager, autograd, torch.optim.SGD),
float32, no biases. Runs on Debian's python3-torch (/usr/bin/python3), whose BLAS is the system
libblas.so.3 (OpenBLAS pthreads when libopenblas0-pthread is installed).
Input (argv[1], JSON): {"sizes", "batches", "warmup", "steps", "threads", "lr", "seed"}."""
import torch

from py_common import dense_sgd_step, emit, python_info, spec, summary, threadpool_info, time_steps


def limit_threads(threads):
    if not threads:
        return None
    torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits

        return threadpool_limits(limits=threads, user_api="blas")
    except ImportError:
        return None


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
        times = time_steps(dense_sgd_step(sizes, x_all, y_all, batch, s.get("lr", 0.05)), s)
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
