// One run of the transfer experiment (Bellec et al. 2018, sec. 4): a network trains on MNIST for
// a number of epochs, each epoch a new task whose labels are a fresh random permutation of the 10
// classes (the first epoch the original labels), without any reset between tasks. After every
// epoch it records the test accuracy under that epoch's permutation and, per layer, what changed
// since the epoch before: the weights' and the activities' correlation and the connections
// created and removed; and per hidden layer the units silent on every probe input. How fast a new
// task is picked up shows in the training accuracy of its first batches.
import { Model, architecture } from "../../dist/index.js";
import { layerActivations } from "./activations.mjs";
import { labelPermutation, permuteLabels } from "./label-permutation.mjs";
import { connectionChanges, correlation, silentUnits, weightCorrelation } from "./transfer-metrics.mjs";

/** The batches at the start of each task whose training accuracy the row reports as `earlyAccuracy`. */
export const EARLY_BATCHES = 100;

/**
 * Trains the mlp under `rule` with seed `seed` for `epochs` tasks of one epoch each on `train`,
 * evaluating on `test`, with the activities measured on `probe` (samples with inputs and count);
 * `trainOptions` are fit()'s. Returns one row per epoch; `seconds` is its wall time, training and
 * measurements together. `log` hears of every tenth epoch and the last.
 */
export async function transferRun({ rule, seed, epochs, train, test, probe, trainOptions, log = () => {} }) {
  const model = Model.create({ ...architecture("mlp", { rule }), rule, seed });
  try {
    let before = await model.exportLayers();
    let activityBefore = layerActivations(before, probe.inputs, probe.count);
    const rows = [];
    for (let epoch = 1; epoch <= epochs; epoch++) {
      const permutation = labelPermutation(seed, epoch);
      const started = performance.now();
      let early = 0, earlyBatches = 0;
      const [stats] = await model.fit(
        { ...train, labels: permuteLabels(train.labels, permutation) },
        {
          ...trainOptions, epochs: epoch, validation: { ...test, labels: permuteLabels(test.labels, permutation) },
          onBatchEnd: ({ batch, accuracy }) => { if (batch < EARLY_BATCHES) { early += accuracy; earlyBatches++; } },
        },
      );
      const after = await model.exportLayers();
      const activityAfter = layerActivations(after, probe.inputs, probe.count);
      rows.push({
        rule, seed, epoch,
        permutation: [...permutation],
        testAccuracy: stats.testAccuracy,
        trainAccuracy: stats.trainAccuracy,
        earlyAccuracy: early / earlyBatches,
        loss: stats.loss,
        layers: after.map((layer, l) => ({
          weightCorrelation: weightCorrelation(before[l], layer),
          activityCorrelation: correlation(activityBefore[l], activityAfter[l]),
          ...connectionChanges(before[l], layer),
          regrown: stats.layers[l].rewired,
          active: stats.layers[l].active,
          ...(l < after.length - 1 ? { silentUnits: silentUnits(activityAfter[l], layer.outputs) } : {}),
        })),
        seconds: (performance.now() - started) / 1000,
      });
      if (epoch % 10 === 0 || epoch === epochs) log(`fig4 ${rule} seed ${seed} epoch ${epoch}: test accuracy ${(100 * stats.testAccuracy).toFixed(2)} %`);
      before = after;
      activityBefore = activityAfter;
    }
    return rows;
  } finally {
    model.dispose();
  }
}
