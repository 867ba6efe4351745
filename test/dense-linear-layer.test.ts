// A dense_linear layer in a layer list: an MLP of them trains through Model.fit, its stores hold
// the weights [inputs x outputs] and the bias and resume from a checkpoint bit for bit, the ONNX
// MatMul/Add it exports predicts as predict() in onnxruntime, and a bad spec gets a named error.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toOnnx } from "../lib/export/onnx.js";
import { Model } from "../lib/model.js";
import type { ModelOptions } from "../lib/options.js";
import { blobs } from "./helpers/synthetic.js";
import { deepr } from "./helpers/cli.js";
import { throwsExactly } from "./helpers/throws.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-dense-linear-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const data = blobs(120, 10, 3, 7);

const mlp = (bias: boolean): ModelOptions["layers"] => [
  { kind: "dense_linear", outputs: 12, bias },
  { kind: "relu" },
  { kind: "dense_linear", outputs: 3, bias },
  { kind: "softmax_cross_entropy" },
];

describe("a dense_linear layer", () => {
  it("computes y = x W + b from its stores: predict() against a float64 forward pass", async () => {
    const model = Model.create({ layers: mlp(true), inputShape: [10], seed: 2 });
    await model.fit(data, { epochs: 2, lr: 0.1 });
    const [first, second] = await model.exportLayers();
    expect(first.stores.weight.value.length).toBe(10 * 12);
    expect(second.stores.bias.value.length).toBe(3);
    const probabilities = await model.predict(data.inputs.subarray(0, 5 * 10));
    for (let n = 0; n < 5; n++) {
      const x = Array.from(data.inputs.subarray(10 * n, 10 * n + 10));
      const hidden = Array.from({ length: 12 }, (_, j) =>
        Math.max(0, x.reduce((sum, v, i) => sum + v * first.stores.weight.value[i * 12 + j], first.stores.bias.value[j])));
      const logits = Array.from({ length: 3 }, (_, j) => hidden.reduce((sum, v, i) => sum + v * second.stores.weight.value[i * 3 + j], second.stores.bias.value[j]));
      const total = logits.reduce((sum, z) => sum + Math.exp(z), 0);
      for (let c = 0; c < 3; c++) expect(probabilities[3 * n + c]).toBeCloseTo(Math.exp(logits[c]) / total, 5);
    }
    model.dispose();
  });

  it("trains an MLP through Model.fit", async () => {
    const model = Model.create({ layers: mlp(true), inputShape: [10], seed: 4 });
    const before = await model.evaluate(data);
    await model.fit(data, { epochs: 10, lr: 0.1, batchSize: 10 });
    const after = await model.evaluate(data);
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.accuracy).toBeGreaterThan(0.9);
    model.dispose();
  });

  it("resumes bit for bit from a checkpoint, and deepr inspect describes it", async () => {
    const fit = { lr: 0.1, batchSize: 10, momentum: 0.9 };
    const straight = Model.create({ layers: mlp(true), inputShape: [10], seed: 5 });
    await straight.fit(data, { ...fit, epochs: 3 });
    const first = Model.create({ layers: mlp(true), inputShape: [10], seed: 5 });
    await first.fit(data, { ...fit, epochs: 1 });
    const path = join(dir, "mlp.safetensors");
    await first.save(path);
    const loaded = await Model.load(path);
    expect(loaded.options).toEqual(first.options);
    await loaded.fit(data, { epochs: 3 });
    const [a, b] = [await loaded.exportLayers(), await straight.exportLayers()];
    expect(a.map((l) => l.stores)).toEqual(b.map((l) => l.stores));
    expect(Object.keys(a[0].stores.weight)).toEqual(["value", "velocity"]);
    for (const model of [straight, first, loaded]) model.dispose();
    const { code, stdout } = await deepr(["inspect", path]);
    expect(code).toBe(0);
    expect(stdout).toContain("  layer 0: dense_linear 10 -> 12; weight dense [10 x 12] + velocity; bias dense [12] + velocity\n");
    expect(stdout).toContain("  layer 2: dense_linear 12 -> 3; weight dense [12 x 3] + velocity; bias dense [3] + velocity\n");
  });

  it("exports MatMul and Add that onnxruntime runs as predict(), beside a sparse_linear layer", async () => {
    for (const bias of [false, true]) {
      const model = Model.create({
        layers: [{ kind: "sparse_linear", outputs: 12, connectivity: 0.4 }, { kind: "relu" }, { kind: "dense_linear", outputs: 3, bias }, { kind: "softmax_cross_entropy" }],
        inputShape: [10],
        seed: 6,
      });
      await model.fit(data, { epochs: 2, lr: 0.1 });
      const expected = await model.predict(data.inputs);
      const session = await ort.InferenceSession.create(await toOnnx(model));
      const out = await session.run({ input: new ort.Tensor("float32", data.inputs, [data.count, 10]) });
      await session.release();
      const probabilities = out.probabilities.data as Float32Array;
      expect(probabilities.length).toBe(expected.length);
      for (let n = 0; n < expected.length; n++) expect(Math.abs(probabilities[n] - expected[n])).toBeLessThan(1e-5);
      model.dispose();
    }
  });

  it("refuses a bad spec with an error naming the field", () => {
    const create = (dense: Record<string, unknown>) => () =>
      Model.create({ layers: [{ kind: "dense_linear", outputs: 3, ...dense }, { kind: "softmax_cross_entropy" }], inputShape: [10] });
    throwsExactly(create({ outputs: 0 }), RangeError, "options.layers[0].outputs must be an integer in [1, 2147483647], got 0");
    throwsExactly(create({ bias: "no" }), TypeError, 'options.layers[0].bias must be true or false, got "no"');
    throwsExactly(create({ connectivity: 0.5 }), TypeError, "options.layers[0].connectivity is not an option of a dense_linear layer; the options are kind, outputs, bias");
    throwsExactly(create({ outputs: 2 ** 30 }), RangeError, `options.layers[0].outputs = ${2 ** 30} gives the 10-input layer ${10 * 2 ** 30} weights; the limit is 2147483647 per dense store`);
  });
});
