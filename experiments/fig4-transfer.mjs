// Fig. 4 of Bellec et al. 2018 (sec. 4), transfer learning: the mlp trains on MNIST whose 10
// labels are permuted anew after every epoch, under DEEP R and with rewiring off (rule "fixed":
// the same initial connections, signs and SGD steps, but no connection is ever created or removed;
// experiments/README.md says why that is the honest control). Four panels over the epochs, the
// median over seeds with the min-max range shaded: test accuracy under the current permutation;
// per layer the correlation of the weights and of the activities on a fixed probe set with the
// epoch before; and DEEP R's connections created and removed per layer. Two more: the training
// accuracy of each task's first batches (how fast it is picked up), and the hidden units no probe
// input drives any more.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadMnist } from "../dist/index.js";
import { firstSamples } from "./lib/data.mjs";
import { lineChart, writeSvg } from "./lib/plot.mjs";
import { median, pct } from "./lib/summary-stats.mjs";
import { EARLY_BATCHES, transferRun } from "./lib/transfer-run.mjs";

const name = "fig4-transfer";
const title = "Fig. 4: transfer learning, MNIST labels permuted after every epoch, DEEP R against rewiring off";

// The legend's names (the charts' titles say that "fixed" is rewiring off).
const RULES = { "deep-r": "DEEP R", fixed: "fixed" };

// The reference script's network (1 / 3 / 30 % connectivity, no biases) and SGD at batch 10, its
// alpha and noise, with its initial learning rate held constant: every task gets the same step size.
const TRAIN_OPTIONS = { lr: 0.5, lrSchedule: "exponential", lrDecay: 1, batchSize: 10, alpha: 1e-5, noise: 1e-5 };

/** Epochs (= tasks) and samples: quick for tests, the default to fit an hour on 2 cores, full for bigger machines. */
function sizes(quick, scale) {
  if (quick) return { seeds: 2, epochs: 5, train: 10000, test: 2000, probe: 200 };
  if (scale === "full") return { seeds: 5, epochs: 300, train: 60000, test: 10000, probe: 1000 };
  return { seeds: 5, epochs: 100, train: 60000, test: 10000, probe: 1000 };
}

async function run({ quick = false, scale, seeds, data, log = () => {} } = {}) {
  const size = sizes(quick, scale);
  const seedList = Array.isArray(seeds) ? seeds : Array.from({ length: seeds ?? size.seeds }, (_, n) => n + 1);
  const mnist = await loadMnist(data);
  const train = firstSamples(mnist.train, size.train), test = firstSamples(mnist.test, size.test);
  // The activities are measured on the last samples of the test split, the same inputs after every epoch.
  const probe = { inputs: mnist.test.inputs.subarray((mnist.test.count - size.probe) * mnist.test.features), count: size.probe };
  const settings = { ...TRAIN_OPTIONS, epochs: size.epochs, trainSamples: train.count, testSamples: test.count, probeSamples: probe.count };
  const rows = [];
  for (const seed of seedList)
    for (const rule of Object.keys(RULES)) {
      const runs = await transferRun({ rule, seed, epochs: size.epochs, train, test, probe, trainOptions: TRAIN_OPTIONS, log });
      rows.push(...runs.map((row) => ({ experiment: name, ...settings, ...row })));
    }
  const suffix = quick ? ".quick" : "";
  const results = fileURLToPath(new URL("./results/", import.meta.url));
  await mkdir(results, { recursive: true });
  for (const [panel, spec] of Object.entries(panels(rows))) await writeSvg(join(results, `${name}-${panel}${suffix}.svg`), spec);
  return rows;
}

/** The charts' Vega-Lite specs, by the file name suffix they are written under; lineChart takes the median and range over the seeds. */
function panels(rows) {
  const chart = (data, color, colorTitle, title, yTitle) =>
    lineChart({ data, x: "epoch", y: "value", color, colorTitle, title, xTitle: "epoch (a new label permutation each)", yTitle });
  const perLayer = (field) => rows.flatMap((row) => row.layers.map((l, n) => ({ epoch: row.epoch, seed: row.seed, series: `${RULES[row.rule]}, layer ${n + 1}`, value: l[field] })));
  return {
    accuracy: chart(rows.map((row) => ({ epoch: row.epoch, seed: row.seed, rule: RULES[row.rule], value: 100 * row.testAccuracy })), "rule", "fixed: no rewiring",
      "Test accuracy under each epoch's permutation", "test accuracy (%)"),
    // How fast each new task is learnt: the paper reports faster recovery after each permutation than on the first task.
    "early-accuracy": chart(rows.map((row) => ({ epoch: row.epoch, seed: row.seed, rule: RULES[row.rule], value: 100 * row.earlyAccuracy })), "rule", "fixed: no rewiring",
      `Training accuracy in each task's first ${EARLY_BATCHES} batches`, "training accuracy (%)"),
    "weight-correlation": chart(perLayer("weightCorrelation"), "series", "fixed: no rewiring", "Weights: correlation with the epoch before", "weight correlation (Pearson r)"),
    "activity-correlation": chart(perLayer("activityCorrelation"), "series", "fixed: no rewiring", "Activity: correlation with the epoch before", "activity correlation (Pearson r)"),
    // Under a layer budget every created connection replaces a removed one; fixed creates none.
    rewiring: chart(
      rows.filter((row) => row.rule === "deep-r").flatMap((row) => row.layers.map((l, n) => ({ epoch: row.epoch, seed: row.seed, layer: `layer ${n + 1}`, value: (100 * l.created) / l.active }))),
      "layer", "DEEP R", "DEEP R: connections replaced per epoch", "created (= removed), % of the layer's K",
    ),
    // Not one of the paper's panels: dead ReLU units, which with fixed connections cannot learn again.
    "silent-units": chart(
      rows.flatMap((row) => row.layers.slice(0, -1).map((l, n) => ({ epoch: row.epoch, seed: row.seed, series: `${RULES[row.rule]}, layer ${n + 1}`, value: 100 * l.silentUnits }))),
      "series", "fixed: no rewiring", "Hidden units silent on every probe input", "silent units (% of the layer)",
    ),
  };
}

/** Per rule: the last task's test accuracy (median over the seeds) and its first 100 batches' training accuracy. */
function summary(rows) {
  const last = Math.max(...rows.map((r) => r.epoch));
  return Object.entries(RULES).map(([rule, label]) => {
    const final = rows.filter((r) => r.rule === rule && r.epoch === last);
    return { rule: label, epoch: last, "test accuracy": pct(median(final.map((r) => r.testAccuracy))), "early accuracy": pct(median(final.map((r) => r.earlyAccuracy))), seeds: final.length };
  });
}

// The experiment, as experiments/run.mjs loads it; run() draws its own panels (one SVG each).
export default { name, title, run, summary };
