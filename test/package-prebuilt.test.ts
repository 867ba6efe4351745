// The install most users get: the package packed with its prebuilt binary (`npm run build:prebuild`,
// which .ci/run runs before the tests), installed offline into a fresh project on a PATH that
// holds node, npm and sh only, so there is no compiler, CMake, make or nvcc to build with: an
// install that tried to compile would fail. There it trains and evaluates a small MNIST model
// through the API, exactly as this repository's local build does, and through the CLI.
// Skipped without prebuilds/ for this platform (a plain `npm test`).
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Model, loadMnist } from "../lib/index.js";
import { root } from "./helpers/child.js";
import { barePath, newProject, pack, run, userEnv, type Run } from "./helpers/package.js";

const platform = `${process.platform}-${process.arch}`;
const hasPrebuild = existsSync(join(root, "prebuilds", platform));

let scratch: string;
let project: string;
let bin: string;
let install: Run;
/** The installed project's environment: no build tool on the PATH. */
const bare = () => ({ ...userEnv, PATH: bin });

beforeAll(async () => {
  if (!hasPrebuild) return;
  scratch = await mkdtemp(join(tmpdir(), "deepr-prebuilt-"));
  const { tarball, files } = await pack(scratch);
  expect(files.filter((f) => f.startsWith(`prebuilds/${platform}/`)).length).toBeGreaterThan(0);
  project = await newProject(scratch, "user-project", tarball);
  bin = await barePath(join(scratch, "bin"), {});
  install = await run(join(bin, "npm"), ["install", "--offline", "--no-audit", "--no-fund", "--foreground-scripts"], project, bare());
}, 300_000);

afterAll(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe.runIf(hasPrebuild)(`the package with its ${platform} prebuilt binary`, () => {
  it("installs offline with no compiler, CMake or make, compiling nothing", async () => {
    expect(install.stderr, "npm's cache lacks a dependency of deepr: run `npm install` in this repository first").not.toMatch(/ENOTCACHED/);
    expect(install.code, install.stderr).toBe(0);
    // --foreground-scripts shows the install script's output: it announces any build from source.
    expect(install.stdout + install.stderr).not.toMatch(/building the addon from source|cmake/i);
    expect(existsSync(join(project, "node_modules", "deepr", "build"))).toBe(false);
    expect(await readdir(join(project, "node_modules", "deepr", "prebuilds", platform))).toContain(process.platform === "linux" ? "deepr.glibc.node" : "deepr.node");
  });

  it("`deepr info` says the prebuilt binary runs", async () => {
    const info = await run(join(project, "node_modules", ".bin", "deepr"), ["info", "--json"], project, bare());
    expect(info.code, info.stderr).toBe(0);
    const report = JSON.parse(info.stdout);
    expect(report.binarySource).toBe("prebuilds");
    expect(report.binary).toMatch(new RegExp(`node_modules/deepr/prebuilds/${platform}/deepr(\\.glibc)?\\.node$`));
  });

  it("trains and evaluates MNIST through the API, bit-identical to this repository's local build", async () => {
    const spec = { layers: [784, 30, 10], connectivity: [0.05, 0.5], seed: 3 };
    const fit = { epochs: 1, lr: 0.1, batchSize: 10 };
    const samples = 4000;
    await writeFile(
      join(project, "mnist.mjs"),
      `import { Model, loadMnist } from "deepr";
const { train, test } = await loadMnist();
const model = Model.create(${JSON.stringify(spec)});
const first = { ...train, inputs: train.inputs.subarray(0, ${samples * 784}), labels: train.labels.subarray(0, ${samples}), count: ${samples} };
const history = await model.fit(first, ${JSON.stringify(fit)});
console.log(JSON.stringify({ loss: history.map((e) => e.loss), ...(await model.evaluate(test)) }));
`,
    );
    const trained = await run(join(bin, "node"), ["mnist.mjs"], project, bare());
    expect(trained.code, trained.stderr).toBe(0);
    const installed = JSON.parse(trained.stdout);

    const { train, test } = await loadMnist();
    const model = Model.create(spec);
    const first = { ...train, inputs: train.inputs.subarray(0, samples * 784), labels: train.labels.subarray(0, samples), count: samples };
    const history = await model.fit(first, fit);
    const evaluation = await model.evaluate(test);
    model.dispose();
    expect(installed).toEqual({ loss: history.map((e) => e.loss), ...evaluation });
    expect(evaluation.accuracy).toBeGreaterThan(0.6); // one pass over 4000 samples at 5 % connectivity; chance is 0.1
  });

  it("trains, saves and evaluates MNIST through the CLI", async () => {
    const cli = join(project, "node_modules", ".bin", "deepr");
    const trained = await run(cli, ["train", "--epochs", "1", "--limit", "4000", "--out", "m.safetensors", "--json"], project, bare());
    expect(trained.code, trained.stderr).toBe(0);
    const final = JSON.parse(trained.stdout.trim().split("\n").at(-1)!);
    const evaluated = await run(cli, ["eval", "m.safetensors", "--json"], project, bare());
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const report = JSON.parse(evaluated.stdout);
    expect(report).toMatchObject({ testAccuracy: final.testAccuracy, count: 10000 });
    expect(report.testAccuracy).toBeGreaterThan(0.3); // the paper's 1.3 % network after 4000 samples; chance is 0.1
  });
});
