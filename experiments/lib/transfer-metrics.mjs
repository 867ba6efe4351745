// What the transfer experiment measures between the states of a network after two successive
// epochs (Bellec et al. 2018, sec. 4): how much each layer's weights and its activity for the same
// inputs changed, and which connections were created and removed. The layer states are what
// Model.exportLayers() gives for a sparse_linear layer: `positions` (input, output) pairs with
// w = sign * theta, and `outputs`.

/** Pearson's correlation of two equally long arrays, in float64; NaN when either is constant. */
export function correlation(x, y) {
  if (x.length !== y.length) throw new RangeError(`correlation of arrays of ${x.length} and ${y.length} values`);
  const n = x.length;
  let mx = 0, my = 0;
  for (let k = 0; k < n; k++) { mx += x[k]; my += y[k]; }
  mx /= n; my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let k = 0; k < n; k++) {
    const dx = x[k] - mx, dy = y[k] - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  return sxx === 0 || syy === 0 ? NaN : sxy / Math.sqrt(sxx * syy);
}

/**
 * The correlation of a layer's weights in states `before` and `after`, over the union of the
 * positions active in either: a position dormant in one state counts as weight 0 there (it has no
 * weight, and the network computes with 0), so a rewired connection lowers the correlation.
 */
export function weightCorrelation(before, after) {
  const a = weightsByPosition(before), b = weightsByPosition(after);
  const union = new Set([...a.keys(), ...b.keys()]);
  const x = new Float64Array(union.size), y = new Float64Array(union.size);
  let k = 0;
  for (const position of union) {
    x[k] = a.get(position) ?? 0;
    y[k++] = b.get(position) ?? 0;
  }
  return correlation(x, y);
}

/** The connections of a layer active in `after` but not in `before` (created) and the reverse (removed). */
export function connectionChanges(before, after) {
  const a = new Set(weightsByPosition(before).keys()), b = new Set(weightsByPosition(after).keys());
  let created = 0, removed = 0;
  for (const position of b) if (!a.has(position)) created++;
  for (const position of a) if (!b.has(position)) removed++;
  return { created, removed };
}

/** A layer's weights w = sign * theta by the position's linear index i * outputs + j. */
function weightsByPosition({ positions, theta, sign, outputs }) {
  const weights = new Map();
  for (let k = 0; k < theta.length; k++) weights.set(positions[2 * k] * outputs + positions[2 * k + 1], sign[k] * theta[k]);
  return weights;
}

/**
 * The fraction of a layer's units that are 0 for every sample of `activity` (row-major samples x
 * `units`, after ReLU): units that no input drives any more, which pass no gradient and so cannot learn.
 */
export function silentUnits(activity, units) {
  let silent = 0;
  for (let j = 0; j < units; j++) {
    let active = false;
    for (let k = j; k < activity.length && !active; k += units) active = activity[k] > 0;
    if (!active) silent++;
  }
  return silent / units;
}
