// The ready-made architectures (mlp, cnn, lstm): their layers and parameter counts against the
// sizes worked out by hand from the paper's networks, the mlp against the widths it stands for bit
// for bit, a short fit of each on MNIST above chance, the cnn's ONNX export in onnxruntime against
// predict(), and the input shape the command line reads the data as (test/cli-architectures.test.ts
// runs --model NAME).
import * as ort from "onnxruntime-node";
import { beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../lib/data/dataset.js";
import { loadMnist } from "../lib/data/mnist.js";
import { architectureInput } from "../lib/cli/architecture.js";
import { toOnnx } from "../lib/export/onnx.js";
import { architecture, Model, type LayerState } from "../lib/index.js";
import { throwsExactly } from "./helpers/throws.js";

let mnist: { train: Dataset; test: Dataset };
beforeAll(async () => {
  mnist = await loadMnist();
});

const first = (data: Dataset, count: number): Dataset => ({
  ...data, count, inputs: data.inputs.subarray(0, count * data.features), labels: data.labels.subarray(0, count),
});

/** Each sparse store's [inputs, outputs, K] and each layer's bias length. */
async function counts(model: Model) {
  const biases = (await model.exportLayers()).map((l: LayerState) => l.stores.bias?.value?.length ?? 0);
  return { stores: model.layers().map((l) => [l.inputs, l.outputs, l.budget]), biases };
}

describe("architecture()", () => {
  // conv 5x5: 28 -> 24, pool 2 -> 12, conv 5x5 -> 8, pool -> 4: 64 x 4 x 4 = 1024 features. A convolution's
  // store has one row per output channel of in_channels x 5 x 5 kernel entries.
  it("cnn on MNIST images [1, 28, 28]: 32 and 64 channels of 5 x 5, 1024 features into 256, 10 classes, biases, 10 % overall", async () => {
    const net = architecture("cnn");
    expect(net.inputShape).toEqual([1, 28, 28]);
    const model = Model.create({ ...net, seed: 1 });
    const p = [0.5, 0.2, 0.075, 0.5];
    const positions = [[1 * 25, 32], [32 * 25, 64], [1024, 256], [256, 10]];
    expect(await counts(model)).toEqual({ stores: positions.map(([i, o], l) => [i, o, Math.floor(i * o * p[l])]), biases: [32, 64, 256, 10] });
    const budget = positions.reduce((sum, [i, o], l) => sum + Math.floor(i * o * p[l]), 0);
    const weights = positions.reduce((sum, [i, o]) => sum + i * o, 0);
    expect(budget / weights).toBeCloseTo(0.1, 3);
    model.dispose();
  });

  it("cnn on CIFAR-10 images [3, 32, 32]: 32 -> 28 -> 14 -> 10 -> 5, so 64 x 5 x 5 = 1600 features; connectivity per layer", async () => {
    const connectivity = [0.5, 0.2, 0.05, 0.3];
    const model = Model.create({ ...architecture("cnn", { inputShape: [3, 32, 32], connectivity }), seed: 1 });
    const positions = [[3 * 25, 32], [32 * 25, 64], [1600, 256], [256, 10]];
    expect((await counts(model)).stores).toEqual(positions.map(([i, o], l) => [i, o, Math.floor(i * o * connectivity[l])]));
    model.dispose();
  });

  it("lstm on sequential MNIST [28, 28]: 4 x 128 gate rows from 28 inputs and 128 recurrent ones, a readout of 10", async () => {
    const net = architecture("lstm", { connectivity: 0.2 });
    expect(net.inputShape).toEqual([28, 28]);
    const model = Model.create({ ...net, seed: 1 });
    expect(await counts(model)).toEqual({
      stores: [[28, 512, Math.floor(28 * 512 * 0.2)], [128, 512, Math.floor(128 * 512 * 0.2)], [128, 10, 256]],
      biases: [512, 10],
    });
    model.dispose();
  });

  it("rule dense: dense convolutions and linear layers, the LSTM with every connection, and the rule passed on", () => {
    const kinds = (layers: { kind: string }[]) => layers.map((l) => l.kind).filter((k) => k !== "relu" && k !== "max_pool2d");
    expect(kinds(architecture("cnn", { rule: "dense" }).layers)).toEqual(["dense_conv2d", "dense_conv2d", "dense_linear", "dense_linear", "softmax_cross_entropy"]);
    expect(kinds(architecture("mlp", { rule: "dense" }).layers)).toEqual(["dense_linear", "dense_linear", "dense_linear", "softmax_cross_entropy"]);
    // The rule goes on to Model.create with the layers.
    const lstm = Model.create(architecture("lstm", { rule: "dense", units: 8 }));
    expect(lstm.options.rule).toBe("dense");
    expect(lstm.layers().map((l) => l.budget)).toEqual([28 * 32, 8 * 32]);
    expect(architecture("cnn")).not.toHaveProperty("rule");
    lstm.dispose();
  });

  it("mlp: the widths 784-300-100-10 at 1/3/30 % without biases, trained to the same bits", async () => {
    const data = first(mnist.train, 300);
    const listed = Model.create({ ...architecture("mlp"), seed: 7 });
    const widths = Model.create({ layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3], seed: 7 });
    for (const model of [listed, widths]) await model.fit(data, { epochs: 1 });
    const [a, b] = [await listed.exportLayers(), await widths.exportLayers()];
    expect(a.map((l) => l.stores)).toEqual(b.map((l) => l.stores));
    expect(a.length).toBe(3);
    for (const model of [listed, widths]) model.dispose();
  });

  it("refuses what it cannot build, naming the option", () => {
    throwsExactly(() => architecture("resnet" as "mlp"), RangeError, 'architecture must be one of "mlp", "cnn", "lstm", got "resnet"');
    throwsExactly(() => architecture("cnn", { connectivity: [0.1, 0.1] }), RangeError,
      "options.connectivity of the cnn architecture has one value for every layer or one per layer with connections (4), got 2");
    throwsExactly(() => architecture("lstm", { connectivity: [0.1, 0] }), RangeError, "options.connectivity[1] must be a finite number in (0, 1], got 0");
    throwsExactly(() => architecture("cnn", { inputShape: [784] }), RangeError,
      "options.inputShape of the cnn architecture has 3 dimensions, e.g. [1, 28, 28]; got [784]");
    throwsExactly(() => architecture("lstm", { hidden: 3 } as never), TypeError,
      "options.hidden is not an option of the lstm architecture; the options are inputShape, classes, connectivity, rule, bias, units");
    throwsExactly(() => architecture("cnn", { rule: "dense", connectivity: 0.5 }), RangeError,
      'options.connectivity is 0.5, but rule "dense" trains every connection; leave connectivity out, or use rule "fixed" for a fixed sparse network');
  });
});

