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
// connectivity falls steeply with α. Measured on LeNet-300-100 (lr 0.5, batch 10, one epoch of
// MNIST, the zeroed weights pruned at its end): α 1e-4 left 14.3 %, 3e-4 left 2.86 %, 1e-3 left
// 0.135 %. α for a target is interpolated log-linearly between these points (extrapolated from the
// nearest pair outside them); the reached value is recorded with every run.
const L1_MEASURED = [[1e-4, 0.143], [3e-4, 0.0286], [1e-3, 0.00135]];

export function l1Alpha(target) {
  const i = target > L1_MEASURED[1][1] ? 0 : 1;
  const [[a0, c0], [a1, c1]] = [L1_MEASURED[i], L1_MEASURED[i + 1]];
  const slope = Math.log(a1 / a0) / Math.log(c1 / c0);
  return a0 * (target / c0) ** slope;
}
