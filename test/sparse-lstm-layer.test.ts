// A sparse_lstm layer in a layer list: it trains through Model.fit on generated sequences and on
// loadSequentialMnist's sample shape, a checkpoint resumes it bit for bit, `deepr inspect`
// describes it, its ONNX LSTM (gates reordered, input made time-major) predicts as predict() in
// onnxruntime, and a bad spec gets an error naming its field.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../lib/data/dataset.js";
import { loadSequentialMnist } from "../lib/data/sequential-mnist.js";
import { toOnnx } from "../lib/export/onnx.js";
import { Model } from "../lib/model.js";
import type { ModelOptions } from "../lib/options.js";
import { deepr } from "./helpers/cli.js";
import { storeValues } from "./helpers/store-values.js";
import { throwsExactly } from "./helpers/throws.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-sparse-lstm-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const steps = 6, features = 4, classes = 3;

/** Sequences whose class is the feature that carries a pulse at some step; the other values are small noise. */
function pulses(count: number, seed: number): Dataset {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const inputs = new Float32Array(count * steps * features);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = n % classes;
    for (let v = 0; v < steps * features; v++) inputs[n * steps * features + v] = 0.2 * random();
    inputs[n * steps * features + Math.floor(random() * steps) * features + labels[n]] += 1;
  }
  return { inputs, labels, count, features: steps * features, classes, sampleShape: [steps, features] };
}

const data = pulses(96, 5);

function lstmModel(lstm: Record<string, unknown>, seed = 3): Model {
  const layers: ModelOptions["layers"] = [
    { kind: "sparse_lstm", units: 8, ...lstm },
    { kind: "sparse_linear", outputs: classes, connectivity: 0.5, bias: true },
    { kind: "softmax_cross_entropy" },
  ];
  return Model.create({ layers, inputShape: [steps, features], seed });
}