describe("a short fit of each architecture on MNIST", () => {
  const chance = 0.1;
  // The mlp and the cnn with the reference recipe (SGD, lr 0.5, batch 10), the LSTM with Adam.
  const cases: [string, () => Model, number, object][] = [
    ["mlp", () => Model.create({ ...architecture("mlp"), seed: 2 }), 10000, { epochs: 1 }],
    ["cnn", () => Model.create({ ...architecture("cnn"), seed: 2 }), 3000, { epochs: 1 }],
    ["lstm", () => Model.create({ ...architecture("lstm"), seed: 2 }), 1000, { epochs: 1, optimizer: "adam", lr: 0.01 }],
  ];
  for (const [name, make, samples, options] of cases)
    it(`${name}: one epoch on ${samples} samples, well above chance on 1000 test samples`, async () => {
      const model = make();
      await model.fit(first(mnist.train, samples), options);
      expect((await model.evaluate(first(mnist.test, 1000))).accuracy).toBeGreaterThan(3 * chance);
      model.dispose();
    });
});

describe("the cnn's ONNX export", () => {
  async function expectSamePredictions(model: Model, data: Dataset) {
    const session = await ort.InferenceSession.create(await toOnnx(model));
    try {
      const out = await session.run({ input: new ort.Tensor("float32", data.inputs, [data.count, data.features]) });
      const got = out.probabilities.data as Float32Array;
      const expected = await model.predict(data.inputs);
      expect(got.length).toBe(expected.length);
      let largest = 0;
      for (let v = 0; v < got.length; v++) largest = Math.max(largest, Math.abs(got[v] - expected[v]));
      expect(largest).toBeLessThanOrEqual(1e-5);
    } finally {
      await session.release();
    }
  }

  it("runs in onnxruntime and predicts as predict()", async () => {
    const model = Model.create({ ...architecture("cnn"), seed: 4 });
    await model.fit(first(mnist.train, 1000), { epochs: 1 });
    await expectSamePredictions(model, first(mnist.test, 200));
    model.dispose();
  });

  it("names two poolings in a row apart", async () => {
    const model = Model.create({
      inputShape: [1, 12, 12],
      layers: [
        { kind: "sparse_conv2d", outChannels: 2, kernel: 3, padding: 1, connectivity: 0.5 },
        { kind: "max_pool2d", kernel: 2 }, { kind: "max_pool2d", kernel: 3 }, { kind: "relu" }, { kind: "relu" },
        { kind: "sparse_linear", outputs: 3, connectivity: 0.5, bias: true }, { kind: "softmax_cross_entropy" },
      ],
      seed: 5,
    });
    const inputs = Float32Array.from({ length: 4 * 144 }, (_, v) => Math.sin(v));
    await expectSamePredictions(model, { inputs, labels: new Int32Array(4), count: 4, features: 144, classes: 3, sampleShape: [1, 12, 12] });
    model.dispose();
  });
});

describe("the input shape --model NAME reads the data as", () => {
  it("cnn: images as they are; lstm: sequences as they are, one-channel images row by row", () => {
    expect(architectureInput("cnn", [3, 32, 32], "--dataset cifar10")).toEqual([3, 32, 32]);
    expect(architectureInput("lstm", [1, 28, 28], "--dataset mnist")).toEqual([28, 28]);
    expect(architectureInput("lstm", [50, 13], "--data x.npy")).toEqual([50, 13]);
  });

  it("refuses samples of another shape, naming the data", () => {
    expect(() => architectureInput("cnn", [6], "--data points.csv")).toThrow(
      "--model cnn reads images [channels, height, width], but --data points.csv has samples of shape [6]; give images (a .npy file of shape [samples, channels, height, width])",
    );
    expect(() => architectureInput("lstm", [3, 32, 32], "--dataset cifar10")).toThrow(
      "--model lstm reads sequences [time, features] (or one-channel images, row by row), but --dataset cifar10 has samples of shape [3, 32, 32]",
    );
  });
});
