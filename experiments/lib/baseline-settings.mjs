// How the pruning and l1 baselines are set so that their final connectivity lands near a target:
// they start dense and remove connections, so the target is reached only through their settings.

// Pruning (Han et al. 2015): each of `times` prunes removes |w| <= q·σ, σ the standard deviation of
// the surviving weights. Model the trained weights as Laplace-distributed with scale b (heavier
// tails than a Gaussian, as trained weights are) and assume they do not move between prunes. The
// survivors of a cut at t are t + Exp(b) in magnitude (the exponential forgets), so their mean square
// is t² + 2tb + 2b², the next cut is q times its root, and after the last cut t_N a fraction
// exp(-t_N / b) is left. q is found by bisection so that this fraction is the target. Retraining
// between prunes moves the weights, so the reached connectivity is recorded with every run.
export function pruneQuality(target, times) {
  const kept = (q) => {
    const b = Math.SQRT1_2;  // σ = 1
    let t = q;
    for (let i = 1; i < times; i++) t = q * Math.sqrt(t * t + 2 * t * b + 2 * b * b);
    return Math.exp(-t / b);
  };
  let lo = 0, hi = 10;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (kept(mid) > target) lo = mid;
    else hi = mid;
  }
  return hi;
}

// l1-shrinkage: a weight survives when its mean gradient outweighs the shrinkage α, so the reached
// connectivity falls steeply with α. Measured on LeNet-300-100 with fig1's schedule (lr 0.5 ×0.8
// per epoch, batch 10, 10 epochs of MNIST, the zeroed weights pruned after 40 % of the steps, seed 1):
// α → connectivity reached (test accuracy): 1e-4 → 10.1 % (97.4 %), 3e-4 → 2.62 % (94.5 %),
// 4.54e-4 → 2.30 % (93.5 %), 6e-4 → 0.205 % (21 %), 1e-3 → 0.136 % (21 %). Between 4.5e-4 and
// 6e-4 the network collapses: with this recipe l1 has no accurate point below about 2 %. α for a
// target is interpolated log-linearly between the measured points (extrapolated from the end
// pairs outside them); the reached value is recorded with every run.
export const L1_MEASURED_MLP = [[1e-4, 0.101], [3e-4, 0.0262], [4.54e-4, 0.023], [6e-4, 0.00205], [1e-3, 0.00136]];

/** α for a target connectivity, from `measured` pairs [α, connectivity reached] sorted by α (default the mlp's). */
export function l1Alpha(target, measured = L1_MEASURED_MLP) {
  // The segment whose connectivities bracket the target (they fall as α grows), else the nearest end.
  let i = measured.findIndex(([, c], k) => k > 0 && target >= c);
  i = i < 0 ? measured.length - 2 : Math.max(0, i - 1);
  const [[a0, c0], [a1, c1]] = [measured[i], measured[i + 1]];
  const slope = Math.log(a1 / a0) / Math.log(c1 / c0);
  return a0 * (target / c0) ** slope;
}
