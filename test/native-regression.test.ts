// Regression through the addon: a network of dense_linear layers with a mean_squared_error head
// trained on float targets with Adam learns a smooth function, its loss agrees with a float64
// computation from its own predictions, and an exported state resumes bit for bit.
import { describe, expect, it } from "vitest";
import type { NativeHyper, NativeLayerState, NativeNetwork, NativeRule, NativeSpec } from "../lib/native.js";
import { throwsExactly } from "./helpers/throws.js";
import { disposedAfterEach } from "./helpers/native.js";
import { xorshift } from "./helpers/synthetic.js";

const adam: NativeRule = { optimiser: "adam", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" };
const hyper: NativeHyper = { lr: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, alpha: 0, noiseStd: 0 };
const FEATURES = 4, OUTPUTS = 2, SAMPLES = 256, BATCH = 16;

/** x uniform in [-1, 1]^4 (xorshift), targets (sin(2 x0) + x1 x2, x3^2 - 0.3). */
function regressionData(seed: number) {
  const random = xorshift(seed);
  const inputs = Float32Array.from({ length: SAMPLES * FEATURES }, () => random() * 2 - 1);
  const targets = new Float32Array(SAMPLES * OUTPUTS);
  for (let n = 0; n < SAMPLES; n++) {
    const x = inputs.subarray(n * FEATURES, (n + 1) * FEATURES);
    targets[n * OUTPUTS] = Math.sin(2 * x[0]) + x[1] * x[2];
    targets[n * OUTPUTS + 1] = x[3] * x[3] - 0.3;
  }
  return { inputs, targets };
}

/** The loss per sample of predicting each output's mean: sum_j variance_j / 2. */
function meanPredictorLoss(targets: Float32Array): number {
  let loss = 0;
  for (let j = 0; j < OUTPUTS; j++) {
    let mean = 0;
    for (let n = 0; n < SAMPLES; n++) mean += targets[n * OUTPUTS + j] / SAMPLES;
    for (let n = 0; n < SAMPLES; n++) loss += (targets[n * OUTPUTS + j] - mean) ** 2 / 2 / SAMPLES;
  }
  return loss;
}

const denseSpec: NativeSpec = {
  seed: 3,
  layers: [
    { kind: "dense_linear", inputs: FEATURES, outputs: 32, bias: true },
    { kind: "relu" },
    { kind: "dense_linear", inputs: 32, outputs: OUTPUTS, bias: true },
    { kind: "mean_squared_error" },
  ],
  rule: adam,
};
// A sparse first layer too, so the round trip carries Adam's moments of a rewired store.
const mixedSpec: NativeSpec = {
  seed: 8,
  layers: [
    { kind: "sparse_linear", inputs: FEATURES, outputs: 24, budget: 40, bias: true },
    { kind: "relu" },
    { kind: "dense_linear", inputs: 24, outputs: OUTPUTS, bias: false },
    { kind: "mean_squared_error" },
  ],
  rule: adam,
};

const network = disposedAfterEach();

const { inputs, targets } = regressionData(7);
const perEpoch = SAMPLES / BATCH;
const trainEpochs = async (net: NativeNetwork, first: number, epochs: number, h: NativeHyper = hyper) => {
  const losses: number[] = [];
  for (let epoch = first; epoch < first + epochs; epoch++)
    losses.push(...(await net.train(inputs, targets, epoch, 0, perEpoch, BATCH, h, true)).loss);
  return losses;
};

/** Arrays for every store and field of `spec`'s layers, sized from the network (sparse: its active count). */
function stateArrays(net: NativeNetwork, spec: NativeSpec): NativeLayerState[] {
  const active = net.info().layers.map((l) => l.active);
  let sparse = 0;
  return spec.layers.map((layer) => {
    const moments = (size: number) => ({ m: new Float32Array(size), v: new Float32Array(size) });
    const outputs = layer.outputs as number, inputs = layer.inputs as number;
    const bias = layer.bias ? { bias: { value: new Float32Array(outputs), ...moments(outputs) } } : {};
    if (layer.kind === "dense_linear") return { weight: { value: new Float32Array(inputs * outputs), ...moments(inputs * outputs) }, ...bias };
    if (layer.kind !== "sparse_linear") return {};
    const k = active[sparse++];
    return { weight: { positions: new Int32Array(2 * k), theta: new Float32Array(k), sign: new Int8Array(k), ...moments(k) }, ...bias };
  });
}

async function exported(net: NativeNetwork, spec: NativeSpec) {
  const state = stateArrays(net, spec);
  await net.exportState(state);
  return state;
}

describe("regression with dense_linear and mean_squared_error", () => {
  it("learns a smooth function: the loss falls below a tenth of the mean predictor's", async () => {
    const net = network(denseSpec);
    expect(net.info()).toMatchObject({ targets: "values", layers: [], hyper: ["lr", "beta1", "beta2", "epsilon", "alpha", "noiseStd"] });
    const baseline = meanPredictorLoss(targets);
    await trainEpochs(net, 0, 60);
    const { lossSum, correct } = await net.evaluate(inputs, targets);
    expect(correct).toBe(0);
    expect(lossSum / SAMPLES).toBeLessThan(0.1 * baseline);

    // The head's loss is sum_j (y_j - t_j)^2 / 2 per sample: recomputed in float64 from the predictions.
    const predicted = new Float32Array(SAMPLES * OUTPUTS);
    await net.predict(inputs, predicted);
    let expected = 0;
    for (let n = 0; n < SAMPLES * OUTPUTS; n++) expected += (predicted[n] - targets[n]) ** 2 / 2;
    expect(Math.abs(lossSum - expected)).toBeLessThan(1e-9 * SAMPLES + 1e-6 * expected);
  });

  it("resumes bit for bit from an exported state, Adam's moments and a rewired sparse store included", async () => {
    for (const spec of [denseSpec, mixedSpec]) {
      const h = { ...hyper, alpha: 1e-3, noiseStd: 1e-3 };  // the sparse store rewires
      const original = network(spec);
      await trainEpochs(original, 0, 3, h);
      const state = await exported(original, spec);
      const resumed = network(spec);
      await resumed.importState(state, original.info().step);

      const a = await trainEpochs(original, 3, 2, h), b = await trainEpochs(resumed, 3, 2, h);
      expect(b).toEqual(a);
      const after = await exported(original, spec), again = await exported(resumed, spec);
      expect(again).toEqual(after);
      expect(Array.from((after[spec.layers.length - 2].weight as Record<string, Float32Array>).m).some((m) => m !== 0)).toBe(true);
    }
  });

  it("takes the targets its head declares, and Adam's hyper-parameters by name and range", () => {
    const net = network(denseSpec);
    const labels = Int32Array.from({ length: SAMPLES }, () => 0);
    throwsExactly(() => net.train(inputs, labels, 0, 0, 1, BATCH, hyper, true), TypeError, "targets must be a Float32Array");
    throwsExactly(() => net.evaluate(inputs, targets.subarray(1)), RangeError,
      "targets must hold 2 values per sample (samples x outputs), got 511 values");
    throwsExactly(() => net.train(inputs, targets.subarray(0, 200), 0, 0, 1, BATCH, hyper, true), RangeError,
      "inputs must have 400 elements, got 1024");
    const { beta1: _, ...missing } = hyper;
    throwsExactly(() => net.train(inputs, targets, 0, 0, 1, BATCH, missing, true), TypeError, "hyper.beta1 must be a number");
    expect(() => net.train(inputs, targets, 0, 0, 1, BATCH, { ...hyper, beta2: 1 }, true)).toThrow(/^hyper\.beta2 must be in \[0, 0\.99999/);
    expect(() => net.train(inputs, targets, 0, 0, 1, BATCH, { ...hyper, epsilon: 0 }, true)).toThrow(/^hyper\.epsilon must be in \[1e-30, /);
    const classifier = network({ ...denseSpec, layers: [...denseSpec.layers.slice(0, 3), { kind: "softmax_cross_entropy" }] });
    expect(classifier.info().targets).toBe("labels");
    throwsExactly(() => classifier.evaluate(inputs, targets), TypeError, "labels must be a Int32Array");
    expect(net.info().step).toBe(0);
  });
});
