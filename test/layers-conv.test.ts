// The convolution kinds through Model: a small CNN on generated 1 x 8 x 8 images (sparse or dense
// convolution -> relu -> max_pool2d -> sparse_linear -> softmax_cross_entropy) learns through
// Model.fit, resumes bit for bit from a checkpoint, is described by `deepr inspect`, predicts in
// onnxruntime what predict() does (the ONNX Conv kernel rebuilt from the sparse store's positions
// also checked against a float64 convolution written here), and bad specs give errors naming the field.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toOnnx } from "../lib/export/onnx.js";
import { Dataset, Model, type ModelOptions } from "../lib/index.js";
import { editedCopy, loadError, setJson } from "./helpers/checkpoint-files.js";
import { deepr } from "./helpers/cli.js";
import { storeValues } from "./helpers/store-values.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-layers-conv-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

// Images with a bright 3 x 3 square whose place depends on the class, and deterministic noise.
const side = 8, classes = 3, samples = 96;
const labels = Int32Array.from({ length: samples }, (_, s) => (s * 7) % classes);
const images = Float32Array.from({ length: samples * side * side }, (_, n) => {
  const s = Math.floor(n / (side * side)), y = Math.floor((n % (side * side)) / side), x = n % side;
  const c = labels[s], inside = y >= 2 * c && y < 2 * c + 3 && x >= c && x < c + 3;
  return (inside ? 1 : 0) + 0.2 * Math.sin(n * 12.9898);
});
const data = Dataset.fromArrays({ inputs: images, labels, shape: [1, side, side], classes });

function cnn(conv: Record<string, unknown>): ModelOptions {
  return {
    inputShape: [1, side, side],
    layers: [
      conv,
      { kind: "relu" },
      { kind: "max_pool2d", kernel: 2 },
      { kind: "sparse_linear", outputs: classes, connectivity: 0.5, bias: true },
      { kind: "softmax_cross_entropy" },
    ],
    seed: 5,
  };
}
const sparse = cnn({ kind: "sparse_conv2d", outChannels: 4, kernel: 3, padding: 1, connectivity: 0.5, bias: true });
const dense = cnn({ kind: "dense_conv2d", outChannels: 4, kernel: [3, 3], padding: 1, bias: true });
const fit = { batchSize: 8, lr: 0.05, noise: 1e-3, momentum: 0.9 };

async function onnxProbabilities(bytes: Uint8Array): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ input: new ort.Tensor("float32", images, [samples, side * side]) });
    return out.probabilities.data as Float32Array;
  } finally {
    await session.release();
  }
}

describe.each([["sparse_conv2d", sparse], ["dense_conv2d", dense]] as const)("a CNN with %s", (kind, options) => {
  it("learns the images through Model.fit", async () => {
    const model = Model.create(options);
    const before = await model.evaluate(data);
    const history = await model.fit(data, { ...fit, epochs: 6 });
    const after = await model.evaluate(data);
    expect(history.at(-1)!.loss).toBeLessThan(history[0].loss);
    expect(after.accuracy).toBeGreaterThan(Math.max(before.accuracy, 0.9));
    model.dispose();
  });

  it("resumes bit for bit from a checkpoint, which deepr inspect describes", async () => {
    const straight = Model.create(options);
    await straight.fit(data, { ...fit, epochs: 2 });
    const first = Model.create(options);
    await first.fit(data, { ...fit, epochs: 1 });
    const path = join(dir, `${kind}.safetensors`);
    await first.save(path);
    const loaded = await Model.load(path);
    expect(loaded.options).toEqual(first.options);
    expect(storeValues(await loaded.exportLayers())).toEqual(storeValues(await first.exportLayers()));
    await loaded.fit(data, { epochs: 2 });
    expect(storeValues(await loaded.exportLayers())).toEqual(storeValues(await straight.exportLayers()));

    const { stdout } = await deepr(["inspect", path]);
    const lines = stdout.split("\n");
    expect(lines).toContain(
      kind === "sparse_conv2d"
        ? `  layer 0: sparse_conv2d [1 x 8 x 8] -> [4 x 8 x 8], kernel 3 x 3, stride 1, padding 1; weight sparse [9 x 4], K 18, active ${loaded.layers()[0].active} (${((100 * loaded.layers()[0].active) / 36).toFixed(3)} %) + velocity; bias dense [4] + velocity`
        : "  layer 0: dense_conv2d [1 x 8 x 8] -> [4 x 8 x 8], kernel 3 x 3, stride 1, padding 1; weight dense [4 x 1 x 3 x 3] + velocity; bias dense [4] + velocity",
    );
    expect(lines).toContain("  layer 2: max_pool2d [4 x 8 x 8] -> [4 x 4 x 4], kernel 2 x 2, stride 2, padding 0");
    expect(lines.find((line) => line.startsWith("  layer 3: "))).toMatch(/^  layer 3: sparse_linear 64 -> 3; weight sparse \[64 x 3\], K 96, active \d+ /);
    for (const model of [straight, first, loaded]) model.dispose();
  });

  it("predicts in onnxruntime what predict() does", async () => {
    const model = Model.create(options);
    await model.fit(data, { ...fit, epochs: 2 });
    const expected = await model.predict(images);
    for (const weights of kind === "sparse_conv2d" ? (["sparse", "dense"] as const) : (["dense"] as const)) {
      const probabilities = await onnxProbabilities(await toOnnx(model, { weights }));
      expect(probabilities.length).toBe(expected.length);
      const largest = probabilities.reduce((m, p, n) => Math.max(m, Math.abs(p - expected[n])), 0);
      expect(largest).toBeLessThan(1e-5);
    }
    model.dispose();
  });
});

