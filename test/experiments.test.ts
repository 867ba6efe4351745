// The experiments (experiments/): every one runs with --quick in under two minutes in all and writes
// results that parse and an SVG figure; the plotting module renders titled axes, and says how to
// install vega when it is missing; `deepr experiment` forwards to the runner. Accuracies are not checked here: the quick runs are too small.
import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { figure, heatmap, lineChart } from "../lib/plot/charts.js";
import { renderSvg } from "../lib/plot/render.js";
import { ensureBuilt, root, scratch } from "./helpers/child.js";
import { deepr } from "./helpers/cli.js";

const experimentsDir = join(root, "experiments");

describe("the experiments", () => {
  it("all run with --quick in under two minutes and write results that parse and an SVG", async () => {
    ensureBuilt();
    const files = readdirSync(experimentsDir).filter((f) => f.endsWith(".mjs") && f !== "run.mjs");
    const experiments = await Promise.all(files.map(async (f) => (await import(pathToFileURL(join(experimentsDir, f)).href)).default));
    expect(experiments.map((e) => e.name)).toEqual(expect.arrayContaining(["fig1-mlp", "fig1b-cnn", "fig2-lstm", "fig4-transfer", "fig5-prune-grid"]));

    const started = performance.now();
    const { stdout } = await promisify(execFile)(process.execPath, [join(experimentsDir, "run.mjs"), "all", "--quick"], { cwd: root, maxBuffer: 1 << 24 });
    expect((performance.now() - started) / 1000).toBeLessThan(120);

    const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    for (const { name, title } of experiments) {
      expect(stdout).toContain(title);
      const rows = JSON.parse(readFileSync(join(experimentsDir, "results", `${name}.quick.json`), "utf8"));
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row).toMatchObject({ experiment: name, deeprVersion: version, hardware: { cores: expect.any(Number) } });
        expect(row.seed).toBeGreaterThanOrEqual(1);
        expect(row.commit).toMatch(/^([0-9a-f]{40}(-dirty)?|unknown)/);
        expect(row.seconds).toBeGreaterThan(0);
      }
      const svg = join(experimentsDir, "results", `${name}.quick.svg`);
      if (existsSync(svg)) expect(readFileSync(svg, "utf8")).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>$/);
    }
    // The sweeps and fig5 draw through run.mjs: their figures exist.
    for (const name of ["fig1-mlp", "fig1b-cnn", "fig2-lstm", "fig5-prune-grid"]) expect(existsSync(join(experimentsDir, "results", `${name}.quick.svg`))).toBe(true);

    // --replot draws the saved results again without training.
    const fig5Svg = join(experimentsDir, "results", "fig5-prune-grid.quick.svg");
    rmSync(fig5Svg);
    const replotted = await promisify(execFile)(process.execPath, [join(experimentsDir, "run.mjs"), "fig5", "--quick", "--replot"], { cwd: root });
    expect(replotted.stdout).toContain("runs from");
    expect(readFileSync(fig5Svg, "utf8")).toMatch(/^<svg[^>]*>[\s\S]*<\/svg>$/);

    // The sweeps run every rule and record the connectivity each reached: DEEP R and fixed exactly at their budget.
    const sweeps = { "fig1-mlp": ["deep-r", "soft-deep-r", "fixed", "prune", "l1", "dense"], "fig1b-cnn": ["deep-r", "soft-deep-r", "fixed", "prune", "l1", "dense"], "fig2-lstm": ["deep-r", "soft-deep-r", "fixed", "dense"] };
    for (const [name, rules] of Object.entries(sweeps)) {
      const rows = JSON.parse(readFileSync(join(experimentsDir, "results", `${name}.quick.json`), "utf8"));
      expect(new Set(rows.map((r: { rule: string }) => r.rule))).toEqual(new Set(rules));
      for (const r of rows) {
        expect(r.reachedConnectivity).toBeGreaterThan(0);
        expect(r.reachedConnectivity).toBeLessThanOrEqual(1);
        // The hard budget: K rounded per layer from the split of the target.
        if (r.rule === "deep-r" || r.rule === "fixed") expect(r.reachedConnectivity).toBeCloseTo(r.targetConnectivity, 3);
        if (r.rule === "soft-deep-r") expect(r.plotConnectivity).toBe(r.maxConnectivity);
        // Every row records one connectivity per entry of the split; the dense network's are all ones.
        const entries = rows.find((d: { rule: string }) => d.rule === "deep-r").layerConnectivity.length;
        expect(r.layerConnectivity).toHaveLength(entries);
        if (r.rule === "dense") expect(r.layerConnectivity).toEqual(Array(entries).fill(1));
        // The sweeps that choose their data set name it on every row.
        if (name !== "fig1-mlp") expect(r.data).toBe(name === "fig2-lstm" ? "sequential MNIST" : "MNIST");
      }
    }
    // fig5 trains fig1's prune schedule, with each cell's quality and weight decay.
    for (const r of JSON.parse(readFileSync(join(experimentsDir, "results", "fig5-prune-grid.quick.json"), "utf8"))) {
      expect(r.hyperparameters).toMatchObject({ quality: r.quality, weightDecay: r.weightDecay, pruneTimes: 3, alpha: 0, noise: 0 });
    }
  }, 150_000);
});

