// Users' own image and sequence data keeps its shape through the .npy loaders: inputs of shape
// (N, C, H, W) give samples of shape [C, H, W], (N, T, F) give [T, F], (N, F) stays [F]; and the
// command line trains a convolutional --model on a directory of 4-D .npy files.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataFile } from "../lib/data/data-file.js";
import { loadNpy } from "../lib/data/npy.js";
import { deepr, jsonLines } from "./helpers/cli.js";
import { npyFile } from "./helpers/npy-file.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-data-shapes-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/**
 * `count` images of 2 channels of 6 x 6: noise in [0, 0.5), plus 0.6 on every pixel of the
 * channel that is the sample's class. Row-major (N, C, H, W). Deterministic.
 */
function images(count: number, seed: number): { inputs: Float32Array; labels: Int32Array } {
  let s = seed;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const inputs = new Float32Array(count * 72), labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = n % 2;
    for (let i = 0; i < 72; i++) inputs[n * 72 + i] = 0.5 * next() + (Math.floor(i / 36) === labels[n] ? 0.6 : 0);
  }
  return { inputs, labels };
}

async function write(name: string, descr: string, shape: number[], data: ArrayBufferView): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, npyFile(descr, shape, data));
  return path;
}

describe("the .npy loaders keep the sample shape", () => {
  const labels = Int32Array.from({ length: 4 }, (_, n) => n % 2);
  const values = Float32Array.from({ length: 4 * 24 }, (_, i) => i / 8);

  it("(N, C, H, W) images give samples of [C, H, W], values in row-major order", async () => {
    const x = await write("images.npy", "<f4", [4, 2, 3, 4], values);
    const y = await write("image-labels.npy", "<i4", [4], labels);
    const data = await loadNpy(x, y);
    expect(data.sampleShape).toEqual([2, 3, 4]);
    expect([data.count, data.features]).toEqual([4, 24]);
    expect(Array.from(data.inputs)).toEqual(Array.from(values));
  });

  it("(N, T, F) sequences give [T, F]; flat (N, F) rows stay [F]", async () => {
    const y = await write("labels.npy", "<i4", [4], labels);
    expect((await loadNpy(await write("sequences.npy", "<f4", [4, 6, 4], values), y)).sampleShape).toEqual([6, 4]);
    expect((await loadNpy(await write("rows.npy", "<f4", [4, 24], values), y)).sampleShape).toEqual([24]);
  });

  it("a directory of x_train.npy and x_test.npy keeps the shape in both parts, and they must agree", async () => {
    const folder = join(dir, "images");
    await mkdir(folder);
    const train = images(8, 1), test = images(4, 2);
    await writeFile(join(folder, "x_train.npy"), npyFile("<f4", [8, 2, 6, 6], train.inputs));
    await writeFile(join(folder, "y_train.npy"), npyFile("<i4", [8], train.labels));
    await writeFile(join(folder, "x_test.npy"), npyFile("<f4", [4, 2, 6, 6], test.inputs));
    await writeFile(join(folder, "y_test.npy"), npyFile("<i4", [4], test.labels));
    const splits = await loadDataFile(folder);
    expect([splits.train.sampleShape, splits.test.sampleShape]).toEqual([[2, 6, 6], [2, 6, 6]]);
    expect(Array.from(splits.test.inputs)).toEqual(Array.from(test.inputs));

    await writeFile(join(folder, "x_test.npy"), npyFile("<f4", [4, 6, 6, 2], test.inputs));
    await expect(loadDataFile(folder)).rejects.toThrow(/samples have shape \(6, 6, 2\) but those of .*x_train\.npy have \(2, 6, 6\); both must match/);
  });
});

describe("deepr train --data DIR of 4-D .npy files", () => {
  it("trains a convolutional --model on the images and evaluates it", async () => {
    const folder = join(dir, "cli");
    await mkdir(folder);
    const train = images(300, 3), test = images(100, 4);
    await writeFile(join(folder, "x_train.npy"), npyFile("<f4", [300, 2, 6, 6], train.inputs));
    await writeFile(join(folder, "y_train.npy"), npyFile("<i4", [300], train.labels));
    await writeFile(join(folder, "x_test.npy"), npyFile("<f4", [100, 2, 6, 6], test.inputs));
    await writeFile(join(folder, "y_test.npy"), npyFile("<i4", [100], test.labels));
    const model = join(dir, "conv.json");
    await writeFile(model, JSON.stringify({
      inputShape: [2, 6, 6],
      layers: [
        { kind: "sparse_conv2d", outChannels: 4, kernel: 3, connectivity: 0.5, bias: true },
        { kind: "relu" },
        { kind: "sparse_linear", outputs: 2, connectivity: 0.5, bias: true },
        { kind: "softmax_cross_entropy" },
      ],
    }));
    const out = join(dir, "conv.safetensors");
    const trained = await deepr(["train", "--data", folder, "--model", model, "--epochs", "2", "--lr", "0.05", "--json", "--out", out]);
    expect(trained.stderr).toBe("");
    expect(trained.code).toBe(0);
    expect(jsonLines(trained.stdout).at(-1).testAccuracy).toBeGreaterThan(0.9);
    const evaluated = await deepr(["eval", out, "--data", folder, "--json"]);
    expect(evaluated.stderr).toBe("");
    expect(JSON.parse(evaluated.stdout).testAccuracy).toBe(jsonLines(trained.stdout).at(-1).testAccuracy);
  });
});
