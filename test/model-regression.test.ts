// Regression through the Model API: a network with a mean_squared_error head trains on float
// targets (y = A x + c plus noise) to a hundredth of the loss of predicting each output's mean, its
// evaluate() is the float64 mean loss of its own predictions, a checkpoint resumes bit for bit,
// the ONNX file predicts what predict() does, and data that does not fit is refused by name.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toOnnx } from "../lib/export/onnx.js";
import { Model, type ModelOptions, type RegressionData } from "../lib/index.js";
import { deepr } from "./helpers/cli.js";
import { xorshift } from "./helpers/synthetic.js";
import { throwsExactly } from "./helpers/throws.js";

const FEATURES = 6, OUTPUTS = 2, SAMPLES = 512, NOISE = 0.05;

/** x uniform in [-1, 1]^6 and y = A x + c + NOISE * (uniform in [-1, 1]), from a xorshift stream. */
function linearData(seed: number, samples: number): RegressionData {
  const unit = xorshift(seed);
  const random = () => unit() * 2 - 1;
  const a = [[1.2, -0.7, 0.4, 0, 0.9, -1.1], [-0.3, 0.8, 1.5, -0.6, 0, 0.5]], c = [0.3, -0.2];
  const inputs = Float32Array.from({ length: samples * FEATURES }, random);
  const targets = new Float32Array(samples * OUTPUTS);
  for (let n = 0; n < samples; n++)
    for (let j = 0; j < OUTPUTS; j++) {
      let y = c[j] + NOISE * random();
      for (let i = 0; i < FEATURES; i++) y += a[j][i] * inputs[n * FEATURES + i];
      targets[n * OUTPUTS + j] = y;
    }
  return { inputs, targets, sampleShape: [FEATURES] };
}

/** The mean over samples of sum_j (p_j - t_j)^2 / 2, in float64: the head's loss. */
function meanLoss(predicted: ArrayLike<number>, targets: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < targets.length; k++) sum += (predicted[k] - targets[k]) ** 2 / 2;
  return sum / (targets.length / OUTPUTS);
}

/** That loss when every sample is predicted as each output's mean over the data. */
function meanPredictorLoss(targets: Float32Array): number {
  const count = targets.length / OUTPUTS;
  const means = [0, 1].map((j) => targets.filter((_, k) => k % OUTPUTS === j).reduce((s, t) => s + t, 0) / count);
  return meanLoss(Array.from(targets, (_, k) => means[k % OUTPUTS]), targets);
}

const options: ModelOptions = {
  layers: [
    { kind: "sparse_linear", outputs: 32, connectivity: 0.5, bias: true },
    { kind: "relu" },
    { kind: "sparse_linear", outputs: OUTPUTS, connectivity: 0.75, bias: true },
    { kind: "mean_squared_error" },
  ],
  inputShape: [FEATURES],
  seed: 5,
};
const fitOptions = { lr: 0.02, momentum: 0.9, alpha: 1e-5, noise: 1e-5, batchSize: 16, lrDecay: 1 };
const train = linearData(11, SAMPLES), test = linearData(12, 256);

