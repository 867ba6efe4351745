// ONNX export: the exported file, run by onnxruntime, predicts what the model predicts on the whole
// MNIST test set; the protobuf encoder writes the byte strings of the protobuf encoding guide; the
// file holds what the README says (read back with a decoder written here); bad input is refused.
import { existsSync, mkdirSync, promises as fsp, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { CheckpointError } from "../lib/checkpoint/safetensors.js";
import type { Dataset } from "../lib/data/dataset.js";
import { loadMnist } from "../lib/data/mnist.js";
import { ExportError } from "../lib/export/export-error.js";
import { exportModelFile } from "../lib/export/model-file.js";
import { exportOnnx, toOnnx } from "../lib/export/onnx.js";
import { encodeVarint, ProtoMessage } from "../lib/export/protobuf.js";
import { Model, type ModelOptions } from "../lib/index.js";
import { all, decode, packed, text } from "./helpers/protobuf-fields.js";
import { blobs } from "./helpers/synthetic.js";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("protobuf encoder", () => {
  it("writes varints as the encoding guide does", () => {
    expect(hex(encodeVarint(0))).toBe("00");
    expect(hex(encodeVarint(1))).toBe("01");
    expect(hex(encodeVarint(150))).toBe("9601");
    expect(hex(encodeVarint(300))).toBe("ac02");
    expect(hex(encodeVarint(2 ** 32))).toBe("8080808010");
    expect(hex(encodeVarint(2n ** 63n - 1n))).toBe("ffffffffffffffff7f");
    // int64 -1: two's complement over 64 bits, 10 bytes.
    expect(hex(encodeVarint(-1))).toBe("ffffffffffffffffff01");
    expect(() => encodeVarint(2n ** 64n)).toThrow(RangeError);
  });

  it("writes fields: varint, string, nested message, packed repeated", () => {
    expect(hex(new ProtoMessage().varint(1, 150).toBytes())).toBe("089601");
    expect(hex(new ProtoMessage().string(2, "testing").toBytes())).toBe("120774657374696e67");
    expect(hex(new ProtoMessage().message(3, new ProtoMessage().varint(1, 150)).toBytes())).toBe("1a03089601");
    expect(hex(new ProtoMessage().packedVarints(4, [3, 270, 86942]).toBytes())).toBe("2206038e029ea705");
    // A field number that needs a two-byte tag, and an empty bytes field.
    expect(hex(new ProtoMessage().bytes(16, new Uint8Array(0)).toBytes())).toBe("820100");
    expect(() => new ProtoMessage().varint(0, 1)).toThrow(RangeError);
  });
});

const argmax = (values: ArrayLike<number>, from: number, count: number) => {
  let best = from;
  for (let c = from + 1; c < from + count; c++) if (values[c] > values[best]) best = c;
  return best - from;
};

async function runOnnx(file: string | Uint8Array, data: Dataset) {
  const session = await ort.InferenceSession.create(file as Uint8Array);
  try {
    const out = await session.run({ input: new ort.Tensor("float32", data.inputs, [data.count, data.features]) });
    return { probabilities: out.probabilities.data as Float32Array, logits: out.logits.data as Float32Array };
  } finally {
    await session.release();
  }
}

/** The ONNX model's outputs against predict(): same class for every sample, probabilities within 1e-5. */
async function expectSamePredictions(model: Model, file: string | Uint8Array, data: Dataset) {
  const classes = data.classes;
  const expected = await model.predict(data.inputs);
  const { probabilities, logits } = await runOnnx(file, data);
  expect(probabilities.length).toBe(expected.length);
  let differentClass = 0, largest = 0, softmaxOfLogits = 0;
  for (let n = 0; n < data.count; n++) {
    const row = n * classes;
    if (argmax(probabilities, row, classes) !== argmax(expected, row, classes)) differentClass++;
    // "logits" are the inputs of the softmax: their float64 softmax is "probabilities".
    let top = -Infinity, sum = 0;
    for (let c = 0; c < classes; c++) top = Math.max(top, logits[row + c]);
    for (let c = 0; c < classes; c++) sum += Math.exp(logits[row + c] - top);
    for (let c = 0; c < classes; c++) {
      largest = Math.max(largest, Math.abs(probabilities[row + c] - expected[row + c]));
      softmaxOfLogits = Math.max(softmaxOfLogits, Math.abs(Math.exp(logits[row + c] - top) / sum - probabilities[row + c]));
    }
  }
  expect(differentClass).toBe(0);
  expect(largest).toBeLessThanOrEqual(1e-5);
  expect(softmaxOfLogits).toBeLessThanOrEqual(1e-6);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-onnx-"));
});
afterAll(async () => {
  await fsp.rm(dir, { recursive: true, force: true });
});

