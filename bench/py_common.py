"""Shared helpers of the Python baselines: the JSON protocol, timing, BLAS facts, the dense
PyTorch training step.

Protocol: each baseline takes one JSON object as argv[1] and prints one JSON object as the
last line of stdout. Times are per full training step, in microseconds, median after warm-up.
"""
import ctypes
import glob
import json
import os
import platform
import sys
import time


def spec():
    return json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def time_steps(step, s):
    """Calls step(i) s["warmup"] times (default 20), then at least s["steps"] times (default 200)
    and for at least s["min_seconds"]; returns the per-step times in microseconds. With
    s["max_seconds"], timing stops early (after at least 20 steps) once that much time has passed:
    a pathological setting (e.g. two BLAS threads on a machine where another process holds a
    core) cannot stall the whole run."""
    warmup, steps = s.get("warmup", 20), s.get("steps", 200)
    min_seconds, max_seconds = s.get("min_seconds", 0.0), s.get("max_seconds")
    for i in range(warmup):
        step(i)
    times = []
    start = time.perf_counter()
    i = 0
    while i < steps or (time.perf_counter() - start) < min_seconds:
        t0 = time.perf_counter_ns()
        step(warmup + i)
        times.append((time.perf_counter_ns() - t0) / 1000.0)
        i += 1
        if i >= 20 * max(steps, 1):
            break
        if max_seconds is not None and i >= 20 and time.perf_counter() - start > max_seconds:
            break
    return times


def sgd_step(model, x_all, y_all, batch, lr):
    """A PyTorch baseline's training step: step(i) is forward, mean cross-entropy, backward and the
    torch.optim.SGD update at `lr` of `model` on batch i of x_all, y_all, cycling through them as an
    epoch would (the dense MLP, the cnn and the LSTM baselines)."""
    import torch
    import torch.nn.functional as F

    opt = torch.optim.SGD(model.parameters(), lr=lr)
    per_epoch = len(x_all) // batch

    def step(i):
        b = i % per_epoch
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x_all[b * batch:(b + 1) * batch]), y_all[b * batch:(b + 1) * batch])
        loss.backward()
        opt.step()

    return step


def dense_sgd_step(sizes, x_all, y_all, batch, lr):
    """The dense PyTorch baseline's training step (bench/dense_torch.py on the CPU,
    dense_torch_cuda.py on the GPU): sgd_step of a bias-free float32 MLP of layer sizes `sizes`,
    ReLU between the layers, on x_all's device."""
    import torch

    layers = []
    for l in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[l], sizes[l + 1], bias=False))
        if l < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return sgd_step(torch.nn.Sequential(*layers).to(x_all.device), x_all, y_all, batch, lr)


def summary(times):
    s = sorted(times)
    n = len(s)
    med = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return {
        "median_us": med,
        "p10_us": s[int(0.1 * (n - 1))],
        "p90_us": s[int(0.9 * (n - 1))],
        "steps": n,
    }


def threadpool_info():
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries, when threadpoolctl exists."""
    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        # Debian's python3-threadpoolctl is pure Python; borrow it for a report only.
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import threadpoolctl  # noqa: F401
        except ImportError:
            return None
        finally:
            sys.path.remove("/usr/lib/python3/dist-packages")
    import threadpoolctl

    return [
        {k: v for k, v in lib.items() if k in ("internal_api", "prefix", "version", "num_threads", "architecture", "threading_layer", "filepath")}
        for lib in threadpoolctl.threadpool_info()
    ]


def numpy_openblas(threads=None):
    """The OpenBLAS bundled in NumPy's wheel (scipy-openblas, symbols prefixed), via ctypes:
    older threadpoolctl versions do not recognise its prefixed symbols."""
    import numpy

    libs = glob.glob(os.path.join(os.path.dirname(numpy.__file__), os.pardir, "numpy.libs", "libscipy_openblas*.so"))
    if not libs:
        return None
    lib = ctypes.CDLL(libs[0])
    out = {"filepath": os.path.realpath(libs[0])}
    for suffix in ("64_", "_64_", ""):
        try:
            get_config = getattr(lib, "scipy_openblas_get_config" + suffix)
            get_core = getattr(lib, "scipy_openblas_get_corename" + suffix)
            get_threads = getattr(lib, "scipy_openblas_get_num_threads" + suffix)
            set_threads = getattr(lib, "scipy_openblas_set_num_threads" + suffix)
        except AttributeError:
            continue
        get_config.restype = ctypes.c_char_p
        get_core.restype = ctypes.c_char_p
        if threads:
            set_threads(ctypes.c_int(threads))
        out.update(config=get_config().decode(), core=get_core().decode(), num_threads=get_threads())
        break
    return out


def python_info():
    return {"python": platform.python_version(), "executable": sys.executable}
