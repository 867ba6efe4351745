// Fig. 1A / 3A of Bellec et al. 2018: LeNet-300-100 on MNIST, test accuracy against connectivity for
// DEEP R, soft-DEEP R, fixed sparse, pruning, l1-shrinkage and dense; beside it the accuracy over the
// steps at one low connectivity, and the connectivity over the steps of one run per rule.
import { figure, lineChart } from "./lib/plot.mjs";
import { l1Alpha, pruneQuality } from "./lib/baseline-settings.mjs";
import { layerSplit, mnist, overallConnectivity, trainMlp } from "./lib/mnist-mlp.mjs";
import { median, pct } from "./lib/summary-stats.mjs";

const RULES = ["deep-r", "soft-deep-r", "fixed", "prune", "l1"];
const PRUNE_TIMES = 3;
// The reference script's recipe, for every rule: plain SGD, lr 0.5 decayed by 0.8 per epoch, batch 10.
export const RECIPE = { lr: 0.5, lrSchedule: "exponential", lrDecay: 0.8, batchSize: 10, optimizer: "sgd" };
const ALPHA = 1e-5, NOISE = 1e-5;

// Overall connectivities (the 1:3:30 split of the reference code); the iteration panels use LOW.
const SIZES = {
  quick: { targets: [0.01, 0.05], seeds: 1, epochs: 2, trainCount: 3000, testCount: 1000 },
  hour: { targets: [0.005, 0.01, 0.02, 0.05, 0.1, 0.2], seeds: 3, epochs: 10 },
  full: { targets: [0.003, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5], seeds: 3, epochs: 30 },
};
const LOW = 0.01;

/** Each rule's model settings and fit options for the overall target connectivity, given the steps of the run. */
export function settings(rule, target, steps) {
  const split = layerSplit(target);
  switch (rule) {
    case "deep-r":
    case "fixed":
      return { connectivity: split, structure: {}, train: { alpha: rule === "deep-r" ? ALPHA : 0, noise: rule === "deep-r" ? NOISE : 0 } };
    case "soft-deep-r":
      // beta = alpha / T with T = lr·noise²/2, as the authors' soft-DEEP R script sets it.
      return { connectivity: split, structure: { beta: (2 * ALPHA) / (RECIPE.lr * NOISE ** 2) }, train: { alpha: ALPHA, noise: NOISE } };
    case "prune":
      // Dense training to 30 % of the steps, a prune every 15 %, the last 40 % retraining the survivors.
      return {
        connectivity: [1, 1, 1],
        structure: { pruneStart: Math.round(0.3 * steps), pruneEvery: Math.round(0.15 * steps), pruneTimes: PRUNE_TIMES, quality: pruneQuality(target, PRUNE_TIMES) },
        train: { alpha: 0, noise: 0, weightDecay: 1e-4 },
      };
    case "l1":
      // Shrinkage to 40 % of the steps, then the zeroed weights go and the rest retrain.
      return { connectivity: [1, 1, 1], structure: { pruneStart: Math.round(0.4 * steps) }, train: { alpha: l1Alpha(target), noise: 0 } };
    case "dense":
      return { connectivity: undefined, structure: {}, train: { alpha: 0, noise: 0 } };
  }
}

async function run({ quick, scale, seeds, data: dir, log }) {
  const size = quick ? SIZES.quick : scale === "full" ? SIZES.full : SIZES.hour;
  const data = await mnist({ dir, trainCount: size.trainCount, testCount: size.testCount });
  const batches = Math.ceil(data.train.count / RECIPE.batchSize), steps = size.epochs * batches;
  const traceEvery = Math.max(1, Math.round(steps / 100));
  const runs = [...size.targets.flatMap((target) => RULES.map((rule) => ({ rule, target }))), { rule: "dense", target: 1 }];
  const rows = [];
  for (let seed = 1; seed <= (seeds ?? size.seeds); seed++) {
    for (const { rule, target } of runs) {
      const s = settings(rule, target, steps);
      const train = { ...RECIPE, epochs: size.epochs, ...s.train };
      const result = await trainMlp({ rule, connectivity: s.connectivity, structure: s.structure, seed, data, train, traceEvery });
      const last = result.epochs.at(-1);
      const reached = rule === "dense" ? 1 : overallConnectivity(last.layers);
      const row = {
        seed, rule, targetConnectivity: target, layerConnectivity: s.connectivity ?? [1, 1, 1],
        hyperparameters: { ...train, ...s.structure }, trainSamples: data.train.count, testSamples: data.test.count,
        testAccuracy: last.testAccuracy, reachedConnectivity: reached,
        maxConnectivity: rule === "dense" ? 1 : last.maxConnectivity,
        // soft-DEEP R is plotted at the highest connectivity it reached, as in the paper.
        plotConnectivity: rule === "soft-deep-r" ? last.maxConnectivity : reached,
        curve: result.epochs.map((e) => ({ step: e.epoch * batches, testAccuracy: e.testAccuracy, connectivity: rule === "dense" ? 1 : overallConnectivity(e.layers) })),
        trace: rule === "dense" ? [] : result.trace,
        seconds: result.seconds,
      };
      rows.push(row);
      log(`seed ${seed} ${rule} at ${pct(target)}: test ${pct(row.testAccuracy)} at ${pct(row.plotConnectivity)} connectivity, ${row.seconds.toFixed(1)} s`);
    }
  }
  return rows;
}