describe("ONNX export of MNIST models", () => {
  let mnist: { train: Dataset; test: Dataset };
  const first = (data: Dataset, count: number): Dataset => ({
    ...data,
    inputs: data.inputs.subarray(0, count * data.features),
    labels: data.labels.subarray(0, count),
    count,
  });
  beforeAll(async () => {
    mnist = await loadMnist();
  });

  // 1000 steps of batch 10 (about a second): over 70 % accuracy, so the classes predicted vary.
  const cases: [string, ModelOptions, number][] = [
    ["the reference network (1/3/30 %, no biases)", { layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3], seed: 3 }, 10000],
    ["a network with biases and a global budget", { layers: [784, 300, 100, 10], connectivity: [0.02, 0.05, 0.3], bias: true, budget: "global", seed: 4 }, 10000],
  ];
  for (const [name, options, samples] of cases)
    it(`${name}: onnxruntime predicts as predict() on all 10 000 test samples, from an O(K) file`, async () => {
      const model = Model.create(options);
      await model.fit(first(mnist.train, samples), { epochs: 1, batchSize: 10 });
      expect((await model.evaluate(mnist.test)).accuracy).toBeGreaterThan(0.7);
      const sparse = join(dir, "sparse.onnx"), dense = join(dir, "dense.onnx");
      await exportOnnx(model, sparse);
      await exportOnnx(model, dense, { weights: "dense" });
      await expectSamePredictions(model, sparse, mnist.test);
      await expectSamePredictions(model, dense, mnist.test);

      // Sparse: 4 bytes of value + 8 of index per connection, plus biases and a small graph.
      const layers = await model.exportLayers();
      const active = layers.reduce((total, l) => total + l.theta.length, 0);
      const biases = options.bias ? 300 + 100 + 10 : 0;
      expect(readFileSync(sparse).length).toBeLessThan(12 * active + 4 * biases + 4096);
      expect(readFileSync(dense).length).toBeGreaterThan(4 * (784 * 300 + 300 * 100 + 100 * 10));
      model.dispose();
    });
});

