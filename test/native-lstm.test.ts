// A sparse_lstm network through the addon's generic layer records: its stores' state exported and
// imported into a fresh network resumes training bit for bit, and clipNorm, the step's own setting,
// is taken beside the rule's hyper-parameters and changes the step.
import { describe, expect, it } from "vitest";
import type { NativeHyper, NativeLayerState, NativeNetwork, NativeSpec } from "../lib/native.js";
import { throwsExactly } from "./helpers/throws.js";
import { disposedAfterEach } from "./helpers/native.js";

const steps = 6, features = 4, units = 8, classes = 3, samples = 48;
const spec: NativeSpec = {
  seed: 11,
  layers: [
    { kind: "sparse_lstm", steps, features, units, inputBudget: 40, recurrentBudget: 60, sequence: false },
    { kind: "sparse_linear", inputs: units, outputs: classes, budget: 12, bias: true },
    { kind: "softmax_cross_entropy" },
  ],
  rule: { optimiser: "momentum", prior: "deep-r", structure: "deep-r", budget: "global", globalShare: "budget" },
};
const inputs = Float32Array.from({ length: samples * steps * features }, (_, n) => Math.sin(n * 0.37) * 1.5);
const labels = Int32Array.from({ length: samples }, (_, n) => (n * 7) % classes);
// lr * alpha and the noise make connections die and regrow in most steps.
const hyper: NativeHyper = { lr: 0.1, alpha: 0.02, noiseStd: 0.01, momentum: 0.9, clipNorm: 0.05 };

const build = disposedAfterEach();
const network = () => build(spec);

const train = (net: NativeNetwork, epoch: number, record: NativeHyper = hyper) => net.train(inputs, labels, epoch, 0, 6, 8, record, true);

/** Arrays for every field of every store, sized from the network's sparse stores (in id order). */
function stateArrays(net: NativeNetwork): NativeLayerState[] {
  const [input, recurrent, readout] = net.info().layers.map((l) => l.active);
  const sparse = (k: number) => ({ positions: new Int32Array(2 * k), theta: new Float32Array(k), sign: new Int8Array(k), velocity: new Float32Array(k) });
  const dense = (n: number) => ({ value: new Float32Array(n), velocity: new Float32Array(n) });
  return [
    { input_weight: sparse(input), recurrent_weight: sparse(recurrent), bias: dense(4 * units) },
    { weight: sparse(readout), bias: dense(classes) },
    {},
  ];
}

async function exported(net: NativeNetwork): Promise<NativeLayerState[]> {
  const state = stateArrays(net);
  await net.exportState(state);
  return state;
}

describe("a sparse_lstm network in the addon", () => {
  it("lists its stores with their budgets and starts with the forget gate's bias at 1", async () => {
    const net = network();
    expect(net.info().layers).toEqual([
      { inputs: features, outputs: 4 * units, active: 40, budget: 40 },
      { inputs: units, outputs: 4 * units, active: 60, budget: 60 },
      { inputs: units, outputs: classes, active: 12, budget: 12 },
    ]);
    const bias = (await exported(net))[0].bias.value!;
    expect(Array.from(bias)).toEqual(Array.from({ length: 4 * units }, (_, j) => (j >= units && j < 2 * units ? 1 : 0)));
  });

  it("resumes bit for bit from an exported state", async () => {
    const straight = network();
    await train(straight, 0);
    await train(straight, 1);
    const stopped = network();
    await train(stopped, 0);
    const saved = await exported(stopped);
    const resumed = network();
    await resumed.importState(saved, stopped.info().step);
    const r = await train(resumed, 1);
    expect(r.rewired.reduce((a, b) => a + b)).toBeGreaterThan(0);  // the resumed epoch rewired connections
    expect(await resumed.check()).toBe("");
    expect(await exported(resumed)).toEqual(await exported(straight));
    expect(resumed.info().step).toBe(straight.info().step);
  });

  it("takes clipNorm beside the rule's hyper-parameters: left out or 0 it is off", async () => {
    const results = [];
    for (const record of [hyper, { ...hyper, clipNorm: 0 }, (({ clipNorm: _, ...rest }) => rest)(hyper)]) {
      const net = network();
      await train(net, 0, record);
      results.push(await exported(net));
    }
    expect(results[1]).toEqual(results[2]);
    expect(results[0]).not.toEqual(results[1]);
    const net = network();
    throwsExactly(() => train(net, 0, { ...hyper, clipNorm: -1 }), RangeError, "hyper.clipNorm must be in [0, 3.4e+38], got -1");
  });
});