describe("a sparse_conv2d layer's kernel", () => {
  it("is the float64 convolution of its active (entry, out channel) positions, in predict() and in ONNX", async () => {
    // conv -> a linear layer with every connection -> softmax: the reference computes both layers here.
    const options: ModelOptions = {
      inputShape: [2, 5, 4],
      layers: [
        { kind: "sparse_conv2d", outChannels: 3, kernel: [3, 2], stride: 2, padding: 1, connectivity: 0.4, bias: true },
        { kind: "sparse_linear", outputs: 2, connectivity: 1 },
        { kind: "softmax_cross_entropy" },
      ],
      seed: 9,
    };
    const model = Model.create(options);
    const [conv, linear] = await model.exportLayers();
    conv.bias!.set([0.1, -0.2, 0.3]);
    await model.importLayers([conv, linear], 0);
    const inputs = Float32Array.from({ length: 2 * 5 * 4 }, (_, n) => Math.cos(n * 1.7));
    // Output 3 x 3 x 3: (5 + 2 - 3) / 2 + 1 = 3 rows, (4 + 2 - 2) / 2 + 1 = 3 columns.
    const features = new Float64Array(27);
    for (let o = 0; o < 3; o++) for (let p = 0; p < 9; p++) features[o * 9 + p] = conv.bias![o];
    for (let k = 0; k < conv.theta.length; k++) {
      const entry = conv.positions[2 * k], o = conv.positions[2 * k + 1];
      const ic = Math.floor(entry / 6), ky = Math.floor((entry % 6) / 2), kx = entry % 2;
      for (let oy = 0; oy < 3; oy++)
        for (let ox = 0; ox < 3; ox++) {
          const y = oy * 2 + ky - 1, x = ox * 2 + kx - 1;
          if (y >= 0 && y < 5 && x >= 0 && x < 4) features[o * 9 + oy * 3 + ox] += conv.sign[k] * conv.theta[k] * inputs[(ic * 5 + y) * 4 + x];
        }
    }
    const logits = new Float64Array(2);
    for (let k = 0; k < linear.theta.length; k++)
      logits[linear.positions[2 * k + 1]] += linear.sign[k] * linear.theta[k] * features[linear.positions[2 * k]];
    const top = Math.max(...logits);
    const sum = logits.reduce((s, v) => s + Math.exp(v - top), 0);
    const predicted = await model.predict(inputs);
    logits.forEach((v, n) => expect(predicted[n]).toBeCloseTo(Math.exp(v - top) / sum, 6));
    for (const weights of ["sparse", "dense"] as const) {
      const session = await ort.InferenceSession.create(await toOnnx(model, { weights }));
      const out = await session.run({ input: new ort.Tensor("float32", inputs, [1, 40]) });
      await session.release();
      Array.from(out.probabilities.data as Float32Array).forEach((p, n) => expect(p).toBeCloseTo(Math.exp(logits[n] - top) / sum, 6));
    }
    model.dispose();
  });
});

