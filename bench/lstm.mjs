// A 128-unit LSTM with a 128 -> 10 readout on sequential MNIST shapes (28 steps of 28 pixels),
// batch 32: DEEP R with both LSTM matrices and the readout sparse at 1, 2, 5, 10, 20 and 50 % against
// the same network dense (deepr's sparse_lstm with every position under the dense rule and a
// dense_linear readout; PyTorch nn.LSTM + nn.Linear, bench/lstm_torch.py), with the break-even
// density. Synthetic pixels and labels: a step's cost does not depend on the values.
//
//   node bench/lstm.mjs                  the table (about a minute on 2 cores)
//   node bench/lstm.mjs '{"quick":true}'  few steps, to check that it runs; '{"json":true}' for bench/run.mjs
import { sparseVsDense, report } from "./sparse-vs-dense.mjs";

const STEPS = 28, FEATURES = 28, UNITS = 128, CLASSES = 10, BATCH = 32;
const DENSITIES = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5];  // 50 %: for the break-even density
const budget = (positions, p) => Math.max(1, Math.floor(positions * p));

/** The LSTM with `p` of each weight matrix's positions (one budget per matrix: its four gates share it). */
const lstm = (p) => ({
  kind: "sparse_lstm", steps: STEPS, features: FEATURES, units: UNITS, sequence: false,
  inputBudget: budget(FEATURES * 4 * UNITS, p), recurrentBudget: budget(UNITS * 4 * UNITS, p),
});

const spec = JSON.parse(process.argv[2] ?? "{}");
const result = await sparseVsDense({
  title: `LSTM ${STEPS} x ${FEATURES} -> ${UNITS} units -> readout ${CLASSES}, batch ${BATCH}`,
  batch: BATCH,
  data: { features: STEPS * FEATURES, classes: CLASSES },
  sweep: DENSITIES.map((p) => ({
    connectivity: p,
    layers: [lstm(p), { kind: "sparse_linear", inputs: UNITS, outputs: CLASSES, budget: budget(UNITS * CLASSES, p), bias: true }, { kind: "softmax_cross_entropy" }],
  })),
  dense: {
    name: "sparse_lstm at 100 %, dense rule + dense_linear",
    layers: [lstm(1), { kind: "dense_linear", inputs: UNITS, outputs: CLASSES, bias: true }, { kind: "softmax_cross_entropy" }],
    rule: { optimiser: "sgd", prior: "none", structure: "fixed", budget: "layer", globalShare: "budget" },
    parameters: 4 * UNITS * (FEATURES + UNITS + 1) + UNITS * CLASSES + CLASSES,
  },
  baselines: [{ script: "lstm_torch.py", python: "torch", label: "nn.LSTM + nn.Linear (PyTorch)" }],
  quick: spec.quick,
  log: (m) => console.error(`[lstm] ${m}`),
});
report(result, spec);
