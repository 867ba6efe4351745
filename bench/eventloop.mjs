// Event-loop responsiveness while Model.fit trains: a setInterval(1 ms) records the gaps between
// its ticks; a stall is a gap well over 1 ms. MNIST-sized synthetic data (60 000 x 784, 10
// classes), the reference network (1/3/30 %, batch 10), lr 0.05. Uses the compiled package
// (dist/, `npm run build`). Prints one JSON object on the last line.
//
// On Linux each gap is also measured less the time the main thread waited, runnable, for a CPU
// (maxGapLessCpuWaitMs): on a busy 2-core machine other processes, or the addon's own training
// threads, can hold both cores for several ms, which is no work of the event loop's.
import { pbkdf2 } from "node:crypto";
import { existsSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { quantile, ROOT, syntheticData } from "./common.mjs";

const spec = JSON.parse(process.argv[2] ?? "{}");
const { Model } = await import(pathToFileURL(join(ROOT, "dist", "index.js")).href);

// The main thread's schedstat (opened on it): CPU time, run-queue wait (ns), time slices.
const SCHEDSTAT = "/proc/thread-self/schedstat";
const schedstat = existsSync(SCHEDSTAT) ? openSync(SCHEDSTAT, "r") : undefined;
const schedBuffer = Buffer.alloc(128);
/** Total ms the main thread has waited for a CPU while runnable (0 where not measurable). */
function cpuWaitMs() {
  if (schedstat === undefined) return 0;
  const length = readSync(schedstat, schedBuffer, 0, schedBuffer.length, 0);
  return Number(schedBuffer.toString("latin1", 0, length).split(" ")[1]) / 1e6;
}

/** Runs `work` while a 1 ms interval timer records its gaps and the CPU wait within each (ms). */
async function watch(work) {
  const gaps = [], waits = [];
  let last = performance.now(), lastWait = cpuWaitMs();
  const timer = setInterval(() => {
    const now = performance.now(), wait = cpuWaitMs();
    gaps.push(now - last);
    waits.push(wait - lastWait);
    last = now;
    lastWait = wait;
  }, 1);
  const t0 = performance.now();
  const value = await work(gaps);
  const ms = performance.now() - t0;
  clearInterval(timer);
  return { gaps, waits, ms, value };
}

const stats = ({ gaps, waits }) => ({
  ticks: gaps.length,
  maxGapMs: gaps.length ? Math.max(...gaps) : NaN,
  p99GapMs: gaps.length ? quantile(gaps, 0.99) : NaN,
  gapsOver5ms: gaps.filter((g) => g > 5).length,
  maxGapLessCpuWaitMs: gaps.length ? Math.max(...gaps.map((g, i) => g - waits[i])) : NaN,
  cpuWaitMs: waits.reduce((sum, w) => sum + w, 0),
});

const count = spec.samples ?? 60000;
const data = syntheticData(count, 784, 10, 11);
const options = { epochs: spec.epochs ?? 2, lr: 0.05, batchSize: 10 };

// Timer jitter with nothing running, for comparison.
const idle = await watch(() => new Promise((resolve) => setTimeout(resolve, 500)));

// Whole fit(), including the one-time check of the inputs (NaN/Infinity, labels) at the first call.
const modelA = Model.create({ layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3], seed: 1 });
let firstChunkTick = -1;
const whole = await watch((gaps) =>
  modelA.fit(data, { ...options, onBatchEnd: () => { if (firstChunkTick < 0) firstChunkTick = gaps.length; } }),
);
// The check (time-sliced) and the first call into the addon come before the first chunk: their
// gaps are those that end at or before the first onBatchEnd; what follows is training proper.
const at = firstChunkTick + 1;
const beforeChunk = { gaps: whole.gaps.slice(0, at), waits: whole.waits.slice(0, at) };
const training = { gaps: whole.gaps.slice(at), waits: whole.waits.slice(at) };

// A second fit() on the same (already validated) data: training alone.
const modelB = Model.create({ layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3], seed: 2 });
await modelB.fit(data, { epochs: 0 }); // validates the data once, outside the watch
const again = await watch(() => modelB.fit(data, options));

// And the timer while the JS thread keeps libuv's pool busy the way fit() does, with no deepr code:
// back-to-back crypto.pbkdf2 calls of about CALL_MS each, for as long as the longer fit. Its gaps
// are what Node and this machine give any such work.
const CALL_MS = 40; // CHUNK_MS of lib/fit-loop.ts: how long each of fit()'s calls into the addon lasts
const pbkdf2Call = (iterations) =>
  new Promise((resolve, reject) => pbkdf2("deepr", "salt", iterations, 32, "sha256", (e) => (e ? reject(e) : resolve())));
const calibrate = performance.now();
await pbkdf2Call(20000);
const iterations = Math.round((CALL_MS * 20000) / (performance.now() - calibrate));
const poolLoop = await watch(async () => {
  const end = performance.now() + Math.max(whole.ms, again.ms);
  while (performance.now() < end) await pbkdf2Call(iterations);
});

console.log(JSON.stringify({
  deeprThreads: process.env.DEEPR_THREADS ?? null,
  samples: count,
  epochs: options.epochs,
  steps: Math.ceil(count / options.batchSize) * options.epochs,
  idle: stats(idle),
  poolLoop: { ...stats(poolLoop), seconds: poolLoop.ms / 1000 },
  wholeFit: { ...stats(whole), seconds: whole.ms / 1000 },
  beforeFirstChunk: stats(beforeChunk),
  trainingOnly: stats(training),
  validatedFit: { ...stats(again), seconds: again.ms / 1000 },
}));