describe("a checkpoint with a convolution", () => {
  it("whose stored layer is malformed or does not fit is refused, naming the layer", async () => {
    const model = Model.create(sparse);
    const path = join(dir, "stored.safetensors");
    await model.save(path);
    model.dispose();
    type Graph = Record<string, any>[];
    const cases: [string, (g: Graph) => void, string][] = [
      ["no kernel", (g) => delete g[0].kernel, "layer 0 (sparse_conv2d) has no input [channels, height, width] and kernel [height, width]"],
      ["no weight", (g) => delete g[0].stores.weight, "layer 0 (sparse_conv2d) has no weight store"],
      ["pool input", (g) => (g[2].input = 4), "layer 2 (max_pool2d) has no input [channels, height, width] and kernel [height, width]"],
    ];
    for (const [label, change, message] of cases) {
      const edited = await editedCopy(path, join(dir, `${label}.safetensors`), (f) => setJson(f, "deepr.graph", (g) => change(g as unknown as Graph)));
      expect(await loadError(edited)).toBe(`${edited}: deepr.graph ${message}`);
    }
    // A stride the layers after it were not planned with: the pooling's input no longer fits.
    const strided = await editedCopy(path, join(dir, "stride.safetensors"), (f) => setJson(f, "deepr.graph", (g) => ((g as unknown as Graph)[0].stride = 2)));
    expect(await loadError(strided)).toBe(
      `${strided}: deepr.graph layer 2 is {"kind":"max_pool2d","input":[4,8,8],"kernel":[2,2],"stride":2,"padding":0}, but the network the graph describes has {"kind":"max_pool2d","input":[4,4,4],"kernel":[2,2],"stride":2,"padding":0} there`,
    );
  });
});

describe("a bad convolution spec", () => {
  const at = (layers: unknown[], inputShape = [1, side, side]) => () => Model.create({ inputShape, layers: layers as ModelOptions["layers"] });
  const head = [{ kind: "sparse_linear", outputs: 2, connectivity: 1 }, { kind: "softmax_cross_entropy" }];
  it.each([
    [[{ kind: "sparse_conv2d", outChannels: 2, kernel: 3 }, ...head], [1, 8, 8], "options.layers[0].connectivity is required"],
    [[{ kind: "sparse_conv2d", outChannels: 2, kernel: 3, connectivity: 0.01 }, ...head], [1, 8, 8], "options.layers[0].connectivity = 0.01 leaves no entry"],
    [[{ kind: "dense_conv2d", outChannels: 0, kernel: 3 }, ...head], [1, 8, 8], "options.layers[0].outChannels must be an integer in [1, 2147483647], got 0"],
    [[{ kind: "dense_conv2d", outChannels: 2, kernel: [3] }, ...head], [1, 8, 8], "options.layers[0].kernel must be an integer or [height, width]"],
    [[{ kind: "dense_conv2d", outChannels: 2, kernel: 3, padding: 3 }, ...head], [1, 8, 8], "options.layers[0].padding must be an integer in [0, 2], got 3"],
    [[{ kind: "dense_conv2d", outChannels: 2, kernel: 9 }, ...head], [1, 8, 8], "options.layers[0].kernel (9 x 9) is larger than the input image (8 x 8)"],
    [[{ kind: "dense_conv2d", outChannels: 2, kernel: 3, connectivity: 0.5 }, ...head], [1, 8, 8], "options.layers[0].connectivity is not an option of a dense_conv2d layer"],
    [[{ kind: "dense_conv2d", outChannels: 2, kernel: 3 }, ...head], [64], "options.layers[0] (dense_conv2d) reads images [channels, height, width]; its input is [64]"],
    [[{ kind: "relu" }, { kind: "max_pool2d", kernel: [2, 3] }, ...head], [1, 8, 8], "options.layers[1].stride is required with a kernel of 2 x 3"],
    [[{ kind: "max_pool2d", kernel: 2, stride: 0 }, ...head], [1, 8, 8], "options.layers[0].stride must be an integer in [1, 2147483647], got 0"],
  ])("%#: names the field", (layers, inputShape, message) => {
    expect(at(layers, inputShape)).toThrow(message);
  });
});