describe("a run of the sweeps", () => {
  it("that diverges is recorded with the error's message and the epochs it finished, so the sweep goes on", async () => {
    ensureBuilt();
    const { trainRun } = await import(pathToFileURL(join(experimentsDir, "lib", "connectivity-sweep.mjs")).href);
    const { mnist } = await import(pathToFileURL(join(experimentsDir, "lib", "data.mjs")).href);
    const data = await mnist({ trainCount: 500, testCount: 100 });
    const train = { batchSize: 10, epochs: 2, optimizer: "sgd", alpha: 0, noise: 0 };
    const run = (lr: number) => trainRun({ network: { architecture: "mlp" }, rule: "fixed", connectivity: [0.05, 0.1, 0.5], seed: 1, data, train: { ...train, lr } });
    const exploded = await run(1e4);
    expect(exploded.diverged).toMatch(/training stopped at epoch 0.*lower the learning rate/);
    expect(exploded.epochs).toEqual([]);
    // The structure it stopped with is still reported: fixed keeps its budget.
    expect(exploded.layerConnectivity.map((c: number) => +c.toFixed(2))).toEqual([0.05, 0.1, 0.5]);
    const fine = await run(0.05);
    expect(fine.diverged).toBeNull();
    expect(fine.epochs).toHaveLength(2);
  });
});

describe("the plotting module", () => {
  it("renders a line chart and a heat map in a grid of two columns to SVG with their titles and axis titles", async () => {
    const data = [1, 2, 3].flatMap((x) => [1, 2].map((seed) => ({ x, y: x * seed, series: "a" })));
    const svg = await renderSvg(figure("Both charts", [
      lineChart({ data, x: "x", y: "y", color: "series", title: "Lines", xTitle: "step count", yTitle: "accuracy in percent", logX: true }),
      heatmap({ data: [{ a: 1, b: 2, v: 0.5 }, { a: 2, b: 2, v: 0.25 }], x: "a", y: "b", value: "v", title: "Cells", xTitle: "quality q", yTitle: "decay λ", valueTitle: "value v" }),
    ], 2));
    expect(svg).toMatch(/^<svg/);
    for (const text of ["Both charts", "Lines", "step count", "accuracy in percent", "Cells", "quality q", "decay λ", "value v"]) expect(svg).toContain(text);
    // The heat map writes each cell's value.
    expect(svg).toContain(">0.50<");
    expect(svg).toContain(">0.25<");
  });

  it("shades a band from the given low and high fields, or none with band: false", async () => {
    const data = [1, 2, 3].map((x) => ({ x, y: x, lo: x - 1, hi: x + 1, series: "a" }));
    const chart = (band: { lo: string; hi: string } | false) =>
      renderSvg(lineChart({ data, x: "x", y: "y", color: "series", band, title: "t", xTitle: "x", yTitle: "y" }));
    expect(await chart({ lo: "lo", hi: "hi" })).toContain("mark-area");
    expect(await chart(false)).not.toContain("mark-area");
    expect(await chart(false)).toContain("mark-line");
  });

  it("says to install vega and vega-lite when they are missing", async () => {
    ensureBuilt();
    // The built module copied where no node_modules can be found.
    const dir = scratch("deepr-plot-");
    writeFileSync(join(dir, "package.json"), '{"type": "module"}');
    copyFileSync(join(root, "dist", "plot", "render.js"), join(dir, "render.js"));
    const script = `import("${pathToFileURL(join(dir, "render.js")).href}").then((m) => m.renderSvg({ mark: "point" })).then(() => console.log("rendered"), (e) => console.log(e.message))`;
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { cwd: dir });
    expect(stdout.trim()).toBe("plotting needs the packages vega and vega-lite, which deepr does not install: run `npm install vega vega-lite` and try again");
  });
});

describe("deepr experiment", () => {
  it("hands its arguments to experiments/run.mjs and takes its exit status", async () => {
    const listed = await deepr(["experiment", "help"]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^usage: node experiments\/run\.mjs NAME\|all/);
    expect(listed.stdout).toMatch(/experiments: .*fig1-mlp, .*fig5-prune-grid/);

    const unknown = await deepr(["experiment", "fig9"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^experiments: no experiment named "fig9"; the experiments are fig1-mlp, .*\(or all\)/);
  });

  it("says the experiments come with a clone of the repository when they are missing (the npm package)", async () => {
    ensureBuilt();
    // The built command line copied without experiments/ beside it, as the npm package installs it.
    const dir = scratch("deepr-experiment-");
    mkdirSync(join(dir, "dist", "cli"), { recursive: true });
    writeFileSync(join(dir, "package.json"), '{"type": "module"}');
    copyFileSync(join(root, "dist", "cli", "experiment.js"), join(dir, "dist", "cli", "experiment.js"));
    const script = `import("${pathToFileURL(join(dir, "dist", "cli", "experiment.js")).href}").then((m) => m.experiment(["fig1"])).catch((e) => console.log(e.message))`;
    const { stdout } = await promisify(execFile)(process.execPath, ["-e", script], { cwd: dir });
    expect(stdout).toMatch(/^deepr experiment runs the paper's experiments from a clone of the deepr repository; the npm package does not ship them/);
    expect(stdout).toContain("npx deepr experiment fig1-mlp --quick");
  });
});
