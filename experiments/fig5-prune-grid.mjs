// Fig. 5 of Bellec et al. 2018: the pruning baseline (Han et al. 2015) over its two hyper-parameters,
// the l2 weight decay and the quality factor q (each prune removes |w| <= q·σ), on LeNet-300-100 and
// MNIST: test accuracy and the connectivity reached as two heat maps, which show that the baseline
// the other figures compare with was tuned fairly.
import { figure, heatmap } from "./lib/plot.mjs";
import { ruleSettings, trainRun } from "./lib/connectivity-sweep.mjs";
import { mnist } from "./lib/data.mjs";
import { mean, pct } from "./lib/summary-stats.mjs";

// The fig1 recipe; the prune schedule is fig1's (ruleSettings): dense to 30 % of the steps, 3 prunes 15 % apart, then retraining.
const RECIPE = { lr: 0.5, lrSchedule: "exponential", lrDecay: 0.8, batchSize: 10, optimizer: "sgd" };

const SIZES = {
  quick: { weightDecays: [1e-5, 1e-4], qualities: [0.5, 1], seeds: 1, epochs: 2, trainCount: 3000, testCount: 1000 },
  hour: { weightDecays: [0, 1e-5, 1e-4, 1e-3], qualities: [0.5, 0.75, 1, 1.25, 1.5], seeds: 2, epochs: 10 },
  full: { weightDecays: [0, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3], qualities: [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2], seeds: 3, epochs: 30 },
};

async function run({ quick, scale, seeds, data: dir, log }) {
  const size = quick ? SIZES.quick : scale === "full" ? SIZES.full : SIZES.hour;
  const data = await mnist({ dir, trainCount: size.trainCount, testCount: size.testCount });
  const steps = size.epochs * Math.ceil(data.train.count / RECIPE.batchSize);
  const rows = [];
  for (let seed = 1; seed <= (seeds ?? size.seeds); seed++) {
    for (const weightDecay of size.weightDecays) {
      for (const quality of size.qualities) {
        const s = ruleSettings("prune", { split: [1, 1, 1], steps, quality, weightDecay });
        const structure = s.structure, train = { ...RECIPE, epochs: size.epochs, ...s.train };
        const result = await trainRun({ network: { architecture: "mlp" }, rule: "prune", connectivity: s.connectivity, structure, seed, data, train });
        const row = {
          seed, rule: "prune", weightDecay, quality, hyperparameters: { ...train, ...structure },
          trainSamples: data.train.count, testSamples: data.test.count,
          // A run that diverged has no accuracy: null, and `diverged` says where it stopped.
          testAccuracy: result.diverged ? null : result.epochs.at(-1).testAccuracy, diverged: result.diverged,
          reachedConnectivity: result.connectivity, layerConnectivity: result.layerConnectivity, seconds: result.seconds,
        };
        rows.push(row);
        log(`seed ${seed} weight decay ${weightDecay} quality ${quality}: ${row.diverged ? `diverged (${row.diverged})` : `test ${pct(row.testAccuracy)}`} at ${pct(row.reachedConnectivity)} connectivity, ${row.seconds.toFixed(1)} s`);
      }
    }
  }
  return rows;
}


function figureOf(rows) {
  // A run that diverged has neither accuracy nor a connectivity that pruning made: it is left out,
  // and the title counts it (the summary table gives each cell's count).
  const finished = rows.filter((r) => !r.diverged);
  const cells = finished.map((r) => ({ weightDecay: r.weightDecay, quality: r.quality, accuracy: 100 * r.testAccuracy, connectivity: 100 * r.reachedConnectivity }));
  const seeds = new Set(rows.map((r) => r.seed)).size, diverged = rows.length - finished.length;
  const axes = { data: cells, x: "quality", y: "weightDecay", xTitle: "quality factor q (prune |w| ≤ q·σ)", yTitle: "l2 weight decay λ" };
  return figure(`Pruning (Han et al. 2015) on LeNet-300-100, MNIST: ${rows[0].trainSamples} training samples, mean of ${seeds} seed${seeds > 1 ? "s" : ""}${diverged ? ` (${diverged} of ${rows.length} runs diverged and are left out)` : ""}`, [
    heatmap({ ...axes, value: "accuracy", title: "Test accuracy", valueTitle: "test accuracy (%)", format: ".1f" }),
    heatmap({ ...axes, value: "connectivity", title: "Connectivity reached", valueTitle: "connectivity (%)", format: ".2~r", logColor: true }),
  ]);
}

/** One line per cell, averaged over the seeds that did not diverge. */
function summary(rows) {
  const cells = new Map();
  for (const r of rows) cells.set(`${r.weightDecay} ${r.quality}`, [...(cells.get(`${r.weightDecay} ${r.quality}`) ?? []), r]);
  return [...cells.values()].map((c) => {
    const finished = c.filter((r) => !r.diverged);
    return {
      "weight decay": c[0].weightDecay, quality: c[0].quality,
      "test accuracy": finished.length ? pct(mean(finished.map((r) => r.testAccuracy))) : "–",
      connectivity: finished.length ? pct(mean(finished.map((r) => r.reachedConnectivity))) : "–",
      seeds: c.length, diverged: c.length - finished.length,
    };
  });
}

export default { name: "fig5-prune-grid", title: "Fig. 5: pruning's weight decay × quality factor grid on MNIST", run, figure: figureOf, summary };
