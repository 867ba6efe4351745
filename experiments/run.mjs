#!/usr/bin/env node
// Runs one experiment (or all): node experiments/run.mjs NAME|all [--quick] [--scale full] [--seeds N] [--data DIR]
// Writes experiments/results/<name>[.quick].json and .svg and prints the experiment's summary table.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { resultsPath, writeResults } from "./lib/results.mjs";

const HERE = dirname(fileURLToPath(import.meta.url));
const USAGE = `usage: node experiments/run.mjs NAME|all [--quick] [--scale full] [--seeds N] [--data DIR] [--replot]
  (or npx deepr experiment ...)
  --quick        a small version of each run (seconds), results in experiments/results/NAME.quick.*
  --replot       no training: draw the figure and print the summary of the results already saved
  --scale full   the paper's sizes (longer training, finer grids; hours on 2 cores)
  --seeds N      the number of seeds instead of the experiment's own
  --data DIR     the data set's files (MNIST IDX files; default: the copy bundled with deepr)`;

async function main() {
  if (!existsSync(join(HERE, "..", "dist", "index.js")))
    throw new Error("the experiments run the built package: run `npm run build` first");
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { quick: { type: "boolean" }, scale: { type: "string" }, seeds: { type: "string" }, data: { type: "string" }, replot: { type: "boolean" }, help: { type: "boolean", short: "h" } },
  });
  const experiments = await loadExperiments();
  const names = experiments.map((e) => e.name).join(", ");
  if (values.help || positionals[0] === "help") return console.log(`${USAGE}\nexperiments: ${names}`);
  if (positionals.length !== 1) throw new Error(`${USAGE}\nexperiments: ${names}`);
  if (values.scale !== undefined && values.scale !== "full") throw new Error(`--scale takes only "full" (the paper's sizes), got ${JSON.stringify(values.scale)}`);
  if (values.quick && values.scale) throw new Error("--quick and --scale full contradict each other: give one");
  const seeds = values.seeds === undefined ? undefined : Number(values.seeds);
  if (seeds !== undefined && !(Number.isInteger(seeds) && seeds >= 1)) throw new Error(`--seeds must be a positive integer, got ${values.seeds}`);
  const chosen = positionals[0] === "all" ? experiments : [find(experiments, positionals[0], names)];
  for (const experiment of chosen) await runOne(experiment, { quick: values.quick === true, scale: values.scale, seeds, data: values.data, replot: values.replot === true });
}

// Every experiments/*.mjs but this file, by name, in file order.
async function loadExperiments() {
  const files = readdirSync(HERE).filter((f) => f.endsWith(".mjs") && f !== "run.mjs").sort();
  return Promise.all(files.map(async (f) => (await import(pathToFileURL(join(HERE, f)).href)).default));
}

// By its full name or the part before the first dash ("fig1" for "fig1-mlp").
function find(experiments, name, names) {
  const found = experiments.find((e) => e.name === name) ?? experiments.find((e) => e.name.split("-")[0] === name);
  if (!found) throw new Error(`no experiment named ${JSON.stringify(name)}; the experiments are ${names} (or all)`);
  return found;
}

async function runOne(experiment, options) {
  // Imported after main()'s check for dist/: the plotting module loads the built package.
  const { writeSvg, loadRenderer } = await import("./lib/plot.mjs");
  await loadRenderer();  // a missing vega fails here, before minutes of training
  const log = (line) => console.error(`[${experiment.name}] ${line}`);
  log(`${experiment.title}${options.quick ? " (quick)" : options.scale ? ` (scale ${options.scale})` : ""}`);
  const started = performance.now();
  const json = resultsPath(experiment.name, { quick: options.quick });
  if (options.replot && !existsSync(json)) throw new Error(`--replot draws saved results, and ${json} does not exist: run the experiment first`);
  const rows = options.replot ? JSON.parse(readFileSync(json, "utf8")) : await experiment.run({ ...options, log });
  if (!options.replot) await writeResults(experiment.name, rows, { quick: options.quick });
  // figure() and summary() are optional: an experiment may draw its own SVG inside run().
  const svg = json.replace(/\.json$/, ".svg");
  if (experiment.figure) await writeSvg(svg, experiment.figure(rows, options));
  console.log(`\n${experiment.title}`);
  console.table(experiment.summary ? experiment.summary(rows) : rows);
  if (options.replot) console.log(`${rows.length} runs from ${json}${experiment.figure ? `; drew ${svg}` : ""}`);
  else console.log(`${rows.length} runs in ${((performance.now() - started) / 1000).toFixed(0)} s; wrote ${json}${experiment.figure ? ` and ${svg}` : ""}`);
}

main().catch((e) => {
  console.error(`experiments: ${e instanceof Error ? e.message : e}`);
  process.exitCode = 1;
});
