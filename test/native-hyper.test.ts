// The addon's side of the declarations: train() takes the step's hyper-parameters as a
// {name: number} record of exactly the names the network's rule declares, setRule() changes the
// rule between train() calls, and the network spec's invariants are the core's own, reported as a
// RangeError that names the spec and the layer.
import { describe, expect, it } from "vitest";
import type { NativeHyper, NativeNetwork, NativeRule, NativeSpec } from "../lib/native.js";
import { throwsExactly } from "./helpers/throws.js";
import { disposedAfterEach } from "./helpers/native.js";

const rule: NativeRule = { optimiser: "momentum", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" };
const spec: NativeSpec = {
  seed: 4,
  layers: [
    { kind: "sparse_linear", inputs: 6, outputs: 5, budget: 12, bias: false },
    { kind: "relu" },
    { kind: "sparse_linear", inputs: 5, outputs: 3, budget: 6, bias: false },
    { kind: "softmax_cross_entropy" },
  ],
  rule,
};
/** The spec with layer `n` replaced. */
const withLayer = (n: number, layer: object) => ({ ...spec, layers: spec.layers.map((l, i) => (i === n ? layer : l)) });
const inputs = Float32Array.from({ length: 4 * 6 }, (_, n) => (n % 7) / 7);
const labels = Int32Array.from([0, 1, 2, 1]);
const hyper: NativeHyper = { lr: 0.1, alpha: 1e-4, noiseStd: 1e-3, momentum: 0.5 };

const build = disposedAfterEach();
const network = (s: object = spec) => build(s as NativeSpec);

const train = (net: NativeNetwork, record: unknown) => net.train(inputs, labels, 0, 0, 2, 2, record as NativeHyper, true);

describe("the native hyper-parameter record", () => {
  it("trains with the declared names and advances the step", async () => {
    const net = network();
    const r = await train(net, hyper);
    expect(r.step).toBe(2);
    expect(r.loss).toHaveLength(2);
  });

  it("rejects a name the core does not declare, listing those it does", async () => {
    const net = network();
    throwsExactly(() => train(net, { ...hyper, beta1: 0.9 }), RangeError,
      "hyper.beta1 is not a hyper-parameter of this network's rule; it takes lr, momentum, alpha, noiseStd");
    expect(net.info().step).toBe(0);
  });

  it("requires every declared name, as a finite float32 in the range the update needs", async () => {
    const net = network();
    const { momentum: _, ...missing } = hyper;
    throwsExactly(() => train(net, missing), TypeError, "hyper.momentum must be a number");
    throwsExactly(() => train(net, { ...hyper, momentum: 1.5 }), RangeError, "hyper.momentum must be in [0, 1], got 1.5");
    expect(() => train(net, { ...hyper, lr: 1e39 })).toThrow(/^hyper\.lr must be in \[0, 3\.4e\+38\]/);
    expect(() => train(net, { ...hyper, noiseStd: -1e-9 })).toThrow(/^hyper\.noiseStd must be in/);
    expect(() => train(net, { ...hyper, alpha: Number.NaN })).toThrow(/^hyper\.alpha must be finite/);
    throwsExactly(() => train(net, null), TypeError, "hyper must be an object");
    expect(net.info().step).toBe(0);
  });

  it("follows the rule: SGD declares no momentum, and setRule() changes the names", async () => {
    const net = network({ ...spec, rule: { ...rule, optimiser: "sgd" } });
    expect(net.info().hyper).toEqual(["lr", "alpha", "noiseStd"]);
    throwsExactly(() => train(net, hyper), RangeError, "hyper.momentum is not a hyper-parameter of this network's rule; it takes lr, alpha, noiseStd");
    const { momentum: _, ...sgd } = hyper;
    await train(net, sgd);
    net.setRule(rule);
    expect(net.info().hyper).toEqual(["lr", "momentum", "alpha", "noiseStd"]);
    expect((await train(net, hyper)).step).toBe(4);
  });
});

describe("setRule()", () => {
  it("adds velocities at zero when switching to momentum, and refuses unknown parts", async () => {
    const net = network({ ...spec, rule: { ...rule, optimiser: "sgd" } });
    const state = () => {
      const [first, second] = net.info().layers;
      return [
        { weight: { positions: new Int32Array(2 * first.active), theta: new Float32Array(first.active), sign: new Int8Array(first.active), velocity: new Float32Array(first.active).fill(7) } },
        {},
        { weight: { positions: new Int32Array(2 * second.active), theta: new Float32Array(second.active), sign: new Int8Array(second.active), velocity: new Float32Array(second.active).fill(7) } },
        {},
      ];
    };
    net.setRule(rule);
    const exported = state();
    await net.exportState(exported);
    expect(exported.map((l) => Array.from(l.weight?.velocity ?? []))).toEqual([Array(12).fill(0), [], Array(6).fill(0), []]);
    throwsExactly(() => net.setRule({ ...rule, optimiser: "rmsprop" } as unknown as NativeRule), RangeError, 'rule.optimiser is "rmsprop"; the core knows sgd, momentum, adam');
    throwsExactly(() => net.setRule({ ...rule, prior: undefined } as unknown as NativeRule), TypeError, "rule.prior must be a string");
    expect(net.info().hyper).toEqual(["lr", "momentum", "alpha", "noiseStd"]);
  });
});

describe("the native network spec", () => {
  it("is checked by the core: a layer list it cannot build is a RangeError naming the layer", () => {
    const cases: [object, string][] = [
      [{ ...spec, layers: spec.layers.slice(3) }, "spec: a network needs at least one layer and a loss head"],
      [withLayer(2, { ...spec.layers[2], outputs: 1, budget: 5 }), "spec: layer 3 (softmax_cross_entropy): the loss head needs a layer below it with at least 2 outputs (the classes)"],
      [{ ...spec, layers: spec.layers.slice(0, 3) }, "spec: the last layer (sparse_linear) is not a loss head"],
      [withLayer(0, { ...spec.layers[0], budget: 31 }), "spec: layer 0 (sparse_linear): budget must be an integer in [1, 30], got 31"],
      [withLayer(2, { ...spec.layers[2], inputs: 4 }), "spec: layer 2 (sparse_linear): inputs is 4, but the layer below gives 5"],
      [withLayer(1, { kind: "conv3d" }), "spec: layer 1 (conv3d): not a layer kind of the core (it knows sparse_linear, relu, softmax_cross_entropy, sparse_conv2d, dense_conv2d, max_pool2d, sparse_lstm, dense_linear, mean_squared_error)"],
      [withLayer(1, { kind: "relu", size: 5 }), "spec: layer 1 (relu): size is not a field of this kind"],
      [{ ...spec, rule: { ...rule, budget: "net" } }, 'spec: rule.budget is "net"; the core knows layer, global'],
    ];
    for (const [bad, message] of cases) throwsExactly(() => network(bad), RangeError, message);
  });

  it("converts a layer's fields generically: numbers and booleans only", () => {
    throwsExactly(() => network(withLayer(0, { ...spec.layers[0], bias: "yes" })), TypeError, "spec.layers[0].bias must be a number or a boolean");
    throwsExactly(() => network(withLayer(0, { ...spec.layers[0], kind: 3 })), TypeError, "spec.layers[0].kind must be a string");
    throwsExactly(() => network({ ...spec, layers: 3 }), TypeError, "spec.layers must be an array");
    throwsExactly(() => network({ ...spec, seed: -1 }), RangeError, "spec.seed must be an integer in [0, 9007199254740991], got -1.000000");
  });
});
