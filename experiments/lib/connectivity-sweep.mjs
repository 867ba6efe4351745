// The accuracy-against-connectivity experiments (Fig. 1A / 3A, 1B / 3B, 2 / 3C of Bellec et al. 2018):
// every rule at every target connectivity, and the dense network, once per seed. Each run records its
// test accuracy, the connectivity it reached (soft-DEEP R is plotted at the highest it reached, as in
// the paper), its test accuracy after each epoch and its overall connectivity every 1 % of the steps.
// The figure and the summary table the three experiments share are here too.
import { architecture, Model, NonFiniteError } from "../../dist/index.js";
import { pruneQuality } from "./baseline-settings.mjs";
import { figure, lineChart } from "./plot.mjs";
import { median, pct } from "./summary-stats.mjs";

/**
 * The per-entry connectivities min(1, ratios[l]·c) whose overall connectivity is `overall`, where
 * `positions[l]` counts the possible connections of connectivity entry l: bisection on c.
 */
export function splitConnectivity(overall, ratios, positions) {
  if (overall >= 1) return ratios.map(() => 1);
  const total = positions.reduce((a, b) => a + b);
  const overallOf = (c) => ratios.reduce((sum, r, l) => sum + Math.min(1, r * c) * positions[l], 0) / total;
  let lo = 0, hi = 1 / Math.min(...ratios);
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (overallOf(mid) < overall) lo = mid;
    else hi = mid;
  }
  return ratios.map((r) => Math.min(1, r * hi));
}

/** Active connections over possible ones, over every sparse store of `layers` (EpochStats.layers or LayerInfo[]). */
export function overallConnectivity(layers) {
  const active = layers.reduce((sum, l) => sum + l.active, 0);
  const positions = layers.reduce((sum, l) => sum + (l.positions ?? l.inputs * l.outputs), 0);
  return active / positions;
}

const PRUNE_TIMES = 3;

/**
 * A rule's model settings and fit options at one overall `target`, for a run of `steps` steps with
 * the recipe's learning rate `lr`: DEEP R and fixed start at the per-entry `split` and keep it;
 * soft-DEEP R starts there with DEEP R's α and noise and β = α/T, T = lr·noise²/2, as the authors'
 * soft-DEEP R script sets it; pruning (Han et al. 2015) and l1-shrinkage start dense. Pruning trains
 * densely to 30 % of the steps, prunes every 15 % (3 times, q from the target) and retrains for the
 * last 40 %, with weight decay 1e-4 (or `weightDecay`; `quality` in place of the target's q, for
 * fig5's grid); l1 shrinks by lr·`l1` per step to 40 % of the steps, then its zeroed weights go and
 * the rest retrain. The dense network records its per-entry connectivity, all ones, as
 * `layerConnectivity`.
 */
export function ruleSettings(rule, { split, target, steps, lr, alpha, noise, l1, quality, weightDecay = 1e-4 }) {
  const dense = split.map(() => 1);
  switch (rule) {
    case "deep-r":
      return { connectivity: split, structure: {}, train: { alpha, noise } };
    case "fixed":
      return { connectivity: split, structure: {}, train: { alpha: 0, noise: 0 } };
    case "soft-deep-r":
      return { connectivity: split, structure: { beta: (2 * alpha) / (lr * noise ** 2) }, train: { alpha, noise } };
    case "prune":
      return {
        connectivity: dense,
        structure: {
          pruneStart: Math.round(0.3 * steps), pruneEvery: Math.round(0.15 * steps), pruneTimes: PRUNE_TIMES,
          quality: quality ?? pruneQuality(target, PRUNE_TIMES),
        },
        train: { alpha: 0, noise: 0, weightDecay },
      };
    case "l1":
      return { connectivity: dense, structure: { pruneStart: Math.round(0.4 * steps) }, train: { alpha: l1, noise: 0 } };
    case "dense":
      return { connectivity: undefined, layerConnectivity: dense, structure: {}, train: { alpha: 0, noise: 0 } };
  }
  throw new Error(`no settings for rule ${rule}`);
}

/**
 * Trains one network: the ready-made architecture `network.architecture` (with `network.options`)
 * under `rule`, its per-entry `connectivity` (undefined for rule "dense"), the rule's model settings
 * `structure` (prune schedule, beta) and fit options `train`. Every `traceEvery` steps the overall
 * connectivity is recorded (the iteration panels). Returns the stats of the epochs it finished, the
 * trace, the wall seconds, the connectivity it ended at (overall and per sparse store), and `diverged`: null, or the message of the
 * NonFiniteError that stopped it (a learning rate too high for the rule: the sweep records the run
 * and goes on).
 */