/** The error `promise` rejects with, asserted to be exactly `type` with exactly `message`. */
async function rejectsExactly(promise: Promise<unknown>, type: typeof TypeError | typeof RangeError, message: string) {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error, message).toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-regression-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a model with a mean_squared_error head", () => {
  it("trains on float targets below a hundredth of the mean predictor's loss; evaluate() is the mean loss of predict()", async () => {
    const model = Model.create(options);
    const history = await model.fit(train, { ...fitOptions, epochs: 30, validation: test });
    const baseline = meanPredictorLoss(test.targets);
    const result = await model.evaluate(test);
    expect(Object.keys(result).sort()).toEqual(["count", "loss"]);  // no accuracy
    expect(result.count).toBe(256);
    expect(result.loss).toBeLessThan(0.01 * baseline);
    // Not below the noise: E[(NOISE u)^2 / 2] per output, u uniform in [-1, 1], is NOISE^2 / 6.
    expect(result.loss).toBeGreaterThan(0.5 * OUTPUTS * NOISE ** 2 / 6);

    const predicted = await model.predict(test);
    expect(predicted.length).toBe(256 * OUTPUTS);
    expect(Math.abs(result.loss - meanLoss(predicted, test.targets))).toBeLessThan(1e-6 * result.loss);
    const last = history[history.length - 1];
    expect(last.testLoss).toBe(result.loss);
    expect(last.testAccuracy).toBeUndefined();
    expect(last.trainAccuracy).toBeNaN();
    const snapshot = await model.snapshot();
    expect(await snapshot.predict(test.inputs)).toEqual(predicted);
    snapshot.dispose();
    model.dispose();
  }, 60_000);

  it("resumes bit for bit from a checkpoint, which deepr inspect describes layer by layer", async () => {
    const path = join(dir, "regression.safetensors");
    const original = Model.create(options);
    await original.fit(train, { ...fitOptions, epochs: 2 });
    await original.save(path);
    const loaded = await Model.load(path);
    const a = await original.fit(train, { ...fitOptions, epochs: 4 }), b = await loaded.fit(train, { epochs: 4 });
    expect(b.map((s) => s.loss)).toEqual(a.map((s) => s.loss));
    expect(await loaded.exportLayers()).toEqual(await original.exportLayers());
    expect(await loaded.predict(test)).toEqual(await original.predict(test));
    const lines = (await deepr(["inspect", path])).stdout.split("\n").filter((l) => l.startsWith("  layer "));
    expect(lines.map((l) => l.split(" ")[4].replace(";", ""))).toEqual(["sparse_linear", "relu", "sparse_linear", "mean_squared_error"]);
    original.dispose();
    loaded.dispose();
  }, 60_000);

  it("exports to ONNX a graph whose one output, predictions, is what predict() returns", async () => {
    const model = Model.create(options);
    await model.fit(train, { ...fitOptions, epochs: 3 });
    for (const weights of ["sparse", "dense"] as const) {
      const session = await ort.InferenceSession.create(await toOnnx(model, { weights }));
      try {
        expect(session.outputNames).toEqual(["predictions"]);
        const out = await session.run({ input: new ort.Tensor("float32", test.inputs, [256, FEATURES]) });
        const onnx = out.predictions.data as Float32Array;
        const expected = await model.predict(test);
        expect(onnx.length).toBe(expected.length);
        for (let k = 0; k < expected.length; k++) expect(Math.abs(onnx[k] - expected[k])).toBeLessThan(1e-5 * (1 + Math.abs(expected[k])));
      } finally {
        await session.release();
      }
    }
    model.dispose();
  }, 60_000);

  it("refuses targets that do not fit, labels, and targets given to a classifier, saying what to give", async () => {
    const model = Model.create(options);
    const { inputs, targets, sampleShape } = train;
    await rejectsExactly(model.fit({ inputs, labels: new Int32Array(SAMPLES), sampleShape } as never), TypeError,
      "data gives labels, but this is a regression model (mean_squared_error head): it takes data.targets, a Float32Array of samples x 2 values; labels are for a classification model");
    await rejectsExactly(model.evaluate({ inputs, targets: Float64Array.from(targets), sampleShape } as never), TypeError,
      "data.targets must be a Float32Array of samples x 2 values, got an object (Float64Array)");
    await rejectsExactly(model.evaluate({ inputs, targets: targets.subarray(1), sampleShape }), RangeError,
      "data.targets has 1023 values; 512 samples x 2 outputs need 1024");
    const bad = targets.slice();
    bad[7] = NaN;
    await rejectsExactly(model.fit({ inputs, targets: bad, sampleShape }, { epochs: 1 }), RangeError,
      "data.targets holds NaN at sample 3, output 1; targets must be finite");
    const infinite = inputs.slice();
    infinite[13] = Infinity;
    await rejectsExactly(model.fit({ inputs: infinite, targets, sampleShape }, { epochs: 1 }), RangeError,
      'data.inputs holds Infinity at sample 2, feature 1; inputs must be finite (or fit with onNonFinite: "skip" to leave out the batches holding such values)');
    await rejectsExactly(model.fit(train, { epochs: 1, validation: { inputs, targets, sampleShape: [3] } }), RangeError,
      "options.validation.sampleShape [3] has 3 values per sample but the model's input layer has 6 units");
    await rejectsExactly(model.evaluate({ inputs, targets } as never), TypeError,
      "data.sampleShape is required: the shape of one sample, e.g. [6]");
    expect(model.progress.step).toBe(0);

    const classifier = Model.create({ ...options, layers: [...(options.layers as object[]).slice(0, 3), { kind: "softmax_cross_entropy" }] } as ModelOptions);
    await rejectsExactly(classifier.evaluate(train as never), TypeError,
      "data gives targets, but this is a classification model (softmax_cross_entropy head): it takes data.labels, an Int32Array of class indices; regression needs a mean_squared_error head");
    model.dispose();
    classifier.dispose();
  });

  it("is planned as a head on a flat input, with no fields of its own", () => {
    const hidden = { kind: "sparse_linear", outputs: 3, connectivity: 0.5 };
    throwsExactly(() => Model.create({ layers: [hidden, { kind: "mean_squared_error", outputs: 2 }], inputShape: [FEATURES] }), TypeError,
      "options.layers[1].outputs is not an option of a mean_squared_error layer; the options are kind");
    throwsExactly(() => Model.create({ layers: [{ kind: "mean_squared_error" }], inputShape: [2, 3] }), RangeError,
      "options.layers[0] (mean_squared_error) needs one value per regression output as its input, a flat shape; the layer before it outputs [2, 3]");
    throwsExactly(() => Model.create({ layers: [{ kind: "mean_squared_error" }, hidden], inputShape: [FEATURES] }), RangeError,
      "options.layers[0] is a mean_squared_error loss head, which must be the last layer");
  });
});
