// Standalone: time of one full training step (forward, BPTT, update, rewiring) of a 128-unit
// sparse_lstm with a sparse readout on sequential MNIST shapes (28 steps of 28 pixels, 10
// classes), batch 32, at 5 % and 100 % connectivity of every weight store. Synthetic pixels:
// the step's cost does not depend on the values.
//
//   node bench/lstm.mjs          (DEEPR_THREADS from the environment, if the addon reads it)
import { fmtUs, HYPER, loadAddon, median, syntheticData } from "./common.mjs";

const STEPS = 28, FEATURES = 28, UNITS = 128, CLASSES = 10, BATCH = 32;
const CHUNK = 5, WARMUP_CHUNKS = 2, TIMED_CHUNKS = 10;
const DENSITIES = [0.05, 1];

const addon = loadAddon();
const data = syntheticData(BATCH * CHUNK, STEPS * FEATURES, CLASSES);
const budget = (positions, p) => Math.max(1, Math.floor(positions * p));

const rows = [];
for (const p of DENSITIES) {
  const layers = [
    { kind: "sparse_lstm", steps: STEPS, features: FEATURES, units: UNITS, sequence: false,
      inputBudget: budget(FEATURES * 4 * UNITS, p), recurrentBudget: budget(UNITS * 4 * UNITS, p) },
    { kind: "sparse_linear", inputs: UNITS, outputs: CLASSES, budget: budget(UNITS * CLASSES, p), bias: true },
    { kind: "softmax_cross_entropy" },
  ];
  const rule = { optimiser: "sgd", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" };
  const net = new addon.NativeNetwork({ seed: 1, layers, rule });
  const K = net.info().layers.reduce((sum, l) => sum + l.active, 0);
  const times = [];
  for (let chunk = 0; chunk < WARMUP_CHUNKS + TIMED_CHUNKS; chunk++) {
    const started = process.hrtime.bigint();
    await net.train(data.inputs, data.labels, chunk, 0, CHUNK, BATCH, HYPER, false);
    if (chunk >= WARMUP_CHUNKS) times.push(Number(process.hrtime.bigint() - started) / 1000 / CHUNK);
  }
  net.dispose();
  rows.push([`${p * 100} %`, K, fmtUs(median(times))]);
}
console.log(`sparse_lstm ${STEPS} x ${FEATURES} -> ${UNITS} units -> sparse readout ${CLASSES}, batch ${BATCH}, full training step, median of ${TIMED_CHUNKS} calls of ${CHUNK} steps (DEEPR_THREADS=${process.env.DEEPR_THREADS ?? "unset"}, ${addon.threads()} threads)`);
console.log("| connectivity | K (all stores) | deepr time/step |\n|---|---|---|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