export async function trainRun({ network, rule, connectivity, structure = {}, seed, data, train, traceEvery }) {
  const options = { ...network.options, rule, ...(connectivity === undefined ? {} : { connectivity }) };
  const model = Model.create({ ...architecture(network.architecture, options), rule, seed, ...structure });
  const trace = [], epochs = [];
  const batches = Math.ceil(data.train.count / train.batchSize);
  const started = performance.now();
  let diverged = null;
  try {
    await model.fit(data.train, {
      ...train,
      validation: data.test,
      onEpochEnd: (stats) => { epochs.push(stats); },
      onBatchEnd: traceEvery === undefined ? undefined : (b) => {
        const step = b.epoch * batches + b.batch + 1;  // b.epoch counts from 0
        if (step % traceEvery === 0) trace.push({ step, connectivity: overallConnectivity(model.layers()) });
      },
    });
  } catch (e) {
    if (!(e instanceof NonFiniteError)) throw e;
    diverged = e.message;
  }
  const layers = model.layers();
  const layerConnectivity = layers.map((l) => l.active / (l.inputs * l.outputs));
  return { epochs, trace, batches, seconds: (performance.now() - started) / 1000, connectivity: overallConnectivity(layers), layerConnectivity, diverged };
}

/**
 * The sweep: for each seed, every rule of `rules` at every target of `size.targets` (or of
 * `size.targetsOf[rule]` where given), then the dense network. `settings(rule, target, steps)` gives
 * a run's per-entry connectivity, structure settings and fit options (over `recipe`); `size` has the
 * targets, seeds and epochs. One row per run.
 */
export async function connectivitySweep({ network, rules, size, seeds, data, recipe, settings, log }) {
  const batches = Math.ceil(data.train.count / recipe.batchSize), steps = size.epochs * batches;
  const traceEvery = Math.max(1, Math.round(steps / 100));
  const runs = [
    ...size.targets.flatMap((target) => rules.filter((rule) => (size.targetsOf?.[rule] ?? size.targets).includes(target)).map((rule) => ({ rule, target }))),
    { rule: "dense", target: 1 },
  ];
  const rows = [];
  for (let seed = 1; seed <= (seeds ?? size.seeds); seed++) {
    for (const { rule, target } of runs) {
      const s = settings(rule, target, steps);
      const train = { ...recipe, epochs: size.epochs, ...s.train };
      const result = await trainRun({ network, rule, connectivity: s.connectivity, structure: s.structure, seed, data, train, traceEvery });
      const last = result.epochs.at(-1);
      const reached = rule === "dense" ? 1 : result.diverged ? result.connectivity : overallConnectivity(last.layers);
      const maxConnectivity = rule === "dense" ? 1 : result.diverged ? Math.max(result.connectivity, ...result.trace.map((t) => t.connectivity)) : last.maxConnectivity;
      const row = {
        ...(data.name === undefined ? {} : { data: data.name }),
        seed, rule, targetConnectivity: target, layerConnectivity: s.connectivity ?? s.layerConnectivity,
        hyperparameters: { ...train, ...s.structure }, trainSamples: data.train.count, testSamples: data.test.count,
        // A run that diverged has no accuracy: null, and `diverged` says where it stopped.
        testAccuracy: result.diverged ? null : last.testAccuracy, diverged: result.diverged, reachedConnectivity: reached, maxConnectivity,
        // soft-DEEP R is plotted at the highest connectivity it reached, as in the paper.
        plotConnectivity: rule === "soft-deep-r" ? maxConnectivity : reached,
        curve: result.epochs.map((e) => ({ step: e.epoch * batches, testAccuracy: e.testAccuracy, connectivity: rule === "dense" ? 1 : overallConnectivity(e.layers) })),
        trace: rule === "dense" ? [] : result.trace,
        seconds: result.seconds,
      };
      rows.push(row);
      log(`seed ${seed} ${rule} at ${pct(target)}: ${row.diverged ? `diverged (${row.diverged})` : `test ${pct(row.testAccuracy)}`} at ${pct(row.plotConnectivity)} connectivity, ${row.seconds.toFixed(1)} s`);
    }
  }
  return rows;
}