describe("a sparse_lstm layer", () => {
  it("plans its stores from the spec: a budget per weight matrix, the forget gate's bias at 1", async () => {
    const model = lstmModel({ inputConnectivity: 0.5, recurrentConnectivity: 0.25 });
    expect(model.options.budgets).toEqual([Math.floor(4 * 32 * 0.5), Math.floor(8 * 32 * 0.25), Math.floor(8 * 3 * 0.5)]);
    expect(model.layers().map((l) => [l.inputs, l.outputs, l.active])).toEqual([[4, 32, 64], [8, 32, 64], [8, 3, 12]]);
    const [lstm] = await model.exportLayers();
    expect(Object.keys(lstm.stores)).toEqual(["input_weight", "recurrent_weight", "bias"]);
    expect(Array.from(lstm.stores.bias.value)).toEqual(Array.from({ length: 32 }, (_, j) => (j >= 8 && j < 16 ? 1 : 0)));
    model.dispose();
  });

  it("learns which feature carries the pulse through Model.fit", async () => {
    const model = lstmModel({ connectivity: 0.6 });
    const before = await model.evaluate(data);
    const stats = await model.fit(data, { epochs: 30, lr: 0.05, batchSize: 8, momentum: 0.9, noise: 1e-4 });
    const after = await model.evaluate(data);
    expect(stats[stats.length - 1].loss).toBeLessThan(stats[0].loss);
    expect(after.loss).toBeLessThan(before.loss);
    expect(after.accuracy).toBeGreaterThan(0.6);  // chance is 1/3
    model.dispose();
  });

  it("trains on loadSequentialMnist's [rows, columns] samples", async () => {
    const rows = 5, cols = 3, count = 12;
    const idx = (dims: number[], payload: number[]) => {
      const header = Buffer.alloc(4 + 4 * dims.length);
      header.set([0, 0, 0x08, dims.length]);
      dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
      return Buffer.concat([header, Buffer.from(payload)]);
    };
    const mnist = join(dir, "mnist");
    await mkdir(mnist);
    for (const split of ["train", "t10k"]) {
      await writeFile(join(mnist, `${split}-images-idx3-ubyte`), idx([count, rows, cols], Array.from({ length: count * rows * cols }, (_, k) => (k * 37) % 256)));
      await writeFile(join(mnist, `${split}-labels-idx1-ubyte`), idx([count], Array.from({ length: count }, (_, n) => n % 10)));
    }
    const { train } = await loadSequentialMnist(mnist);
    const model = Model.create({
      layers: [{ kind: "sparse_lstm", units: 4, connectivity: 0.5 }, { kind: "sparse_linear", outputs: 10, connectivity: 0.5 }, { kind: "softmax_cross_entropy" }],
      inputShape: [...train.sampleShape],
      seed: 1,
    });
    const [stats] = await model.fit(train, { epochs: 1, batchSize: 4 });
    expect(Number.isFinite(stats.loss)).toBe(true);
    expect(model.progress.step).toBe(3);
    model.dispose();
  });

  it("resumes bit for bit from a checkpoint, which keeps its stores by name", async () => {
    const fit = { lr: 0.05, batchSize: 8, momentum: 0.9, noise: 1e-2 };
    const straight = lstmModel({ inputConnectivity: 0.5, recurrentConnectivity: 0.3, sequence: true });
    await straight.fit(data, { ...fit, epochs: 3 });
    const first = lstmModel({ inputConnectivity: 0.5, recurrentConnectivity: 0.3, sequence: true });
    await first.fit(data, { ...fit, epochs: 1 });
    const path = join(dir, "lstm.safetensors");
    await first.save(path);
    const loaded = await Model.load(path);
    expect(loaded.options).toEqual(first.options);
    expect(storeValues(await loaded.exportLayers())).toEqual(storeValues(await first.exportLayers()));
    expect(Object.keys(storeValues(await loaded.exportLayers()))).toContain("0.recurrent_weight.velocity");
    await loaded.fit(data, { epochs: 3 });
    expect(storeValues(await loaded.exportLayers())).toEqual(storeValues(await straight.exportLayers()));
    for (const model of [straight, first, loaded]) model.dispose();
  });

  it("is described by deepr inspect", async () => {
    const model = lstmModel({ inputConnectivity: 0.5, recurrentConnectivity: 0.25 });
    const path = join(dir, "inspect.safetensors");
    await model.save(path);
    model.dispose();
    const { code, stdout } = await deepr(["inspect", path]);
    expect(code).toBe(0);
    expect(stdout).toContain(
      "  layer 0: sparse_lstm [6 x 4] -> 8; input_weight sparse [4 x 32], K 64, active 64 (50.000 %); recurrent_weight sparse [8 x 32], K 64, active 64 (25.000 %); bias dense [32]\n",
    );
    expect(stdout).toContain("  layer 1: sparse_linear 8 -> 3; weight sparse [8 x 3], K 12, active 12 (50.000 %); bias dense [3]\n");
  });

  const exports: [string, ModelOptions["layers"]][] = [
    ["the last h", [{ kind: "sparse_lstm", units: 8, inputConnectivity: 0.6, recurrentConnectivity: 0.4 }]],
    ["every step's h", [{ kind: "sparse_lstm", units: 8, inputConnectivity: 0.6, recurrentConnectivity: 0.4, sequence: true }]],
    ["one LSTM's sequence into another", [{ kind: "sparse_lstm", units: 5, connectivity: 0.5, sequence: true }, { kind: "sparse_lstm", units: 8, connectivity: 0.5 }]],
  ];
  for (const [name, lstm] of exports)
    it(`exports an ONNX LSTM (${name}) that onnxruntime runs as predict()`, async () => {
      const readout = [{ kind: "sparse_linear", outputs: classes, connectivity: 0.5, bias: true }, { kind: "softmax_cross_entropy" }];
      const model = Model.create({ layers: [...lstm, ...readout] as ModelOptions["layers"], inputShape: [steps, features], seed: 3 });
      await model.fit(data, { epochs: 3, lr: 0.05, batchSize: 8 });
      const expected = await model.predict(data.inputs);
      for (const weights of ["sparse", "dense"] as const) {
        const session = await ort.InferenceSession.create(await toOnnx(model, { weights }));
        const out = await session.run({ input: new ort.Tensor("float32", data.inputs, [data.count, steps * features]) });
        await session.release();
        const probabilities = out.probabilities.data as Float32Array;
        expect(probabilities.length).toBe(expected.length);
        let largest = 0;
        for (let n = 0; n < expected.length; n++) largest = Math.max(largest, Math.abs(probabilities[n] - expected[n]));
        expect(largest).toBeLessThan(1e-4);
      }
      model.dispose();
    });

  it("refuses a bad spec with an error naming the field", () => {
    const head = { kind: "softmax_cross_entropy" };
    const create = (lstm: Record<string, unknown>, inputShape = [steps, features]) => () =>
      Model.create({ layers: [{ kind: "sparse_lstm", units: 4, ...lstm }, head], inputShape });
    const cases: [() => unknown, typeof TypeError | typeof RangeError, string][] = [
      [create({ connectivity: 0.5 }, [24]), RangeError, "options.layers[0] (sparse_lstm) reads a sequence of shape [time, features], but its input has shape [24]"],
      [create({ connectivity: 0.5, units: 0 }), RangeError, "options.layers[0].units must be an integer in [1, 536870911], got 0"],
      [create({}), TypeError, "options.layers[0].connectivity is required: the fraction of the input and recurrent connections kept active, in (0, 1]"],
      [create({ connectivity: 0.5, inputConnectivity: 0.5 }), TypeError, "options.layers[0] takes connectivity (both weight matrices) or inputConnectivity and recurrentConnectivity, not both forms"],
      [create({ inputConnectivity: 0.5 }), TypeError, "options.layers[0].recurrentConnectivity is required with inputConnectivity"],
      [create({ inputConnectivity: 0.5, recurrentConnectivity: 2 }), RangeError, "options.layers[0].recurrentConnectivity must be a finite number in (0, 1], got 2"],
      [create({ connectivity: 0.01 }), RangeError, `options.layers[0].connectivity = 0.01 leaves no connection in the 4 x 16 weights; it needs at least ${1 / 64}`],
      [create({ connectivity: 0.5, sequence: "yes" }), TypeError, 'options.layers[0].sequence must be true or false, got "yes"'],
      [create({ connectivity: 0.5, hidden: 4 }), TypeError, "options.layers[0].hidden is not an option of a sparse_lstm layer; the options are kind, units, connectivity, inputConnectivity, recurrentConnectivity, sequence"],
    ];
    for (const [call, type, message] of cases) throwsExactly(call, type, message);
  });
});
