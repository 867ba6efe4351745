// Fig. 2 / 3C of Bellec et al. 2018: the recurrent network (one LSTM layer of 128 units and a linear
// readout of its last output; lib/architectures/lstm.ts) against connectivity for DEEP R, soft-DEEP R,
// fixed sparse and dense. The paper's task, framewise phone recognition on TIMIT, needs a licensed
// corpus: here the network reads MNIST row by row (28 time steps of 28 pixels), and the user's own
// sequences when --data names a folder with x_train.npy, y_train.npy, x_test.npy and y_test.npy.
import { connectivitySweep, ruleSettings, splitConnectivity, sweepFigure, sweepSummary } from "./lib/connectivity-sweep.mjs";
import { sequencesFor } from "./lib/data.mjs";

const RULES = ["deep-r", "soft-deep-r", "fixed"];
// The lstm preset's recipe (the README's accuracy table) for every rule: Adam, lr 0.003 on a cosine schedule, batch 32.
const RECIPE = { lr: 0.003, lrSchedule: "cosine", batchSize: 32, optimizer: "adam" };
const ALPHA = 1e-5, NOISE = 1e-5;
const UNITS = 128;

const SIZES = {
  quick: { targets: [0.1], seeds: 1, epochs: 1, trainCount: 1000, testCount: 500 },
  hour: { targets: [0.01, 0.03, 0.1, 0.3], seeds: 3, epochs: 2 },
  full: { targets: [0.005, 0.01, 0.03, 0.1, 0.3, 0.5], seeds: 3, epochs: 10 },
};
const LOW = 0.03;
// The readout, small beside the LSTM's matrices, gets ten times their connectivity (capped at 1):
// the lstm preset's 9.35 % / 50 % is this split at about 10 %.
const RATIO = [1, 10];

function settings([, features], classes) {
  // The LSTM's input and recurrent matrices (four gates each) share one connectivity entry.
  const positions = [4 * UNITS * (features + UNITS), UNITS * classes];
  return (rule, target, steps) =>
    ruleSettings(rule, { split: splitConnectivity(target, RATIO, positions), target, steps, lr: RECIPE.lr, alpha: ALPHA, noise: NOISE });
}

async function run({ quick, scale, seeds, data: dir, log }) {
  const size = quick ? SIZES.quick : scale === "full" ? SIZES.full : SIZES.hour;
  const data = await sequencesFor({ dir, trainCount: size.trainCount, testCount: size.testCount });
  const shape = data.train.sampleShape, classes = data.train.classes;
  const network = { architecture: "lstm", options: { inputShape: shape, classes, units: UNITS } };
  return connectivitySweep({ network, rules: RULES, size, seeds, data, recipe: RECIPE, settings: settings(shape, classes), log });
}

export default {
  name: "fig2-lstm", title: "Fig. 2 / 3C: an LSTM of 128 units, accuracy against connectivity per rule", run,
  figure: (rows) => sweepFigure(rows, { title: `The lstm (128 units) on ${rows[0].data}`, low: LOW }), summary: sweepSummary,
};
