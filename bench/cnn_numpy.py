"""Dense baseline of bench/cnn.mjs in NumPy float32 on its bundled OpenBLAS: the network of
bench/cnn_torch.py, hand-written. Images are kept channels-last ([batch, height, width, channels]);
a convolution is one matrix product over its im2col patches (sliding_window_view), its input
gradient scatters the patch gradients back (25 strided adds, none for the first convolution);
2x2 max pooling through a reshape; SGD on every weight and bias.
Input (argv[1], JSON): {"batches", "warmup", "steps", "max_seconds", "threads", "lr", "seed"}."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from py_common import emit, numpy_openblas, python_info, spec, summary, time_steps

KERNEL = 5
CONVS = [(1, 32), (32, 64)]  # (in channels, out channels)
LINEARS = [(1024, 256), (256, 10)]


def init(rng):
    """He-initialised weights (convolutions as [kernel * kernel * in, out]) and zero biases."""
    shapes = [(KERNEL * KERNEL * c, o) for c, o in CONVS] + LINEARS
    return [(rng.standard_normal(s, dtype=np.float32) * np.float32(np.sqrt(2.0 / s[0])), np.zeros(s[1], np.float32)) for s in shapes]


def patches(x):
    """[B, H, W, C] -> [B * OH * OW, KERNEL * KERNEL * C], each row one patch in (i, j, c) order."""
    b, h, w, c = x.shape
    windows = sliding_window_view(x, (KERNEL, KERNEL), axis=(1, 2))  # [B, OH, OW, C, i, j]
    return windows.transpose(0, 1, 2, 4, 5, 3).reshape(b * (h - KERNEL + 1) * (w - KERNEL + 1), -1)


def unpatch(d_cols, shape):
    """The input gradient of patches(): each patch entry's gradient added back where it came from."""
    b, h, w, c = shape
    oh, ow = h - KERNEL + 1, w - KERNEL + 1
    d = d_cols.reshape(b, oh, ow, KERNEL, KERNEL, c)
    dx = np.zeros(shape, np.float32)
    for i in range(KERNEL):
        for j in range(KERNEL):
            dx[:, i:i + oh, j:j + ow, :] += d[:, :, :, i, j, :]
    return dx


def pool(y):
    """2x2 max pooling with stride 2 of [B, H, W, C]; returns the output and the argmax mask."""
    b, h, w, c = y.shape
    blocks = y.reshape(b, h // 2, 2, w // 2, 2, c)
    out = blocks.max(axis=(2, 4))
    return out, blocks == out[:, :, None, :, None, :]


def gradients(params, x, y):
    """Loss (mean softmax cross-entropy) and the gradient of every (weight, bias)."""
    batch = x.shape[0]
    h = x.reshape(batch, 28, 28, 1)
    saved = []
    for w, b in params[:2]:
        cols = patches(h)
        side = h.shape[1] - KERNEL + 1
        z = (cols @ w + b).reshape(batch, side, side, -1)
        a = np.maximum(z, 0)
        h, mask = pool(a)
        saved.append((cols, z, mask, a.shape))
    flat = h.reshape(batch, -1)
    w1, b1 = params[2]
    z1 = flat @ w1 + b1
    r1 = np.maximum(z1, 0)
    w2, b2 = params[3]
    logits = r1 @ w2 + b2
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(batch), y]).mean()
    p[np.arange(batch), y] -= 1
    d = p * np.float32(1.0 / batch)
    grads = [None] * 4
    grads[3] = (r1.T @ d, d.sum(axis=0))
    d = (d @ w2.T) * (z1 > 0)
    grads[2] = (flat.T @ d, d.sum(axis=0))
    d = (d @ w1.T).reshape(h.shape)
    for layer in (1, 0):
        cols, z, mask, shape = saved[layer]
        n, hh, ww, c = shape
        d = (mask * d[:, :, None, :, None, :]).reshape(shape) * (z > 0)
        d = d.reshape(-1, c)
        grads[layer] = (cols.T @ d, d.sum(axis=0))
        if layer > 0:
            d = unpatch(d @ params[layer][0].T, (n, hh + KERNEL - 1, ww + KERNEL - 1, CONVS[layer][0]))
    return loss, grads


def main():
    s = spec()
    threads = s.get("threads")
    blas = numpy_openblas(threads)
    lr = np.float32(s.get("lr", 0.05))
    rng = np.random.default_rng(s.get("seed", 1))
    samples = 1024
    x_all = rng.random((samples, 28 * 28), dtype=np.float32)
    y_all = rng.integers(0, 10, samples)
    results = []
    for batch in s.get("batches", [32]):
        params = init(rng)
        per_epoch = samples // batch

        def step(i):
            b = i % per_epoch
            _, grads = gradients(params, x_all[b * batch:(b + 1) * batch], y_all[b * batch:(b + 1) * batch])
            for (w, bias), (gw, gb) in zip(params, grads):
                w -= lr * gw
                bias -= lr * gb

        times = time_steps(step, s)
        results.append({"batch": batch, "parameters": sum(w.size + b.size for w, b in params), **summary(times)})
    emit({"baseline": "numpy", "threads": threads, "versions": {"numpy": np.__version__, **python_info()}, "blas": blas, "results": results})


if __name__ == "__main__":
    main()
