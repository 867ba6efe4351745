// The addon's side of the declarations: train() takes the step's hyper-parameters as a
// {name: number} record of exactly the names the core declares, and the network spec's invariants
// are the core's own, reported as a RangeError that names the spec.
import { afterEach, describe, expect, it } from "vitest";
import { native, type NativeHyper, type NativeNetwork } from "../lib/native.js";
import { throwsExactly } from "./helpers/throws.js";

const spec = { sizes: [6, 5, 3], budgets: [12, 6], bias: false, momentum: true, globalBudget: false, share: 0 as const, seed: 4 };
const inputs = Float32Array.from({ length: 4 * 6 }, (_, n) => (n % 7) / 7);
const labels = Int32Array.from([0, 1, 2, 1]);
const hyper: NativeHyper = { lr: 0.1, alpha: 1e-4, noiseStd: 1e-3, momentum: 0.5 };

let nets: NativeNetwork[] = [];
const network = (s: object = spec) => {
  const net = new (native().NativeNetwork)(s as typeof spec);
  nets.push(net);
  return net;
};
afterEach(() => {
  for (const net of nets) net.dispose();
  nets = [];
});

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
      "hyper.beta1 is not a hyper-parameter of this addon; it takes lr, alpha, noiseStd, momentum");
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
});

describe("the native network spec", () => {
  it("is checked by the core: a shape it cannot build is a RangeError naming the spec", () => {
    const cases: [object, string][] = [
      [{ ...spec, sizes: [6], budgets: [] }, "spec: a network needs at least an input and an output size"],
      [{ ...spec, sizes: [6, 5, 1] }, "spec: the output layer needs at least 2 classes"],
      [{ ...spec, budgets: [12] }, "spec: one budget per layer is required"],
      [{ ...spec, budgets: [31, 6] }, "spec: budget of layer 0 must be in [1, min(positions, 2^31 - 1)]"],
    ];
    for (const [bad, message] of cases) throwsExactly(() => network(bad), RangeError, message);
  });

  it("still converts only values that fit the core's integers", () => {
    expect(() => network({ ...spec, sizes: [2 ** 32, 5, 3] })).toThrow(/^spec\.sizes\[\] must be an integer in \[1, 2147483647\]/);
    expect(() => network({ ...spec, budgets: [2 ** 31, 6] })).toThrow(/^spec\.budgets\[\] must be an integer in \[1, 2147483647\]/);
  });
});
