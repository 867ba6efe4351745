// Regression from the user's own files: a --model with a mean_squared_error head trains on a .npy
// inputs file with float --targets, or on a directory of x_train.npy / y_train.npy with float
// targets, and eval reports its mean loss; a classifier given float targets and a regression
// model given labels fail with errors that say which is which.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Dataset, loadRegressionFile } from "../lib/index.js";
import { deepr, jsonLines } from "./helpers/cli.js";
import { npyFile } from "./helpers/npy-file.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-cli-regression-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `count` samples of 4 features in [-1, 1) and `outputs` targets, each a fixed linear map of the features. Deterministic. */
function linear(count: number, outputs: number, seed: number): { inputs: Float32Array; targets: Float32Array } {
  let s = seed;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const inputs = Float32Array.from({ length: count * 4 }, next);
  const weights = [[0.5, -1, 0.25, 0.8], [-0.7, 0.3, 1, -0.2]];
  const targets = new Float32Array(count * outputs);
  for (let n = 0; n < count; n++)
    for (let j = 0; j < outputs; j++) targets[n * outputs + j] = weights[j].reduce((sum, w, i) => sum + w * inputs[n * 4 + i], 0);
  return { inputs, targets };
}

/** Half the mean squared norm of the targets: the loss of predicting 0 for every sample. */
const zeroLoss = (targets: Float32Array, count: number) => targets.reduce((sum, t) => sum + t * t, 0) / 2 / count;

async function modelFile(name: string, outputs: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, JSON.stringify({ inputShape: [4], layers: [{ kind: "dense_linear", outputs, bias: true }, { kind: "mean_squared_error" }] }));
  return path;
}

const fit = ["--epochs", "8", "--lr", "0.1", "--lr-decay", "0.9", "--json"];

