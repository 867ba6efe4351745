"""Dense baseline: the 784-300-100-10 MLP (no biases, ReLU, softmax cross-entropy, SGD on all
three layers, no dX for layer 0) in NumPy float32 on its bundled OpenBLAS.
Input (argv[1], JSON): {"sizes", "batches", "warmup", "steps", "threads", "lr", "seed"}."""
import numpy as np

from py_common import emit, numpy_openblas, python_info, spec, summary, threadpool_info, time_steps


def main():
    s = spec()
    sizes = s.get("sizes", [784, 300, 100, 10])
    threads = s.get("threads")
    blas = numpy_openblas(threads)
    lr = np.float32(s.get("lr", 0.05))
    rng = np.random.default_rng(s.get("seed", 1))
    samples = 4096
    x_all = rng.random((samples, sizes[0]), dtype=np.float32)
    y_all = rng.integers(0, sizes[-1], samples)
    results = []
    for batch in s.get("batches", [10, 32, 128]):
        ws = [
            (rng.standard_normal((sizes[l], sizes[l + 1]), dtype=np.float32) * np.float32(np.sqrt(2.0 / sizes[l])))
            for l in range(len(sizes) - 1)
        ]
        per_epoch = samples // batch
        rows = np.arange(batch)
        # Gradient buffers are allocated once: allocating ~1 MB per step makes glibc return the
        # memory to the OS and fault it back in on every step (3x slower at batch 32).
        grads = [np.empty_like(w) for w in ws]

        def step(i):
            b = i % per_epoch
            x = x_all[b * batch:(b + 1) * batch]
            y = y_all[b * batch:(b + 1) * batch]
            # forward
            acts = [x]
            pre = []
            h = x
            for l, w in enumerate(ws):
                z = h @ w
                if l < len(ws) - 1:
                    pre.append(z)
                    h = np.maximum(z, 0)
                    acts.append(h)
                else:
                    h = z
            z = h - h.max(axis=1, keepdims=True)
            e = np.exp(z)
            p = e / e.sum(axis=1, keepdims=True)
            # backward: dz = (softmax - onehot) / batch
            p[rows, y] -= 1
            d = p * np.float32(1.0 / batch)
            for l in range(len(ws) - 1, -1, -1):
                gw = np.matmul(acts[l].T, d, out=grads[l])
                if l > 0:
                    d = d @ ws[l].T
                    d *= pre[l - 1] > 0
                gw *= -lr
                ws[l] += gw

        times = time_steps(step, s)
        results.append({"batch": batch, **summary(times)})
    emit({
        "baseline": "numpy",
        "threads": threads,
        "versions": {"numpy": np.__version__, **python_info()},
        "blas": blas,
        "threadpoolctl": threadpool_info(),
        "results": results,
    })


if __name__ == "__main__":
    main()
