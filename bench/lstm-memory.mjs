// Resident memory of a 1024-unit LSTM (28 steps of 28 features, readout 1024 -> 10) trained at
// batch 32: at 1 % under DEEP R (SGD, then Adam) and under fixed sparsity, and at 100 % under the
// dense rule (prune and l1 hold the same dense stores until their first prune). Each row trains in
// its own process; the peak RSS of that process (VmHWM) is set against what the network must hold:
//
//   state        per active slot of a sparse store: input index and θ (8 B), the step's gradient
//                (4 B) and one float per optimiser state array (SGD none, momentum 1, Adam 2); per
//                sparse store its row offsets ((outputs + 1) × 4 B); the LSTM's gradient of one time
//                step, summed into the step's (4 B per slot of its larger store); per dense store
//                (the LSTM bias, the readout's bias) value, gradient and the optimiser's arrays,
//                4 B each per value.
//   activations  per batch, kept for backpropagation through time: the gates after their
//                nonlinearity (4 × T × U), cell and hidden states (T × U each); the input batch
//                (T × F); a step's working vectors (W_h h, dE/dz: 4 U each; dE/dh, dE/dc: U each);
//                the readout's input, output and their gradients (2 U + 2 C); all float32.
//
// The idle baseline is the same process before the network exists: Node, the addon and the
// training data loaded (VmHWM then). The ratio is (peak − idle) / (state + activations).
//
//   node bench/lstm-memory.mjs                  the table (about a minute on 2 cores)
//   node bench/lstm-memory.mjs '{"quick":true}'  fewer steps; '{"json":true}' for bench/run.mjs
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { benchEnv, HYPER, loadAddon, runJson, syntheticData } from "./common.mjs";

const STEPS = 28, FEATURES = 28, UNITS = 1024, CLASSES = 10, BATCH = 32;
/** Float arrays an optimiser keeps per parameter (cpp/state_arrays.hpp). */
const OPTIMISER_STATES = { sgd: 0, momentum: 1, adam: 2 };
const OPTIMISER_HYPER = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8 };
const ROWS = [
  { name: "deep-r, SGD", connectivity: 0.01, rule: { optimiser: "sgd", prior: "deep-r", structure: "deep-r" }, steps: 300 },
  { name: "deep-r, Adam", connectivity: 0.01, rule: { optimiser: "adam", prior: "deep-r", structure: "deep-r" }, steps: 300 },
  { name: "fixed, SGD", connectivity: 0.01, rule: { optimiser: "sgd", prior: "none", structure: "fixed" }, steps: 300 },
  // Every position: a step takes seconds, and the buffers are all sized by the first one.
  { name: "dense, SGD (dense state)", connectivity: 1, rule: { optimiser: "sgd", prior: "none", structure: "fixed" }, steps: 3 },
];

const budget = (positions, p) => Math.max(1, Math.floor(positions * p));
const layersAt = (p) => [
  { kind: "sparse_lstm", steps: STEPS, features: FEATURES, units: UNITS, sequence: false,
    inputBudget: budget(FEATURES * 4 * UNITS, p), recurrentBudget: budget(UNITS * 4 * UNITS, p) },
  { kind: "sparse_linear", inputs: UNITS, outputs: CLASSES, budget: budget(UNITS * CLASSES, p), bias: true },
  { kind: "softmax_cross_entropy" },
];

/** VmRSS and VmHWM (the peak) of this process, in bytes. */
function residentMemory() {
  const status = readFileSync("/proc/self/status", "utf8");
  const kib = (field) => Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))[1]) * 1024;
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

