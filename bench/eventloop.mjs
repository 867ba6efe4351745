// Event-loop responsiveness while Model.fit trains: a setInterval(1 ms) records the gaps between
// its ticks; a stall is a gap well over 1 ms. MNIST-sized synthetic data (60 000 x 784, 10
// classes), the reference network (1/3/30 %, batch 10), lr 0.05. Uses the compiled package
// (dist/, `npm run build`). Prints one JSON object on the last line.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { quantile, ROOT, syntheticData } from "./common.mjs";

const spec = JSON.parse(process.argv[2] ?? "{}");
const { Model } = await import(pathToFileURL(join(ROOT, "dist", "index.js")).href);

/** Runs `work` while a 1 ms interval timer records its gaps (ms). */
async function watch(work) {
  const gaps = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  const t0 = performance.now();
  const value = await work(gaps);
  const ms = performance.now() - t0;
  clearInterval(timer);
  return { gaps, ms, value };
}

const stats = (gaps) => ({
  ticks: gaps.length,
  maxGapMs: gaps.length ? Math.max(...gaps) : NaN,
  p99GapMs: gaps.length ? quantile(gaps, 0.99) : NaN,
  gapsOver5ms: gaps.filter((g) => g > 5).length,
});

const count = spec.samples ?? 60000;
const data = syntheticData(count, 784, 10, 11);
const options = { epochs: spec.epochs ?? 2, lr: 0.05, batchSize: 10 };

// Timer jitter with nothing running, for comparison.
const idle = await watch(() => new Promise((resolve) => setTimeout(resolve, 500)));

// Whole fit(), including its one-time synchronous validation of the inputs at the first call.
const modelA = Model.create({ layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3], seed: 1 });
let firstChunkTick = -1;
const whole = await watch((gaps) =>
  modelA.fit(data, { ...options, onBatchEnd: () => { if (firstChunkTick < 0) firstChunkTick = gaps.length; } }),
);
// Validation is synchronous before the first chunk: its stall is the gap that ends at or before
// the first onBatchEnd; what follows is training proper.
const validationGap = whole.gaps.slice(0, firstChunkTick + 1);
const training = whole.gaps.slice(firstChunkTick + 1);

// A second fit() on the same (already validated) data: training alone.
const modelB = Model.create({ layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3], seed: 2 });
await modelB.fit(data, { epochs: 0 }); // validates the data once, outside the watch
const again = await watch(() => modelB.fit(data, options));

console.log(JSON.stringify({
  deeprThreads: process.env.DEEPR_THREADS ?? null,
  samples: count,
  epochs: options.epochs,
  steps: Math.ceil(count / options.batchSize) * options.epochs,
  idle: stats(idle.gaps),
  wholeFit: { ...stats(whole.gaps), seconds: whole.ms / 1000 },
  beforeFirstChunk: stats(validationGap),
  trainingOnly: stats(training),
  validatedFit: { ...stats(again.gaps), seconds: again.ms / 1000 },
}));
