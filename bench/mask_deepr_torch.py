"""Mask-based DEEP R in PyTorch, as every peer implements it (official TF scripts, DeepRewire):
dense theta, dense fixed signs, dense mask, dense noise, reactivation by scanning the dormant
entries. Written here from the algorithm (Bellec et al. 2018, Algorithm 1); same network, loss
and hyper-parameters as deepr's timed steps. One full step = forward with W = sign*theta*mask,
backward, theta update of the active entries (gradient + l1 + Gaussian noise), deactivation of
theta < 0, regrowth of the deficit uniformly among the dormant entries (torch.nonzero + randperm).
Input (argv[1], JSON): {"sizes", "cases": [{"connectivity": [..], "batch"}], "warmup", "steps",
"threads", "lr", "alpha", "noise", "seed"}."""
import torch
import torch.nn.functional as F

from py_common import emit, python_info, spec, summary, threadpool_info, time_steps
from dense_torch import limit_threads


class MaskDeepR:
    def __init__(self, sizes, connectivity, gen):
        self.theta, self.sign, self.mask, self.k = [], [], [], []
        for l in range(len(sizes) - 1):
            n_in, n_out = sizes[l], sizes[l + 1]
            k = max(1, int(n_in * n_out * connectivity[l]))
            mask = torch.zeros(n_in * n_out, dtype=torch.bool)
            mask[torch.randperm(n_in * n_out, generator=gen)[:k]] = True
            w0 = torch.randn(n_in * n_out, generator=gen) / (n_in ** 0.5)  # theta = |w0|, sign = sign(w0)
            self.theta.append((w0.abs() * mask).view(n_in, n_out).requires_grad_(True))
            self.sign.append(torch.where(w0 >= 0, 1.0, -1.0).view(n_in, n_out))
            self.mask.append(mask.view(n_in, n_out))
            self.k.append(k)

    def step(self, x, y, lr, alpha, noise_std, gen):
        h = x
        last = len(self.theta) - 1
        for l in range(len(self.theta)):
            h = h @ (self.sign[l] * self.theta[l] * self.mask[l])
            if l < last:
                h = F.relu(h)
        loss = F.cross_entropy(h, y)
        for t in self.theta:
            t.grad = None
        loss.backward()
        rewired = 0
        with torch.no_grad():
            for l, theta in enumerate(self.theta):
                mask = self.mask[l]
                noise = torch.randn(theta.shape, generator=gen) * noise_std  # dense noise
                theta.add_((-lr * theta.grad - lr * alpha + noise) * mask)
                mask &= theta > 0  # deactivate connections whose theta crossed zero
                theta.mul_(mask)
                deficit = self.k[l] - int(mask.sum())
                if deficit > 0:
                    dormant = torch.nonzero(~mask.view(-1)).squeeze(1)  # scan every dormant entry
                    pick = dormant[torch.randperm(dormant.numel(), generator=gen)[:deficit]]
                    mask.view(-1)[pick] = True
                    theta.view(-1)[pick] = 1e-12  # new connections start at ~0 with the fixed sign
                    rewired += deficit
        return rewired


def main():
    s = spec()
    sizes = s.get("sizes", [784, 300, 100, 10])
    threads = s.get("threads")
    keep = limit_threads(threads)  # noqa: F841
    lr, alpha = s.get("lr", 0.05), s.get("alpha", 1e-5)
    noise_std = lr * s.get("noise", 1e-5)
    gen = torch.Generator().manual_seed(s.get("seed", 1))
    samples = 4096
    x_all = torch.rand(samples, sizes[0], generator=gen)
    y_all = torch.randint(0, sizes[-1], (samples,), generator=gen)
    results = []
    for case in s.get("cases", [{"connectivity": [0.01, 0.03, 0.3], "batch": 10}]):
        batch = case["batch"]
        net = MaskDeepR(sizes, case["connectivity"], gen)
        per_epoch = samples // batch
        counts = {"steps": 0, "rewired": 0}  # over every call, warm-up included

        def step(i):
            b = i % per_epoch
            counts["steps"] += 1
            counts["rewired"] += net.step(x_all[b * batch:(b + 1) * batch], y_all[b * batch:(b + 1) * batch], lr, alpha, noise_std, gen)

        times = time_steps(step, s)
        active = [int(m.sum()) for m in net.mask]
        results.append({**case, **summary(times), "active": active, "budget": net.k, "rewired_per_step": counts["rewired"] / counts["steps"]})
    emit({
        "baseline": "mask-deepr-torch",
        "threads": threads,
        "versions": {"torch": torch.__version__, **python_info()},
        "threadpoolctl": threadpool_info(),
        "results": results,
    })


if __name__ == "__main__":
    main()
