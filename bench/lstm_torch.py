"""Dense baseline of bench/lstm.mjs: sequential MNIST shapes (28 steps of 28 pixels) through
torch.nn.LSTM (128 units, the last step's hidden state) and an nn.Linear 128 -> 10 readout, softmax
cross-entropy, eager autograd, torch.optim.SGD, float32.
Input (argv[1], JSON): {"batches", "warmup", "steps", "max_seconds", "threads", "lr", "seed", "units"}."""
import torch

from dense_torch import limit_threads
from py_common import emit, python_info, sgd_step, spec, summary, time_steps

STEPS, FEATURES, CLASSES = 28, 28, 10


class LstmReadout(torch.nn.Module):
    def __init__(self, units):
        super().__init__()
        self.lstm = torch.nn.LSTM(FEATURES, units, batch_first=True)
        self.readout = torch.nn.Linear(units, CLASSES)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.readout(out[:, -1])


def main():
    s = spec()
    threads = s.get("threads")
    keep = limit_threads(threads)  # noqa: F841 (the limit holds while the object lives)
    torch.manual_seed(s.get("seed", 1))
    samples = 1024
    x_all = torch.rand(samples, STEPS, FEATURES)
    y_all = torch.randint(0, CLASSES, (samples,))
    results = []
    for batch in s.get("batches", [32]):
        model = LstmReadout(s.get("units", 128))
        times = time_steps(sgd_step(model, x_all, y_all, batch, s.get("lr", 0.05)), s)
        results.append({"batch": batch, "parameters": sum(p.numel() for p in model.parameters()), **summary(times)})
    emit({"baseline": "torch", "threads": threads, "torch_threads": torch.get_num_threads(),
          "versions": {"torch": torch.__version__, **python_info()}, "results": results})


if __name__ == "__main__":
    main()
