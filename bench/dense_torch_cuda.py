"""Dense baseline on the GPU: each speed case of scripts/gpu-node-check.mjs as a dense PyTorch MLP
(eager, autograd, torch.optim.SGD, float32, no biases) on CUDA device 0, for the GPU check's speed
table (scripts/gpu-check.sh). A step is forward, mean cross-entropy, backward and the SGD update on
one batch of data already on the device. Each step is timed with CUDA events recorded between the
steps, so the times are the GPU's, launch gaps included, with no synchronisation inside the loop.
Input (argv[1], JSON): {"cases": [{"name", "sizes", "batch"}], "warmup", "steps", "lr", "seed"}
(`node scripts/gpu-node-check.mjs --speed-cases` prints the cases). Output: py_common's protocol,
one result per case with its median, p10 and p90 microseconds per step."""
import sys

import torch

from py_common import dense_sgd_step, emit, python_info, spec, summary

BATCHES_OF_DATA = 16  # distinct batches cycled through, as an epoch would be


def time_case(case, s):
    sizes, batch = case["sizes"], case["batch"]
    device = torch.device("cuda")
    x_all = torch.rand(BATCHES_OF_DATA * batch, sizes[0], device=device)
    y_all = torch.randint(0, sizes[-1], (BATCHES_OF_DATA * batch,), device=device)
    step = dense_sgd_step(sizes, x_all, y_all, batch, s.get("lr", 0.05))
    warmup, steps = s.get("warmup", 20), s.get("steps", 200)
    for i in range(warmup):
        step(i)
    torch.cuda.synchronize()
    marks = [torch.cuda.Event(enable_timing=True) for _ in range(steps + 1)]
    marks[0].record()
    for i in range(steps):
        step(warmup + i)
        marks[i + 1].record()
    torch.cuda.synchronize()
    return [marks[i].elapsed_time(marks[i + 1]) * 1000.0 for i in range(steps)]


def main():
    s = spec()
    if not torch.cuda.is_available():
        sys.exit("dense_torch_cuda.py: PyTorch sees no CUDA device")
    torch.manual_seed(s.get("seed", 1))
    results = [{"name": case["name"], "batch": case["batch"], **summary(time_case(case, s))} for case in s["cases"]]
    emit({
        "baseline": "torch-cuda",
        "device": torch.cuda.get_device_name(0),
        "versions": {"torch": torch.__version__, "cuda": torch.version.cuda, **python_info()},
        "results": results,
    })


if __name__ == "__main__":
    main()