describe("the ONNX file", () => {
  const options: ModelOptions = { layers: [30, 20, 10, 3], connectivity: [0.1, 0.3, 0.6], seed: 5, bias: true, budget: "global" };
  let model: Model;
  beforeAll(async () => {
    model = Model.create(options);
    await model.fit(blobs(90, 30, 3), { epochs: 2, lr: 0.1, batchSize: 9 });
  });
  afterAll(() => model.dispose());

  it("names its producer, opset and IR version, and carries the model options", async () => {
    const file = decode(await toOnnx(model));
    expect(file.get(1)).toEqual([7n]);  // ir_version
    expect(text(file.get(2)![0])).toBe("deepr");
    expect(text(file.get(3)![0])).toBe(JSON.parse(readFileSync(join(import.meta.dirname, "..", "package.json"), "utf8")).version);
    const opset = decode(all(file, 8)[0]);
    expect(opset.get(2)).toEqual([13n]);
    expect(text(opset.get(1)![0])).toBe("");
    const metadata = Object.fromEntries(all(file, 14).map((entry) => decode(entry)).map((e) => [text(e.get(1)![0]), text(e.get(2)![0])]));
    expect(Object.keys(metadata)).toEqual(["deepr.model"]);
    expect(JSON.parse(metadata["deepr.model"])).toEqual({ ...options, connectivity: model.options.connectivity, budgets: model.options.budgets, globalShare: "budget" });
  });

  it("holds each weight matrix as a sparse initializer: the active connections, sorted, and nothing else", async () => {
    const graph = decode(all(decode(await toOnnx(model)), 7)[0]);
    const layers = await model.exportLayers();
    const sparse = all(graph, 15).map(decode);
    expect(sparse.length).toBe(3);
    // The dense initializers are the three biases, nothing more.
    expect(all(graph, 5).map((t) => text(decode(t).get(8)![0]))).toEqual(["layers.0.bias", "layers.1.bias", "layers.2.bias"]);
    sparse.forEach((entry, l) => {
      const { inputs, outputs, positions, theta, sign } = layers[l];
      expect(packed(all(entry, 3)[0])).toEqual([BigInt(inputs), BigInt(outputs)]);  // dims
      const values = decode(all(entry, 1)[0]), indices = decode(all(entry, 2)[0]);
      expect(text(values.get(8)![0])).toBe(`layers.${l}.weight`);
      expect([packed(all(values, 1)[0]), values.get(2)]).toEqual([[BigInt(theta.length)], [1n]]);  // [K], FLOAT
      expect([packed(all(indices, 1)[0]), indices.get(2)]).toEqual([[BigInt(theta.length)], [7n]]);  // [K], INT64
      const valueBytes = Buffer.from(values.get(9)![0] as Uint8Array), indexBytes = Buffer.from(indices.get(9)![0] as Uint8Array);
      const stored = new Map<number, number>();
      let previous = -1;
      for (let k = 0; k < theta.length; k++) {
        const index = Number(indexBytes.readBigInt64LE(8 * k));
        expect(index).toBeGreaterThan(previous);
        previous = index;
        stored.set(index, valueBytes.readFloatLE(4 * k));
      }
      expect(indexBytes.length).toBe(8 * theta.length);
      expect(previous).toBeLessThan(inputs * outputs);
      for (let k = 0; k < theta.length; k++)
        expect(stored.get(positions[2 * k] * outputs + positions[2 * k + 1])).toBe(sign[k] * theta[k]);
    });
  });

  it("runs in onnxruntime with the batch size left free", async () => {
    const data = blobs(7, 30, 3, 9);
    await expectSamePredictions(model, await toOnnx(model), data);
    await expectSamePredictions(model, await toOnnx(model), { ...data, inputs: data.inputs.subarray(0, 30), labels: data.labels.subarray(0, 1), count: 1 });
  });

  it("exports a layer list with a bias in some layers only, which onnxruntime runs as predict()", async () => {
    const list = Model.create({
      layers: [
        { kind: "sparse_linear", outputs: 12, connectivity: 0.3 },
        { kind: "relu" },
        { kind: "sparse_linear", outputs: 3, connectivity: 0.6, bias: true },
        { kind: "softmax_cross_entropy" },
      ],
      inputShape: [30],
      seed: 8,
    });
    const data = blobs(60, 30, 3, 10);
    await list.fit(data, { epochs: 2, lr: 0.1 });
    for (const weights of ["sparse", "dense"] as const) await expectSamePredictions(list, await toOnnx(list, { weights }), data);
    list.dispose();
  });

  it("exportModelFile() turns a checkpoint into the same ONNX model", async () => {
    const checkpoint = join(dir, "model.safetensors"), out = join(dir, "from-checkpoint.onnx");
    await model.save(checkpoint);
    await exportModelFile(checkpoint, out, { format: "onnx" });
    expect(readFileSync(out)).toEqual(Buffer.from(await toOnnx(model)));
    await exportModelFile(checkpoint, out, { format: "onnx", weights: "dense" });
    expect(readFileSync(out)).toEqual(Buffer.from(await toOnnx(model, { weights: "dense" })));
  });

  it("refuses bad arguments with errors that say what to pass", async () => {
    await expect(exportOnnx(model, "")).rejects.toThrow(/path must be a non-empty string, got ""/);
    await expect(exportOnnx(model, 3 as unknown as string)).rejects.toThrow(TypeError);
    await expect(exportOnnx({} as Model, join(dir, "x.onnx"))).rejects.toThrow(/model must be a deepr Model/);
    await expect(toOnnx(model, { weights: "csr" as "dense" })).rejects.toThrow(/options.weights must be "sparse" or "dense", got "csr"/);
    await expect(exportModelFile(join(dir, "model.safetensors"), join(dir, "x.tflite"), { format: "tflite" as "onnx" })).rejects.toThrow(
      /options.format must be "onnx" \(the one export format\), got "tflite"/,
    );
    await expect(exportModelFile(join(dir, "missing.safetensors"), join(dir, "x.onnx"), { format: "onnx" })).rejects.toThrow(CheckpointError);
    const disposed = Model.create(options);
    disposed.dispose();
    await expect(exportOnnx(disposed, join(dir, "x.onnx"))).rejects.toThrow(/disposed/);
    expect(existsSync(join(dir, "x.onnx"))).toBe(false);
  });

  it("refuses dense weights over protobuf's 2 GiB before allocating them", async () => {
    const wide = Model.create({ layers: [30000, 20000], connectivity: 1e-6 });
    await expect(toOnnx(wide, { weights: "dense" })).rejects.toThrow(
      'deepr: cannot export the model: its dense weights take 2400000000 bytes, more than the 2 GiB a protobuf file can hold; export with { weights: "sparse" }',
    );
    expect((await toOnnx(wide)).length).toBeLessThan(12 * 600 + 1024);
    wide.dispose();
  });

  it("refuses a diverged model", async () => {
    const diverged = Model.create({ layers: [30, 20, 4], connectivity: [0.3, 0.5], bias: true, seed: 11 });
    // Finite but huge inputs: the forward pass and the loss stay finite, the update overflows.
    const inputs = new Float32Array(30 * 8).map((_, i) => ((i * 7) % 5) * 1e33);
    const data = { inputs, labels: Int32Array.from({ length: 8 }, (_, i) => i % 4), count: 8, features: 30, classes: 4 };
    await expect(diverged.fit(data, { epochs: 1, lr: 1e6, batchSize: 1 })).rejects.toThrow(/no longer finite/);
    await expect(exportOnnx(diverged, join(dir, "nan.onnx"))).rejects.toThrow(/cannot export .*nan\.onnx: layers\.1\.weight\.theta holds non-finite values/);
    diverged.dispose();
  });

  it("writes atomically: a failed write leaves the previous file and no temporary file", async () => {
    const target = join(dir, "atomic", "model.onnx");
    mkdirSync(join(dir, "atomic"));
    writeFileSync(target, "previous");
    const rename = vi.spyOn(fsp, "rename").mockRejectedValueOnce(Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" }));
    const error = await exportOnnx(model, target).catch((e: unknown) => e);
    rename.mockRestore();
    expect(error).toBeInstanceOf(ExportError);
    expect((error as Error).message).toBe(`cannot write ONNX model ${target}: ENOSPC: no space left on device; the previous file, if any, is left intact`);
    expect(readFileSync(target, "utf8")).toBe("previous");
    expect(readdirSync(join(dir, "atomic"))).toEqual(["model.onnx"]);
    await exportOnnx(model, target);
    expect(readFileSync(target)).toEqual(Buffer.from(await toOnnx(model)));

    const missing = join(dir, "no-such-dir", "model.onnx");
    await expect(exportOnnx(model, missing)).rejects.toThrow(new RegExp(`^cannot write ONNX model ${missing}: ENOENT`));
  });
});
