"""Dense baseline of bench/cnn.mjs: the small convolutional network in PyTorch (eager, autograd,
torch.optim.SGD), float32, every layer with a bias:
[1, 28, 28] -> conv 5x5 32 -> relu -> max_pool 2 -> conv 5x5 64 -> relu -> max_pool 2 ->
linear 1024 -> 256 -> relu -> linear 256 -> 10 -> softmax cross-entropy.
Input (argv[1], JSON): {"batches", "warmup", "steps", "max_seconds", "threads", "lr", "seed"}."""
import torch

from dense_torch import limit_threads
from py_common import emit, python_info, sgd_step, spec, summary, time_steps


def network():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 32, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(),
        torch.nn.Linear(1024, 256), torch.nn.ReLU(),
        torch.nn.Linear(256, 10),
    )


def main():
    s = spec()
    threads = s.get("threads")
    keep = limit_threads(threads)  # noqa: F841 (the limit holds while the object lives)
    torch.manual_seed(s.get("seed", 1))
    samples = 1024
    x_all = torch.rand(samples, 1, 28, 28)
    y_all = torch.randint(0, 10, (samples,))
    results = []
    for batch in s.get("batches", [32]):
        model = network()
        times = time_steps(sgd_step(model, x_all, y_all, batch, s.get("lr", 0.05)), s)
        results.append({"batch": batch, "parameters": sum(p.numel() for p in model.parameters()), **summary(times)})
    emit({"baseline": "torch", "threads": threads, "torch_threads": torch.get_num_threads(),
          "versions": {"torch": torch.__version__, **python_info()}, "results": results})


if __name__ == "__main__":
    main()
