// Fig. 1B / 3B of Bellec et al. 2018: the cnn (two 5 x 5 convolutions with max-pooling, then two fully
// connected layers; lib/architectures/cnn.ts) against connectivity for DEEP R, soft-DEEP R, fixed
// sparse, pruning, l1-shrinkage and dense. The paper trains it on CIFAR-10, which deepr cannot
// download: here it trains on MNIST, and on CIFAR-10 when --data names a folder holding its binary
// batches (data_batch_1.bin ... test_batch.bin).
import { l1Alpha } from "./lib/baseline-settings.mjs";
import { connectivitySweep, ruleSettings, splitConnectivity, sweepFigure, sweepSummary } from "./lib/connectivity-sweep.mjs";
import { imagesFor } from "./lib/data.mjs";

const RULES = ["deep-r", "soft-deep-r", "fixed", "prune", "l1"];
// The cnn preset's recipe (the README's accuracy table) for every rule: Adam, lr 0.003 on a cosine schedule, batch 32.
const RECIPE = { lr: 0.003, lrSchedule: "cosine", batchSize: 32, optimizer: "adam" };
const ALPHA = 1e-5, NOISE = 1e-5;

const SIZES = {
  quick: { targets: [0.05], seeds: 1, epochs: 1, trainCount: 1000, testCount: 500 },
  hour: { targets: [0.01, 0.02, 0.05, 0.1], seeds: 3, epochs: 2, trainCount: 20000 },
  full: { targets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5], seeds: 3, epochs: 12 },
};
const LOW = 0.02;
// The small first convolution and the readout get more of the budget (as the mlp's 1:3:30 split and
// the cnn presets do): conv1 30c, conv2 3c, the hidden layer c, the readout 20c, each capped at 1.
const RATIO = [30, 3, 1, 20];

/** The possible connections of the cnn's four layers on images of shape [channels, side, side] (5 x 5 kernels, no padding, pooling 2). */
function positions([channels, side]) {
  const pooled = Math.floor((Math.floor((side - 4) / 2) - 4) / 2);
  return [channels * 25 * 32, 32 * 25 * 64, 64 * pooled * pooled * 256, 256 * 10];
}

// l1-shrinkage under Adam: the shrinkage lr·α is applied outside Adam's scaling, so α compares with
// Adam's normalised steps (about 1 for a steady gradient) and is far larger than the mlp's. Measured on
// MNIST with the default size (20,000 samples, 2 epochs, seed 1), α → connectivity reached (test
// accuracy): 0.03 → 58 % (98.6 %), 0.1 → 24.6 % (98.0 %), 0.2 → 8.2 % (96.5 %), 0.3 → 2.44 % (93.3 %),
// 0.45 → 0.80 % (90.5 %), 0.6 → 0.41 % (82.9 %); at α = 1 every weight goes (11 %).
const L1_MEASURED_CNN = [[0.03, 0.58], [0.1, 0.246], [0.2, 0.082], [0.3, 0.0244], [0.45, 0.008], [0.6, 0.0041]];

function settings(shape) {
  return (rule, target, steps) => {
    const split = splitConnectivity(target, RATIO, positions(shape));
    return ruleSettings(rule, { split, target, steps, lr: RECIPE.lr, alpha: ALPHA, noise: NOISE, l1: l1Alpha(target, L1_MEASURED_CNN) });
  };
}

async function run({ quick, scale, seeds, data: dir, log }) {
  const size = quick ? SIZES.quick : scale === "full" ? SIZES.full : SIZES.hour;
  const data = await imagesFor({ dir, trainCount: size.trainCount, testCount: size.testCount });
  const shape = data.train.sampleShape;
  const network = { architecture: "cnn", options: { inputShape: shape, classes: data.train.classes } };
  return connectivitySweep({ network, rules: RULES, size, seeds, data, recipe: RECIPE, settings: settings(shape), log });
}

export default {
  name: "fig1b-cnn", title: "Fig. 1B: the cnn (2 conv + 2 fully connected), accuracy against connectivity per rule", run,
  figure: (rows) => sweepFigure(rows, { title: `The cnn on ${rows[0].data}`, low: LOW }), summary: sweepSummary,
};
