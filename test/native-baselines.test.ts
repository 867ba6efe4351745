// The comparison rules through the addon: a NativeNetwork built from a layer list and a rule
// record {optimiser, prior, structure, budget, globalShare, ...the structure's settings} trains the
// MLP with fixed sparsity, dense training, Han et al.'s pruning and l1-shrinkage with a final
// threshold, and reports the connectivity it reaches (info().layers: active / inputs x outputs).
import { describe, expect, it } from "vitest";
import { native, type NativeHyper, type NativeLayerState, type NativeNetwork, type NativeRule, type NativeSpec } from "../lib/native.js";
import { throwsExactly } from "./helpers/throws.js";
import { blobs } from "./helpers/synthetic.js";
import { disposedAfterEach } from "./helpers/native.js";

const data = blobs(240, 20, 4, 3);
const batchSize = 16;
const batchesPerEpoch = 240 / batchSize;

// lib/native.ts types today's rule (deep-r only); the addon takes any rule record by names.
const ruleOf = (record: Record<string, string | number>) =>
  ({ optimiser: "sgd", budget: "layer", globalShare: "budget", ...record }) as unknown as NativeRule;

/** The MLP 20-16-4 with biases; `budgets` of the two sparse_linear layers (320 and 64 positions). */
const specOf = (budgets: [number, number], rule: NativeRule, seed = 7): NativeSpec => ({
  seed,
  layers: [
    { kind: "sparse_linear", inputs: 20, outputs: 16, budget: budgets[0], bias: true },
    { kind: "relu" },
    { kind: "sparse_linear", inputs: 16, outputs: 4, budget: budgets[1], bias: true },
    { kind: "softmax_cross_entropy" },
  ],
  rule,
});
const dense: [number, number] = [320, 64];

const network = disposedAfterEach();

/** One epoch, the strict-bound invariant checked after every step; the mean loss of its batches. */
async function epoch(net: NativeNetwork, e: number, hyper: NativeHyper): Promise<number> {
  const r = await net.train(data.inputs, data.labels, e, 0, batchesPerEpoch, batchSize, hyper, true);
  return r.loss.reduce((a, b) => a + b, 0) / r.loss.length;
}

/** Active connections per sparse store, and the network's connectivity. */
function connectivity(net: NativeNetwork): { active: number[]; overall: number } {
  const layers = net.info().layers;
  const active = layers.map((l) => l.active);
  const positions = layers.reduce((sum, l) => sum + l.inputs * l.outputs, 0);
  return { active, overall: active.reduce((a, b) => a + b, 0) / positions };
}

/** The network's state in the addon's layout (momentum: with velocities). */
async function exportOf(net: NativeNetwork, momentum = false): Promise<NativeLayerState[]> {
  const active = net.info().layers.map((l) => l.active);
  const outputs = [16, 4];
  const stores = [0, 1].map((s) => ({
    weight: {
      positions: new Int32Array(2 * active[s]),
      theta: new Float32Array(active[s]),
      sign: new Int8Array(active[s]),
      ...(momentum ? { velocity: new Float32Array(active[s]) } : {}),
    },
    bias: { value: new Float32Array(outputs[s]), ...(momentum ? { velocity: new Float32Array(outputs[s]) } : {}) },
  }));
  const state: NativeLayerState[] = [stores[0], {}, stores[1], {}];
  await net.exportState(state);
  return state;
}

const thetas = (state: NativeLayerState[]) => [state[0], state[2]].flatMap((s) => Array.from(s.weight.theta as Float32Array));