function figureOf(rows) {
  const points = rows.map((r) => ({ rule: r.rule, connectivity: 100 * r.plotConnectivity, target: r.targetConnectivity, accuracy: 100 * r.testAccuracy }));
  // A rule's x is the median reached connectivity of its runs at one target (prune and l1 land near it, not on it).
  const medianX = new Map();
  for (const p of points) {
    const key = `${p.rule}@${p.target}`;
    medianX.set(key, [...(medianX.get(key) ?? []), p.connectivity]);
  }
  const placed = points.map((p) => ({ ...p, connectivity: median(medianX.get(`${p.rule}@${p.target}`)) }));
  const low = rows.filter((r) => r.targetConnectivity === LOW || r.rule === "dense");
  const overSteps = low.flatMap((r) => r.curve.map((c) => ({ rule: r.rule, step: c.step, accuracy: 100 * c.testAccuracy })));
  const oneRun = low.filter((r) => r.seed === 1).flatMap((r) => (r.rule === "dense" ? [{ step: 0, connectivity: 1 }, ...r.curve] : r.trace).map((t) => ({ rule: r.rule, step: t.step, connectivity: 100 * t.connectivity })));
  const seeds = new Set(rows.map((r) => r.seed)).size;
  return figure(`LeNet-300-100 on MNIST (${rows[0].trainSamples} training samples, ${seeds} seed${seeds > 1 ? "s" : ""}: median, range shaded)`, [
    lineChart({ data: placed, x: "connectivity", y: "accuracy", color: "rule", title: "Test accuracy against connectivity", xTitle: "connectivity (% of possible connections, log)", yTitle: "test accuracy (%)", colorTitle: "rule", logX: true,
      // Room for the dense runs' points at 100 %.
      xDomain: [Math.min(...placed.map((p) => p.connectivity)) / 1.5, 150] }),
    lineChart({ data: overSteps, x: "step", y: "accuracy", color: "rule", title: `Test accuracy over training at ${pct(LOW)} target`, xTitle: "step (batches of 10)", yTitle: "test accuracy (%)", colorTitle: "rule" }),
    lineChart({ data: oneRun, x: "step", y: "connectivity", color: "rule", band: false, points: false, title: `Connectivity over training (seed 1, ${pct(LOW)} target)`, xTitle: "step (batches of 10)", yTitle: "connectivity (%, log)", colorTitle: "rule", logY: true }),
  ]);
}

/** Per rule and target: the median test accuracy and reached connectivity over the seeds. */
function summary(rows) {
  const groups = new Map();
  for (const r of rows) groups.set(`${r.rule} ${r.targetConnectivity}`, [...(groups.get(`${r.rule} ${r.targetConnectivity}`) ?? []), r]);
  return [...groups.values()].map((g) => ({
    rule: g[0].rule, target: pct(g[0].targetConnectivity),
    connectivity: pct(median(g.map((r) => r.plotConnectivity))),
    "test accuracy": pct(median(g.map((r) => r.testAccuracy))),
    seeds: g.length, "seconds each": median(g.map((r) => r.seconds)).toFixed(1),
  }));
}

export default { name: "fig1-mlp", title: "Fig. 1A: MNIST LeNet-300-100, accuracy against connectivity per rule", run, figure: figureOf, summary };