/**
 * Four panels: (top left) median test accuracy against connectivity (log axis) per rule, the range
 * over the seeds shaded; (top right) the same from one point under DEEP R's lowest median up, where
 * the rules differ (lower values are drawn on the bottom edge: runs that collapsed stay visible);
 * (bottom left) test accuracy after each epoch at the target `low`, on the same zoom; (bottom right)
 * the overall connectivity over the steps of seed 1 at `low`. `title` names the network and data.
 */
export function sweepFigure(rows, { title, low }) {
  // Diverged runs have no accuracy; the summary table counts them.
  const points = rows.filter((r) => !r.diverged).map((r) => ({ rule: r.rule, connectivity: 100 * r.plotConnectivity, target: r.targetConnectivity, accuracy: 100 * r.testAccuracy }));
  // A rule's x is the median reached connectivity of its runs at one target (prune and l1 land near it, not on it).
  const byTarget = (p) => `${p.rule}@${p.target}`;
  const groups = new Map();
  for (const p of points) groups.set(byTarget(p), [...(groups.get(byTarget(p)) ?? []), p]);
  const placed = points.map((p) => ({ ...p, connectivity: median(groups.get(byTarget(p)).map((q) => q.connectivity)) }));
  const deepR = [...groups.values()].filter((g) => g[0].rule === "deep-r").map((g) => median(g.map((p) => p.accuracy)));
  const zoom = [Math.max(0, Math.floor(Math.min(...deepR)) - 1), 100];
  const lowRows = rows.filter((r) => r.targetConnectivity === low || r.rule === "dense");
  const overSteps = lowRows.flatMap((r) => r.curve.map((c) => ({ rule: r.rule, step: c.step, accuracy: 100 * c.testAccuracy })));
  const oneRun = lowRows.filter((r) => r.seed === 1).flatMap((r) => (r.rule === "dense" ? [{ step: 0, connectivity: 1 }, ...r.curve] : r.trace).map((t) => ({ rule: r.rule, step: t.step, connectivity: 100 * t.connectivity })));
  const seeds = new Set(rows.map((r) => r.seed)).size;
  const stepUnit = `step (batches of ${rows[0].hyperparameters.batchSize})`;
  const accuracyAxes = { x: "connectivity", y: "accuracy", color: "rule", xTitle: "connectivity (% of possible connections, log)", yTitle: "test accuracy (%)", colorTitle: "rule", logX: true,
    // Room for the dense runs' points at 100 %.
    xDomain: [Math.min(...placed.map((p) => p.connectivity)) / 1.5, 150] };
  return figure(`${title} (${rows[0].trainSamples} training samples, ${seeds} seed${seeds > 1 ? "s" : ""}: median, range shaded)`, [
    lineChart({ ...accuracyAxes, data: placed, title: "Test accuracy against connectivity" }),
    lineChart({ ...accuracyAxes, data: placed, title: `The same from ${zoom[0]} % (lower values on the bottom edge)`, yDomain: zoom }),
    lineChart({ data: overSteps, x: "step", y: "accuracy", color: "rule", title: `Test accuracy over training at ${pct(low)} target (from ${zoom[0]} %)`, xTitle: stepUnit, yTitle: "test accuracy (%)", colorTitle: "rule", yDomain: zoom }),
    lineChart({ data: oneRun, x: "step", y: "connectivity", color: "rule", band: false, points: false, title: `Connectivity over training (seed 1, ${pct(low)} target)`, xTitle: stepUnit, yTitle: "connectivity (%, log)", colorTitle: "rule", logY: true }),
  ], 2);
}

/** Per rule and target: the median test accuracy (over the seeds that did not diverge) and reached connectivity. */
export function sweepSummary(rows) {
  const groups = new Map();
  for (const r of rows) groups.set(`${r.rule} ${r.targetConnectivity}`, [...(groups.get(`${r.rule} ${r.targetConnectivity}`) ?? []), r]);
  return [...groups.values()].map((g) => {
    const finished = g.filter((r) => !r.diverged);
    return {
      rule: g[0].rule, target: pct(g[0].targetConnectivity),
      connectivity: pct(median(g.map((r) => r.plotConnectivity))),
      "test accuracy": finished.length ? pct(median(finished.map((r) => r.testAccuracy))) : "–",
      seeds: g.length, diverged: g.length - finished.length, "seconds each": median(g.map((r) => r.seconds)).toFixed(1),
    };
  });
}