describe("the baseline rules through the addon", () => {
  it("dense training (fixed structure, every position in the budget) keeps every connection and learns", async () => {
    const net = network(specOf(dense, ruleOf({ prior: "none", structure: "fixed" })));
    expect(net.info().hyper).toEqual(["lr"]);
    const first = await epoch(net, 0, { lr: 0.2 });
    let last = first;
    for (let e = 1; e < 5; e++) {
      last = await epoch(net, e, { lr: 0.2 });
      expect(connectivity(net).overall).toBe(1);
    }
    expect(last).toBeLessThan(0.7 * first);
    expect(thetas(await exportOf(net)).some((t) => t < 0)).toBe(true);  // signed weights, still active
    expect(await net.check()).toBe("");
  });

  it("fixed sparsity never rewires: the same connections after training, theta free to change sign", async () => {
    const net = network(specOf([64, 16], ruleOf({ prior: "l2", structure: "fixed", optimiser: "momentum" })));
    expect(net.info().hyper).toEqual(["lr", "momentum", "weightDecay"]);
    const before = await exportOf(net, true);
    for (let e = 0; e < 4; e++) await epoch(net, e, { lr: 0.3, momentum: 0.5, weightDecay: 1e-3 });
    const after = await exportOf(net, true);
    expect(connectivity(net)).toEqual({ active: [64, 16], overall: 80 / 384 });
    for (const l of [0, 2]) {
      expect(after[l].weight.positions).toEqual(before[l].weight.positions);
      expect(after[l].weight.sign).toEqual(before[l].weight.sign);
    }
    expect(thetas(after).filter((t) => t < 0).length).toBeGreaterThan(0);
  });

  it("pruning removes connections only at its scheduled steps and reports the connectivity it reaches", async () => {
    // Dense for 2 epochs (30 steps), then a prune every epoch, 3 in all, retraining in between.
    const rule = ruleOf({ prior: "l2", structure: "prune", pruneStart: 29, pruneEvery: 15, pruneTimes: 3, quality: 0.8 });
    const net = network(specOf(dense, rule));
    expect(net.info().hyper).toEqual(["lr", "weightDecay"]);
    const reached: number[] = [];
    const losses: number[] = [];
    for (let e = 0; e < 6; e++) {
      losses.push(await epoch(net, e, { lr: 0.2, weightDecay: 1e-3 }));
      reached.push(connectivity(net).overall);
    }
    // Epochs 0 .. 5 end at steps 14, 29, 44, 59, 74, 89: the prunes after steps 29, 44 and 59.
    expect(reached[0]).toBe(1);
    expect(reached[1]).toBeLessThan(1);
    expect(reached[2]).toBeLessThan(reached[1]);
    expect(reached[3]).toBeLessThan(reached[2]);
    expect(reached[4]).toBe(reached[3]);
    expect(reached[5]).toBe(reached[3]);
    expect(reached[3]).toBeLessThan(0.6);
    const state = await exportOf(net);
    expect(state[0].weight.theta!.length + state[2].weight.theta!.length).toBe(connectivity(net).active.reduce((a, b) => a + b));
    expect(losses[5]).toBeLessThan(losses[0]);  // the retrained network still learns
  });

  it("l1-shrinkage with a final threshold (prune with quality 0) removes exactly the weights it zeroed", async () => {
    const steps = 4 * batchesPerEpoch;
    const shrink = ruleOf({ prior: "l1-shrink", structure: "fixed" });
    const threshold = ruleOf({ prior: "l1-shrink", structure: "prune", pruneStart: steps - 1, pruneEvery: 1, pruneTimes: 1, quality: 0 });
    const reference = network(specOf(dense, shrink));
    const net = network(specOf(dense, threshold));
    expect(net.info().hyper).toEqual(["lr", "alpha"]);
    for (let e = 0; e < 4; e++) {
      await epoch(reference, e, { lr: 0.2, alpha: 0.02 });
      await epoch(net, e, { lr: 0.2, alpha: 0.02 });
    }
    const zeroed = thetas(await exportOf(reference)).filter((t) => t === 0).length;
    expect(zeroed).toBeGreaterThan(0);
    expect(connectivity(net).overall).toBe((384 - zeroed) / 384);
    expect(thetas(await exportOf(net)).includes(0)).toBe(false);
  });

  it("a signed state round-trips: exported, imported into a fresh network, training resumes exactly", async () => {
    const rule = ruleOf({ prior: "l2", structure: "prune", pruneStart: 10, pruneEvery: 20, pruneTimes: 2, quality: 0.5 });
    const hyper = { lr: 0.3, weightDecay: 1e-3 };
    const net = network(specOf(dense, rule));
    for (let e = 0; e < 2; e++) await epoch(net, e, hyper);
    const saved = await exportOf(net);
    expect(thetas(saved).some((t) => t < 0)).toBe(true);
    const resumed = network(specOf(dense, rule));
    await resumed.importState(saved, net.info().step);
    for (let e = 2; e < 4; e++) {
      await epoch(net, e, hyper);
      await epoch(resumed, e, hyper);
    }
    expect(await exportOf(resumed)).toEqual(await exportOf(net));
    // DEEP R's rule reads theta below 0 as dormant: such a state is refused.
    const deepR = network(specOf(dense, ruleOf({ prior: "deep-r", structure: "deep-r" })));
    await expect(deepR.importState(saved, 0)).rejects.toThrow(/^layers\[[02]\]\.weight: theta of connection \d+ is -[\d.]+; an active connection has a finite theta >= 0$/);
  });

  it("gives the same bits on 1 and 2 threads", async () => {
    const wide = blobs(224, 300, 10, 5);
    const rule = ruleOf({ prior: "l2", structure: "prune", pruneStart: 2, pruneEvery: 2, pruneTimes: 2, quality: 0.7 });
    const threads = native().threads();
    const states: NativeLayerState[][] = [];
    try {
      for (const t of [1, 2]) {
        native().setThreads(t);
        const net = network({ ...specOf(dense, rule), layers: [
          { kind: "sparse_linear", inputs: 300, outputs: 100, budget: 30000, bias: false },
          { kind: "relu" },
          { kind: "sparse_linear", inputs: 100, outputs: 10, budget: 1000, bias: false },
          { kind: "softmax_cross_entropy" },
        ] });
        for (let e = 0; e < 3; e++) await net.train(wide.inputs, wide.labels, e, 0, 2, 112, { lr: 0.1, weightDecay: 1e-3 }, true);
        const active = net.info().layers.map((l) => l.active);
        expect(active[0]).toBeLessThan(30000);
        const state: NativeLayerState[] = [0, 1].map((s) => ({
          weight: { positions: new Int32Array(2 * active[s]), theta: new Float32Array(active[s]), sign: new Int8Array(active[s]) },
        }));
        const layers = [state[0], {}, state[1], {}];
        await net.exportState(layers);
        states.push(layers);
      }
    } finally {
      native().setThreads(threads);
    }
    expect(states[1]).toEqual(states[0]);
  });

  it("refuses structure settings the rule does not take, by name", () => {
    throwsExactly(() => network(specOf(dense, ruleOf({ prior: "none", structure: "fixed", quality: 1 }))), RangeError,
      'spec: rule.quality is not a setting of rule.structure "fixed"; it takes none');
    throwsExactly(() => network(specOf(dense, ruleOf({ prior: "l2", structure: "prune", pruneStart: 0, pruneEvery: 1, pruneTimes: 1 }))), RangeError,
      'spec: rule.structure "prune" needs rule.quality (it takes pruneStart, pruneEvery, pruneTimes, quality)');
    throwsExactly(() => network(specOf(dense, ruleOf({ prior: "none", structure: "fixed", quality: "high" }))), TypeError,
      "spec.rule.quality must be a number");
    throwsExactly(() => network(specOf(dense, ruleOf({ prior: "deep-r", structure: "fixed" }))), RangeError,
      'spec: rule.prior "deep-r" does not go with rule.structure "fixed": the structure trains signed weights, the prior reads theta below 0 as dormant; use the prior none, l2 or l1-shrink');
  });
});
