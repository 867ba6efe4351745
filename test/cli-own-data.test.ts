// The command line on the user's own files (--data FILE.csv / FILE.npy) and `deepr export`.
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toOnnx } from "../lib/export/onnx.js";
import { Model } from "../lib/model.js";
import { deepr, jsonLines } from "./helpers/cli.js";
import { npyFile } from "./helpers/npy-file.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-cli-own-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * Three classes in 6 features, separable by the sign of feature 0 and of feature 1, with the
 * features on scales of about 100 (so training needs --normalize). Deterministic.
 */
function samples(count: number): { rows: number[][]; labels: number[] } {
  let s = 12345;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const rows: number[][] = [], labels: number[] = [];
  for (let n = 0; n < count; n++) {
    const row = Array.from({ length: 6 }, () => 100 * next());
    labels.push(row[0] < 0 ? 0 : row[1] < 0 ? 1 : 2);
    rows.push(row);
  }
  return { rows, labels };
}

describe("deepr train and eval on --data FILE", () => {
  it("trains on a CSV file with the network's widths taken from it, and eval scores the same held-out part", async () => {
    const { rows, labels } = samples(1500);
    const csv = join(dir, "points.csv");
    await writeFile(csv, "label,a,b,c,d,e,f\n" + rows.map((r, n) => [labels[n], ...r.map((v) => v.toFixed(4))].join(",")).join("\n") + "\n");
    const out = join(dir, "points.safetensors");
    const trained = await deepr(["train", "--data", csv, "--normalize", "standard", "--connectivity", "0.3", "--epochs", "3", "--lr", "0.05", "--json", "--out", out]);
    expect(trained.stderr).toBe("");
    expect(trained.code).toBe(0);
    const final = jsonLines(trained.stdout).at(-1);
    // The default 784-300-100-10 network became 6-300-100-3: the widths of the file.
    expect(final.layers.map((l: { inputs: number; outputs: number }) => [l.inputs, l.outputs])).toEqual([[6, 300], [300, 100], [100, 3]]);
    expect(final.testAccuracy).toBeGreaterThan(0.9);

    const evaluated = await deepr(["eval", out, "--data", csv, "--normalize", "standard", "--json"]);
    expect(evaluated.code).toBe(0);
    const e = JSON.parse(evaluated.stdout);
    // The same seeded 20 % split and training statistics: the same 300 samples, the same accuracy.
    expect(e.count).toBe(300);
    expect(e.testAccuracy).toBe(final.testAccuracy);
  }, 60_000);

  it("trains on a .npy inputs file with --labels, and says so when --labels is missing", async () => {
    const { rows, labels } = samples(1500);
    const x = join(dir, "x.npy"), y = join(dir, "y.npy");
    await writeFile(x, npyFile("<f8", [1500, 6], Float64Array.from(rows.flat())));
    await writeFile(y, npyFile("<i8", [1500], BigInt64Array.from(labels.map(BigInt))));
    const missing = await deepr(["train", "--data", x]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^deepr train: --data .*x\.npy holds inputs only; give the \.npy file of its labels with --labels FILE \(or its float targets with --targets FILE\)\n/);

    const r = await deepr(["train", "--data", x, "--labels", y, "--normalize", "-100,100", "--layers", "6,64,3", "--connectivity", "0.5",
      "--bias", "--epochs", "5", "--lr", "0.1", "--json"]);
    expect(r.code).toBe(0);
    const final = jsonLines(r.stdout).at(-1);
    expect(final.layers[0].inputs).toBe(6);
    expect(final.testAccuracy).toBeGreaterThan(0.85);
  }, 60_000);

  it("refuses own-data flags on the bundled data sets, malformed --normalize, and names flags in loader errors", async () => {
    const bundled = await deepr(["train", "--normalize", "standard"]);
    expect(bundled.code).toBe(2);
    expect(bundled.stderr).toMatch(/^deepr train: --normalize applies to your own data files .*not to --dataset mnist\n/);
    const csv = join(dir, "tiny.csv");
    await writeFile(csv, "label,x\n0,1\n1,2\n0,3\n1,4\n");
    const normalize = await deepr(["train", "--data", csv, "--normalize", "zscore"]);
    expect(normalize.code).toBe(2);
    expect(normalize.stderr).toMatch(/--normalize must be none, minmax, standard or LOW,HIGH .*got "zscore"/);
    const fraction = await deepr(["train", "--data", csv, "--test-fraction", "1.5"]);
    expect(fraction.code).toBe(2);
    expect(fraction.stderr).toMatch(/^deepr train: --test-fraction/);
    expect(fraction.stderr).not.toMatch(/options\.\w/);
  }, 60_000);
});

describe("deepr export", () => {
  it("writes the ONNX file that toOnnx makes, next to the checkpoint by default", async () => {
    const model = Model.create({ layers: [100, 50, 3], connectivity: 0.1, bias: true, seed: 4 });
    const checkpoint = join(dir, "small.safetensors");
    await model.save(checkpoint);
    const r = await deepr(["export", checkpoint]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const written = await readFile(join(dir, "small.onnx"));
    expect(Buffer.compare(written, Buffer.from(await toOnnx(model)))).toBe(0);

    const dense = join(dir, "dense.onnx");
    expect((await deepr(["export", checkpoint, "--weights", "dense", "--out", dense])).code).toBe(0);
    expect(Buffer.compare(await readFile(dense), Buffer.from(await toOnnx(model, { weights: "dense" })))).toBe(0);
    expect((await stat(dense)).size).toBeGreaterThan(written.length);
    model.dispose();
  }, 60_000);

  it("rejects an unknown format and a missing checkpoint", async () => {
    const format = await deepr(["export", "m.safetensors", "--format", "tflite"]);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/--format must be onnx, got "tflite"/);
    const missing = await deepr(["export", join(dir, "none.safetensors")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/none\.safetensors/);
  });
});
