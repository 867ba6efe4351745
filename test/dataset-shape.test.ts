// Data sets carry the shape of one sample (Dataset.sampleShape): the loaders and helpers set it,
// Model.fit, evaluate and predict take samples with their shape (or the flat form of before) and
// check that its product is the model's input size.
import { describe, expect, it } from "vitest";
import { Dataset } from "../lib/data/dataset.js";
import { loadMnistTest } from "../lib/data/mnist.js";
import { parseCsv } from "../lib/data/csv.js";
import { Model } from "../lib/model.js";
import { blobs } from "./helpers/synthetic.js";

const spec = { layers: [6, 5, 3], connectivity: [0.5, 1], seed: 7 };

/** A model after one epoch on `data`, and what it learnt. */
async function trained(data: Parameters<Model["fit"]>[0]) {
  const model = Model.create(spec);
  const history = await model.fit(data, { epochs: 1, batchSize: 4, noise: 1e-3 });
  return { model, history, layers: await model.exportLayers() };
}

/** The rejection `promise` ends with: its class and message. */
const rejection = (promise: Promise<unknown>) =>
  promise.then(() => undefined, (e: Error) => [e.constructor.name, e.message]);

describe("the sample shape of a data set", () => {
  it("is set by every loader and helper, and its product is features", async () => {
    const mnist = await loadMnistTest();
    expect([mnist.sampleShape, mnist.features]).toEqual([[1, 28, 28], 784]);
    const arrays = Dataset.fromArrays({ inputs: new Float32Array(24), labels: [0, 1], shape: [3, 2, 2] });
    expect([arrays.sampleShape, arrays.features, arrays.shape]).toEqual([[3, 2, 2], 12, [3, 2, 2]]);
    expect(Dataset.fromArrays({ inputs: [[1, 2], [3, 4]], labels: [0, 1] }).sampleShape).toEqual([2]);
    expect(parseCsv("label,a,b,c\n0,1,2,3\n1,4,5,6\n", "t.csv").sampleShape).toEqual([3]);
    const { train, test } = Dataset.split(arrays, { testFraction: 0.5 });
    expect([train.sampleShape, test.sampleShape]).toEqual([[3, 2, 2], [3, 2, 2]]);
    expect(Dataset.normalize(arrays, "minmax").sampleShape).toEqual([3, 2, 2]);
    // A data set of the form before sample shapes gets flat samples from the helpers.
    const flat = blobs(10, 6, 3);
    expect("sampleShape" in flat).toBe(false);
    expect(Dataset.normalize(flat, "none").sampleShape).toEqual([6]);
    expect(Dataset.split(flat).train).toMatchObject({ sampleShape: [6], features: 6, classes: 3, count: 8 });
  });

  it("lets fit, evaluate and predict take { inputs, labels, sampleShape } alone, with the results of the flat form", async () => {
    const flat = blobs(40, 6, 3);
    const shaped = { inputs: flat.inputs, labels: flat.labels, sampleShape: [2, 3] };
    const a = await trained(flat), b = await trained(shaped);
    expect(b.layers).toEqual(a.layers);
    expect(b.history.map((e) => e.loss)).toEqual(a.history.map((e) => e.loss));
    expect(await b.model.evaluate(shaped)).toEqual(await a.model.evaluate(flat));
    const probabilities = await a.model.predict(flat.inputs);
    expect(await b.model.predict(shaped)).toEqual(probabilities);
    expect(await b.model.predict({ inputs: flat.inputs, sampleShape: [6] })).toEqual(probabilities);
    const snapshot = await b.model.snapshot();
    expect(await snapshot.predict(shaped)).toEqual(probabilities);
    snapshot.dispose();
    a.model.dispose();
    b.model.dispose();
  });

  it("must hold the model's input size: the error names both", async () => {
    const model = Model.create(spec);
    const data = blobs(8, 6, 3);
    const wrong = { inputs: data.inputs, labels: data.labels, sampleShape: [2, 2] };
    const message = (name: string) => `${name}.sampleShape [2, 2] has 4 values per sample but the model's input layer has 6 units`;
    expect(await rejection(model.fit(wrong))).toEqual(["RangeError", message("data")]);
    expect(await rejection(model.fit(data, { validation: wrong }))).toEqual(["RangeError", message("options.validation")]);
    expect(await rejection(model.evaluate(wrong))).toEqual(["RangeError", message("data")]);
    expect(await rejection(model.predict(wrong))).toEqual(["RangeError", message("inputs")]);
    // A Dataset's own fields must agree with its shape.
    const mnist = await loadMnistTest();
    expect(await rejection(model.evaluate(mnist))).toEqual(["RangeError", "data.sampleShape [1, 28, 28] has 784 values per sample but the model's input layer has 6 units"]);
    expect(await rejection(model.fit({ ...data, sampleShape: [3, 2], count: 7 }))).toEqual(["RangeError", "data.labels has 8 entries for 7 samples"]);
    expect(await rejection(model.fit({ inputs: data.inputs.subarray(1), labels: data.labels, sampleShape: [6] }))).toEqual(
      ["RangeError", "data.inputs has 47 values; 8 samples x 6 features need 48"],
    );
    for (const [bad, error] of [
      [[], ["RangeError", "data.sampleShape must have at least one dimension, e.g. [features]"]],
      [[6, 0], ["RangeError", "data.sampleShape[1] must be an integer in [1, 2147483647], got 0"]],
      [[1.5, 4], ["RangeError", "data.sampleShape[0] must be an integer in [1, 2147483647], got 1.5"]],
      ["6", ["TypeError", 'data.sampleShape must be an array of dimension sizes, got "6"']],
    ] as const)
      expect(await rejection(model.fit({ inputs: data.inputs, labels: data.labels, sampleShape: bad as never }))).toEqual(error);
    expect(await rejection(model.predict({ inputs: data.inputs.subarray(1), sampleShape: [6] }))).toEqual(
      ["RangeError", "inputs.inputs must hold a whole number of samples of shape [6], got 47 values"],
    );
    model.dispose();
  });
});
