import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSequentialMnist, loadSequentialMnistTest } from "../lib/data/sequential-mnist.js";

/** An unsigned-byte IDX file, encoded by hand. */
function idx(dims: number[], payload: number[]): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(payload)]);
}

describe("loadSequentialMnist", () => {
  it("reads each image row by row: time step t is row t, feature f is column f", async () => {
    // Two 3 x 4 images whose pixel at (row r, column c) of image n is 100 * n + 10 * r + c.
    const rows = 3, cols = 4;
    const pixels = (n: number) => Array.from({ length: rows * cols }, (_, k) => 100 * n + 10 * Math.floor(k / cols) + (k % cols));
    const dir = await mkdtemp(join(tmpdir(), "deepr-seq-mnist-"));
    try {
      for (const split of ["train", "t10k"]) {
        await writeFile(join(dir, `${split}-images-idx3-ubyte`), idx([2, rows, cols], [...pixels(0), ...pixels(1)]));
        await writeFile(join(dir, `${split}-labels-idx1-ubyte`), idx([2], [7, 2]));
      }
      const { train, test } = await loadSequentialMnist(dir);
      for (const data of [train, test, await loadSequentialMnistTest(dir)]) {
        expect(data.sampleShape).toEqual([rows, cols]);
        expect(data.features).toBe(rows * cols);
        expect(data.count).toBe(2);
        expect(Array.from(data.labels)).toEqual([7, 2]);
        for (let n = 0; n < 2; n++)
          for (let t = 0; t < rows; t++)
            for (let f = 0; f < cols; f++)
              expect(data.inputs[n * rows * cols + t * cols + f]).toBeCloseTo((100 * n + 10 * t + f) / 255, 6);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("gives the bundled MNIST as 28 steps of 28 pixels", async () => {
    const test = await loadSequentialMnistTest();
    expect(test.sampleShape).toEqual([28, 28]);
    expect(test.count).toBe(10000);
    expect(test.inputs.length).toBe(10000 * 28 * 28);
  });
});