describe("deepr train and eval of a regression model on --data", () => {
  it("trains on a .npy inputs file with float --targets, and eval reports the same test loss", async () => {
    const { inputs, targets } = linear(400, 2, 7);
    await writeFile(join(dir, "x.npy"), npyFile("<f4", [400, 4], inputs));
    await writeFile(join(dir, "y.npy"), npyFile("<f8", [400, 2], Float64Array.from(targets)));
    const model = await modelFile("linear2.json", 2);
    const out = join(dir, "linear2.safetensors");
    const trained = await deepr(["train", "--data", join(dir, "x.npy"), "--targets", join(dir, "y.npy"), "--model", model, ...fit, "--out", out]);
    expect(trained.stderr).toBe("");
    const final = jsonLines(trained.stdout).at(-1);
    expect(final.testAccuracy).toBeUndefined();
    expect(final.testLoss).toBeLessThan(0.02 * zeroLoss(targets, 400));

    const evaluated = await deepr(["eval", out, "--data", join(dir, "x.npy"), "--targets", join(dir, "y.npy"), "--json"]);
    expect(evaluated.stderr).toBe("");
    expect(JSON.parse(evaluated.stdout)).toEqual({ file: out, testLoss: final.testLoss, count: 80 });
  });

  it("splits as Dataset.split does: the same held-out samples for the same seed", async () => {
    const { inputs, targets } = linear(50, 1, 3);
    await writeFile(join(dir, "x50.npy"), npyFile("<f4", [50, 4], inputs));
    await writeFile(join(dir, "y50.npy"), npyFile("<f4", [50], targets));
    const splits = await loadRegressionFile(join(dir, "x50.npy"), { targets: join(dir, "y50.npy"), testFraction: 0.3, seed: 9 });
    const labelled = Dataset.split(Dataset.fromArrays({ inputs, labels: Array.from({ length: 50 }, (_, n) => n % 2), shape: [4] }), { testFraction: 0.3, seed: 9 });
    expect(Array.from(splits.test.inputs)).toEqual(Array.from(labelled.test.inputs));
    expect([splits.train.count, splits.test.count, splits.test.outputs]).toEqual([35, 15, 1]);
    // Each kept sample keeps its own target.
    for (let n = 0; n < splits.test.count; n++) {
      const row = Array.from(splits.test.inputs.subarray(4 * n, 4 * n + 4));
      const from = Array.from({ length: 50 }, (_, m) => m).find((m) => Array.from(inputs.subarray(4 * m, 4 * m + 4)).join() === row.join())!;
      expect(splits.test.targets[n]).toBe(targets[from]);
    }
  });

  it("loadRegressionFile names the file and the problem of data it cannot take", async () => {
    const { inputs, targets } = linear(10, 1, 1);
    const x = join(dir, "x10.npy");
    await writeFile(x, npyFile("<f4", [10, 4], inputs));
    await writeFile(join(dir, "y3d.npy"), npyFile("<f4", [10, 1, 1], targets));
    await writeFile(join(dir, "y9.npy"), npyFile("<f4", [9], targets.subarray(0, 9)));
    await writeFile(join(dir, "points.csv"), "label,a\n0,1\n");
    await expect(loadRegressionFile(join(dir, "points.csv"))).rejects.toThrow("points.csv: regression data is read from .npy files");
    await expect(loadRegressionFile(x)).rejects.toThrow("x10.npy holds inputs only: give the .npy file of its targets as options.targets (a path), got undefined");
    await expect(loadRegressionFile(dir, { targets: x })).rejects.toThrow(/options\.targets names the targets of a \.npy inputs file, but .* is a directory/);
    await expect(loadRegressionFile(x, { targets: join(dir, "y3d.npy") })).rejects.toThrow("y3d.npy: targets must have shape (10,) or (10, outputs), got (10, 1, 1).");
    await expect(loadRegressionFile(x, { targets: join(dir, "y9.npy") })).rejects.toThrow("y9.npy has 9 rows of targets but");
  });

  it("trains on a directory of x_train.npy and y_train.npy with float targets and its own test part", async () => {
    const folder = join(dir, "regression");
    await mkdir(folder);
    const train = linear(300, 1, 11), test = linear(100, 1, 12);
    await writeFile(join(folder, "x_train.npy"), npyFile("<f4", [300, 4], train.inputs));
    await writeFile(join(folder, "y_train.npy"), npyFile("<f4", [300, 1], train.targets));
    await writeFile(join(folder, "x_test.npy"), npyFile("<f4", [100, 4], test.inputs));
    await writeFile(join(folder, "y_test.npy"), npyFile("<f4", [100, 1], test.targets));
    const out = join(dir, "linear1.safetensors");
    const trained = await deepr(["train", "--data", folder, "--model", await modelFile("linear1.json", 1), ...fit, "--out", out]);
    expect(trained.stderr).toBe("");
    const final = jsonLines(trained.stdout).at(-1);
    expect(final.testLoss).toBeLessThan(0.02 * zeroLoss(test.targets, 100));
    const evaluated = await deepr(["eval", out, "--data", folder]);
    expect(evaluated.stdout).toBe(`${out}: test loss ${final.testLoss.toFixed(4)} on 100 samples\n`);
  });

  it("says which model takes which targets when they do not match", async () => {
    const folder = join(dir, "mismatch");
    await mkdir(folder);
    const { inputs, targets } = linear(40, 1, 5);
    await writeFile(join(folder, "x_train.npy"), npyFile("<f4", [40, 4], inputs));
    await writeFile(join(folder, "y_train.npy"), npyFile("<f4", [40], targets));
    await writeFile(join(dir, "labels.npy"), npyFile("<i8", [40], BigInt64Array.from({ length: 40 }, (_, n) => BigInt(n % 2))));
    await writeFile(join(dir, "x40.npy"), npyFile("<f4", [40, 4], inputs));
    const regressor = await modelFile("one.json", 1);
    const classifier = join(dir, "classifier.json");
    await writeFile(classifier, JSON.stringify({ inputShape: [4], layers: [{ kind: "dense_linear", outputs: 2 }, { kind: "softmax_cross_entropy" }] }));

    const floatLabels = await deepr(["train", "--data", folder, "--model", classifier, "--epochs", "1"]);
    expect(floatLabels.stderr).toMatch(/y_train\.npy: label -?0\.\d+ at index 0 is not a class index \(an integer from 0\); values to predict are the targets of a regression model \(a mean_squared_error head\)/);
    const targetsFlag = await deepr(["train", "--data", join(dir, "x40.npy"), "--targets", join(folder, "y_train.npy"), "--model", classifier, "--epochs", "1"]);
    expect(targetsFlag.stderr).toContain("--targets gives a regression model's float targets, but this model is a classifier");
    const labelsFlag = await deepr(["train", "--data", join(dir, "x40.npy"), "--labels", join(dir, "labels.npy"), "--model", regressor, "--epochs", "1"]);
    expect(labelsFlag.stderr).toContain("--labels names class labels, but a regression model (a mean_squared_error head) trains on float targets; give them with --targets FILE.npy");
    const intTargets = await deepr(["train", "--data", join(dir, "x40.npy"), "--targets", join(dir, "labels.npy"), "--model", regressor, "--epochs", "1"]);
    expect(intTargets.stderr).toContain("labels.npy holds int64 values, which are class labels: a classifier (a softmax_cross_entropy head) trains on them");
    const outputs = await deepr(["train", "--data", folder, "--model", await modelFile("two.json", 2), "--epochs", "1"]);
    expect(outputs.stderr).toContain(`--data ${folder} has 1 targets per sample, which --model ${join(dir, "two.json")}`);
    for (const r of [floatLabels, targetsFlag, labelsFlag, intTargets, outputs]) expect(r.code).not.toBe(0);
  });
});
