// Training LeNet-300-100 on MNIST under any rule, as fig1 and fig5 do: the data (all of it or the
// first samples, for --quick), the per-layer split of an overall connectivity, and one run with its
// test accuracy and connectivity traced over the steps.
import { architecture, loadMnist, Model } from "../../dist/index.js";

// The reference code's split, 1 % / 3 % / 30 % (the paper found it wiser to give the small layers
// near the output more connections than uniform sparsity): layer l gets RATIO[l]·c, capped at 1.
const RATIO = [1, 3, 30];
const POSITIONS = [784 * 300, 300 * 100, 100 * 10];
const TOTAL = POSITIONS.reduce((a, b) => a + b);

/** MNIST from `dir` (or the bundled copy), cut to the first `trainCount` and `testCount` samples when given. */
export async function mnist({ dir, trainCount, testCount } = {}) {
  const { train, test } = await loadMnist(dir);
  return { train: first(train, trainCount), test: first(test, testCount) };
}

function first(split, n) {
  if (n === undefined || n >= split.count) return split;
  return { ...split, count: n, inputs: split.inputs.subarray(0, n * split.features), labels: split.labels.subarray(0, n) };
}

/** The overall connectivity (active / possible connections) of the split for layer-1 connectivity c. */
function overallOf(c) {
  return RATIO.reduce((sum, r, l) => sum + Math.min(1, r * c) * POSITIONS[l], 0) / TOTAL;
}

/** The per-layer connectivities in the 1:3:30 split whose overall connectivity is `overall` (bisection on layer 1's). */
export function layerSplit(overall) {
  if (overall >= 1) return [1, 1, 1];
  let lo = 0, hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (overallOf(mid) < overall) lo = mid;
    else hi = mid;
  }
  return RATIO.map((r) => Math.min(1, r * hi));
}

/** Active connections over possible ones, over every sparse layer of `layers` (EpochStats.layers or LayerInfo[]). */
export function overallConnectivity(layers) {
  const active = layers.reduce((sum, l) => sum + l.active, 0);
  const positions = layers.reduce((sum, l) => sum + (l.positions ?? l.inputs * l.outputs), 0);
  return active / positions;
}

/**
 * Trains one network. `connectivity` is per layer (undefined for rule "dense"), `structure` the
 * rule's model settings (prune schedule, beta), `train` the fit options. `traceEvery` steps the
 * overall connectivity is recorded (the iteration panels). Returns the epoch stats, the trace and the wall seconds.
 */
export async function trainMlp({ rule, connectivity, structure = {}, seed, data, train, traceEvery }) {
  const model = Model.create({ ...architecture("mlp", connectivity === undefined ? { rule } : { rule, connectivity }), rule, seed, ...structure });
  const trace = [];
  const batches = Math.ceil(data.train.count / train.batchSize);
  const started = performance.now();
  const epochs = await model.fit(data.train, {
    ...train,
    validation: data.test,
    onBatchEnd: traceEvery === undefined ? undefined : (b) => {
      const step = b.epoch * batches + b.batch + 1;  // b.epoch counts from 0
      if (step % traceEvery === 0) trace.push({ step, connectivity: overallConnectivity(model.layers()) });
    },
  });
  return { epochs, trace, batches, seconds: (performance.now() - started) / 1000 };
}
