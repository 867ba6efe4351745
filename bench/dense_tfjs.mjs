// Dense baseline: the same 784-300-100-10 MLP (no biases, ReLU, softmax cross-entropy, SGD on
// all three layers) in TensorFlow.js, backend "cpu" (pure JS) or "wasm" (XNNPACK, SIMD).
// Dependencies come from bench/package.json (bench/setup.sh), never from the package's own.
// Input (argv[2], JSON): {"backend", "sizes", "batches", "warmup", "steps", "lr", "maxSeconds"}.
// Prints one JSON object on the last stdout line.
import { median, quantile, syntheticData } from "./common.mjs";

const spec = JSON.parse(process.argv[2] ?? "{}");
const backend = spec.backend ?? "wasm";
const sizes = spec.sizes ?? [784, 300, 100, 10];

// tfjs prints a hint about tfjs-node with console.log; keep stdout for the JSON line.
const log = console.log;
console.log = (...args) => console.error(...args);
const tf = await import("@tensorflow/tfjs");
let wasmThreads;
if (backend === "wasm") {
  const wasm = await import("@tensorflow/tfjs-backend-wasm");
  await tf.setBackend("wasm");
  wasmThreads = typeof wasm.getThreadsCount === "function" ? wasm.getThreadsCount() : undefined;
} else {
  await tf.setBackend(backend);
}
await tf.ready();

const samples = 4096;
const data = syntheticData(samples, sizes[0], sizes[sizes.length - 1], spec.seed ?? 1);
const results = [];
for (const batch of spec.batches ?? [10, 32, 128]) {
  const perEpoch = Math.floor(samples / batch);
  const xs = [], ys = [];
  for (let b = 0; b < perEpoch; b++) {
    xs.push(tf.tensor2d(data.inputs.subarray(b * batch * sizes[0], (b + 1) * batch * sizes[0]), [batch, sizes[0]]));
    ys.push(tf.oneHot(tf.tensor1d(data.labels.subarray(b * batch, (b + 1) * batch), "int32"), sizes[sizes.length - 1]));
  }
  const ws = sizes.slice(0, -1).map((n, l) => tf.variable(tf.randomNormal([n, sizes[l + 1]], 0, Math.sqrt(2 / n))));
  const opt = tf.train.sgd(spec.lr ?? 0.05);
  const step = (i) => {
    const b = i % perEpoch;
    const loss = opt.minimize(() => {
      let h = xs[b];
      ws.forEach((w, l) => {
        h = tf.matMul(h, w);
        if (l < ws.length - 1) h = tf.relu(h);
      });
      return tf.losses.softmaxCrossEntropy(ys[b], h);
    }, true, ws);
    loss.dataSync(); // wait for the step to finish (both backends are synchronous; this is a no-op guard)
    loss.dispose();
  };
  const warmup = spec.warmup ?? 20, steps = spec.steps ?? 200, maxMs = (spec.maxSeconds ?? 1e9) * 1000;
  for (let i = 0; i < warmup; i++) step(i);
  const times = [];
  const started = performance.now();
  for (let i = 0; i < steps && (times.length < 20 || performance.now() - started < maxMs); i++) {
    const t0 = performance.now();
    step(warmup + i);
    times.push((performance.now() - t0) * 1000);
  }
  results.push({ batch, median_us: median(times), p10_us: quantile(times, 0.1), p90_us: quantile(times, 0.9), steps: times.length });
  tf.dispose([...xs, ...ys, ...ws]);
  opt.dispose();
}
log(JSON.stringify({
  baseline: `tfjs-${backend}`,
  threads: backend === "wasm" ? wasmThreads : 1,
  versions: { tfjs: tf.version.tfjs, node: process.version },
  backend: tf.getBackend(),
  simd: backend === "wasm" ? await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT") : undefined,
  multithread: backend === "wasm" ? await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT") : undefined,
  results,
}));