/** Bytes the network must hold, from its stores' active counts (the network's info()). */
function expectedBytes(info, optimiser) {
  const states = OPTIMISER_STATES[optimiser];
  const sparse = info.layers.reduce((sum, s) => sum + s.active * (8 + 4 + 4 * states) + (s.outputs + 1) * 4, 0);
  const [input, recurrent] = info.layers;  // the LSTM's stores come first
  const timeStepGradient = 4 * Math.max(input.active, recurrent.active, 4 * UNITS);
  const denseValues = 4 * UNITS + CLASSES;  // the LSTM bias and the readout's bias
  const state = sparse + timeStepGradient + denseValues * 4 * (2 + states);
  const activations = 4 * BATCH * (6 * STEPS * UNITS + STEPS * FEATURES + 10 * UNITS + 2 * UNITS + 2 * CLASSES);
  return { state, activations };
}

/** One row, in this (child) process. */
async function measure(row, quick) {
  const addon = loadAddon();
  const data = syntheticData(BATCH * 8, STEPS * FEATURES, CLASSES);
  const idle = residentMemory();
  const net = new addon.NativeNetwork({ seed: 1, layers: layersAt(row.connectivity), rule: { ...row.rule, budget: "layer", globalShare: "budget" } });
  const info = net.info();
  const hyper = Object.fromEntries(info.hyper.map((name) => [name, HYPER[name] ?? OPTIMISER_HYPER[name]]));
  const steps = quick ? Math.min(row.steps, 10) : row.steps;
  const started = performance.now();
  for (let done = 0; done < steps; done += 8)
    await net.train(data.inputs, data.labels, done / 8, 0, Math.min(8, steps - done), BATCH, hyper, false);
  const ms = performance.now() - started;
  const after = residentMemory();
  const K = net.info().layers.reduce((sum, s) => sum + s.active, 0);
  net.dispose();
  return { ...row, steps, K, msPerStep: ms / steps, idle: idle.peak, peak: after.peak, steady: after.rss, ...expectedBytes(info, row.rule.optimiser) };
}

const spec = JSON.parse(process.argv[2] ?? "{}");
if (spec.row) {
  console.log(JSON.stringify(await measure(spec.row, spec.quick)));
} else {
  const rows = [];
  for (const row of ROWS) {
    console.error(`[lstm-memory] ${row.name}, ${row.connectivity * 100} %`);
    rows.push(await runJson(process.execPath, [fileURLToPath(import.meta.url), JSON.stringify({ row, quick: spec.quick })], { env: benchEnv(), label: "lstm-memory.mjs" }));
  }
  const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
  const measured = rows.map((r) => ({ ...r, ratio: (r.peak - r.idle) / (r.state + r.activations) }));
  const markdown = [
    "| rule | connectivity | K (all sparse stores) | steps | ms / step | idle (Node + addon + data) | peak RSS | RSS after | state | activations | (peak − idle) / (state + activations) |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...measured.map((r) => `| ${r.name} | ${r.connectivity * 100} % | ${r.K} | ${r.steps} | ${r.msPerStep.toFixed(1)} | ${mib(r.idle)} | ${mib(r.peak)} | ${mib(r.steady)} | ${mib(r.state)} | ${mib(r.activations)} | ${r.ratio.toFixed(2)}× |`),
    "",
    "Each row trains in its own process. State: per active slot its input index and θ (8 B), its gradient (4 B) and the optimiser's arrays (Adam: 8 B); the row offsets of each sparse store; the LSTM's gradient of one time step; value, gradient and optimiser arrays of the biases. Activations: what BPTT keeps per batch (gates, cell and hidden state of every step: 6 × T × U floats per sample), the input batch, a step's working vectors and the readout's. Idle: the same process before the network exists (Node, the addon, the data). The dense rule holds every position as a slot (as prune and l1 do until their first prune): its state is O(inputs × outputs).",
    "",
  ];
  const result = { title: `LSTM ${STEPS} x ${FEATURES} -> ${UNITS} units -> readout ${CLASSES}, batch ${BATCH}: resident memory`, rows: measured, markdown };
  if (spec.json) console.log(JSON.stringify(result));
  else console.log([`## ${result.title}`, "", ...markdown].join("\n"));
}
