// The transfer experiment's measurements (experiments/lib/): correlations and connection changes
// against values worked out by hand, the label permutations' stream (a permutation, reproducible,
// uniform), the float64 forward pass against hand arithmetic and against Model.predict(), and one
// short run of both rules against the invariants of their structure rules.
import { beforeAll, describe, expect, it } from "vitest";
import type { Dataset } from "../lib/data/dataset.js";
import { loadMnist } from "../lib/data/mnist.js";
import { architecture, Model } from "../lib/index.js";
import { layerActivations } from "../experiments/lib/activations.mjs";
import { labelPermutation, permuteLabels } from "../experiments/lib/label-permutation.mjs";
import { connectionChanges, correlation, silentUnits, weightCorrelation } from "../experiments/lib/transfer-metrics.mjs";
import { EARLY_BATCHES, transferRun } from "../experiments/lib/transfer-run.mjs";

let mnist: { train: Dataset; test: Dataset };
beforeAll(async () => {
  mnist = await loadMnist();
});

const first = (data: Dataset, count: number): Dataset => ({
  ...data, count, inputs: data.inputs.subarray(0, count * data.features), labels: data.labels.subarray(0, count),
});

/** A sparse_linear layer state of `inputs` x `outputs` from [i, j, w] triples. */
function layer(inputs: number, outputs: number, entries: [number, number, number][], bias?: number[]) {
  return {
    inputs, outputs,
    positions: Int32Array.from(entries.flatMap(([i, j]) => [i, j])),
    theta: Float32Array.from(entries.map(([, , w]) => Math.abs(w))),
    sign: Int8Array.from(entries.map(([, , w]) => (w < 0 ? -1 : 1))),
    ...(bias ? { bias: Float32Array.from(bias) } : {}),
  };
}

describe("correlation()", () => {
  it("is 1 and -1 for exact linear relations and 0.8 for [1, 2, 3, 4] against [1, 3, 2, 4] (4 / sqrt(5 * 5))", () => {
    expect(correlation([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 15);
    expect(correlation([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 15);
    expect(correlation([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 15);
  });

  it("is NaN for a constant array and refuses arrays of different lengths", () => {
    expect(correlation([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(() => correlation([1, 2], [1, 2, 3])).toThrow(new RangeError("correlation of arrays of 2 and 3 values"));
  });
});

describe("weightCorrelation() and connectionChanges()", () => {
  // Positions (0,0), (0,1), (1,0) before; (0,0), (1,0), (1,1) after. Over the union, dormant = 0:
  // before [1, -2, 3, 0], after [1, 0, 3, 2]: deviations [.5, -2.5, 2.5, -.5] and [-.5, -1.5, 1.5, .5],
  // sum of products 7, sums of squares 13 and 5, so r = 7 / sqrt(65).
  const before = layer(2, 2, [[0, 0, 1], [0, 1, -2], [1, 0, 3]]);
  const after = layer(2, 2, [[1, 1, 2], [1, 0, 3], [0, 0, 1]]);

  it("correlates the weights w = sign * theta over the union of the active positions, a dormant one as 0", () => {
    expect(weightCorrelation(before, after)).toBeCloseTo(7 / Math.sqrt(65), 12);
    expect(weightCorrelation(before, before)).toBeCloseTo(1, 15);
  });

  it("counts the positions only in the later state as created and those only in the earlier one as removed", () => {
    expect(connectionChanges(before, after)).toEqual({ created: 1, removed: 1 });
    expect(connectionChanges(before, layer(2, 2, [[1, 1, 5]]))).toEqual({ created: 1, removed: 3 });
    expect(connectionChanges(after, after)).toEqual({ created: 0, removed: 0 });
  });
});

describe("silentUnits()", () => {
  it("counts the units that are 0 for every sample: of 3 units over 3 samples, the first and the last", () => {
    expect(silentUnits(Float64Array.from([0, 1, 0, 0, 2, 0, 0, 0, 0]), 3)).toBeCloseTo(2 / 3, 15);
    expect(silentUnits(Float64Array.from([0, 1, 0, 0, 2, 0, 0, 0, 5]), 3)).toBeCloseTo(1 / 3, 15);
  });
});

describe("labelPermutation()", () => {
  it("keeps the original labels for task 1 and draws a permutation of the 10 classes for every later task, the same for the same seed and task", () => {
    expect([...labelPermutation(5, 1)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const drawn = [2, 3, 4].map((task) => [...labelPermutation(5, task)]);
    for (const p of drawn) expect([...p].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(drawn.map(String)).size).toBe(3);
    expect([...labelPermutation(5, 3)]).toEqual(drawn[1]);
    expect([...labelPermutation(6, 3)]).not.toEqual(drawn[1]);
  });

  it("sends class 0 to each of the 10 units equally often over 20000 tasks (chi-square, 9 degrees of freedom, below its 0.1 % point 27.88)", () => {
    const counts = new Array<number>(10).fill(0);
    for (let task = 2; task < 20_002; task++) counts[labelPermutation(7, task)[0]]++;
    const chiSquare = counts.reduce((sum, c) => sum + (c - 2000) ** 2 / 2000, 0);
    expect(chiSquare).toBeLessThan(27.88);
  });

  it("permuteLabels() replaces every class c by permutation[c]", () => {
    expect([...permuteLabels(Int32Array.from([3, 0, 3, 1]), Int32Array.from([2, 3, 0, 1]))]).toEqual([1, 2, 1, 3]);
  });
});

describe("layerActivations()", () => {
  it("computes ReLU(x W1 + b1) W2 + b2 as by hand", () => {
    // x = (1, 2): hidden = ReLU(1*1 + 2*(-3) + 0.5, 1*2 + 0) = ReLU(-4.5, 2) = (0, 2); output = 0*4 + 2*(-1) + 1 = -1.
    const layers = [layer(2, 2, [[0, 0, 1], [1, 0, -3], [0, 1, 2]], [0.5, 0]), layer(2, 1, [[0, 0, 4], [1, 0, -1]], [1])];
    const [hidden, output] = layerActivations(layers, Float32Array.from([1, 2]), 1);
    expect([...hidden]).toEqual([0, 2]);
    expect([...output]).toEqual([-1]);
  });

  it("gives an mlp's hidden units after ReLU and, in its last layer, the logits whose softmax Model.predict() returns", async () => {
    const model = Model.create({ ...architecture("mlp", { bias: true }), seed: 3 });
    await model.fit(first(mnist.train, 500), { epochs: 1 });
    const probe = first(mnist.test, 50);
    const [h1, h2, logits] = layerActivations(await model.exportLayers(), probe.inputs, probe.count);
    expect([h1.length, h2.length, logits.length]).toEqual([50 * 300, 50 * 100, 50 * 10]);
    for (const h of [h1, h2]) {
      expect(Math.min(...h)).toBe(0);
      expect(Math.max(...h)).toBeGreaterThan(0);
    }
    const predicted = await model.predict(probe);
    for (let n = 0; n < probe.count; n++) {
      const row = logits.subarray(n * 10, n * 10 + 10);
      const top = Math.max(...row);
      const sum = row.reduce((s, z) => s + Math.exp(z - top), 0);
      for (let c = 0; c < 10; c++) expect(predicted[n * 10 + c]).toBeCloseTo(Math.exp(row[c] - top) / sum, 5);
    }
    model.dispose();
  });

  it("refuses a layer without sparse connections", () => {
    expect(() => layerActivations([{ inputs: 2, outputs: 2 }], new Float32Array(2), 1)).toThrow(/layer 0 is not a sparse_linear layer/);
  });
});

describe("transferRun()", () => {
  it("deep-r and fixed start from the same connections and signs at the same seed", async () => {
    const [deepR, fixed] = (["deep-r", "fixed"] as const).map((rule) => Model.create({ ...architecture("mlp", { rule }), rule, seed: 4 }));
    const [a, b] = await Promise.all([deepR.exportLayers(), fixed.exportLayers()]);
    for (let l = 0; l < 3; l++) {
      expect(b[l].positions).toEqual(a[l].positions);
      expect(b[l].sign).toEqual(a[l].sign);
      expect(b[l].theta).toEqual(a[l].theta);
    }
    deepR.dispose();
    fixed.dispose();
  });

  it("records per epoch the permutation, the accuracy and per layer the changes: none under fixed, as many created as removed under DEEP R's layer budget", async () => {
    expect(EARLY_BATCHES).toBe(100);
    const options = { train: first(mnist.train, 1000), test: first(mnist.test, 300), probe: first(mnist.test, 100), epochs: 2, trainOptions: { lr: 0.05, lrDecay: 1, batchSize: 10 } };
    const runs = await Promise.all(["deep-r", "fixed"].map((rule) => transferRun({ ...options, rule, seed: 2 })));
    for (const rows of runs) {
      expect(rows.map((r) => r.epoch)).toEqual([1, 2]);
      expect(rows[0].permutation).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(rows[1].permutation).toEqual([...labelPermutation(2, 2)]);
      for (const row of rows) {
        // 1 000 samples are 100 batches of 10: the first EARLY_BATCHES are the whole epoch.
        expect(row.earlyAccuracy).toBeCloseTo(row.trainAccuracy, 12);
        expect(row.testAccuracy).toBeGreaterThanOrEqual(0);
        expect(row.testAccuracy).toBeLessThanOrEqual(1);
        expect(row.layers).toHaveLength(3);
        expect(row.layers.map((l) => l.silentUnits === undefined)).toEqual([false, false, true]);
        for (const l of row.layers) {
          for (const r of [l.weightCorrelation, l.activityCorrelation]) {
            expect(r).toBeGreaterThan(-1);
            expect(r).toBeLessThanOrEqual(1);
          }
        }
      }
    }
    const [deepR, fixed] = runs;
    const budgets = [2352, 900, 300];  // K = 784·300·1 %, 300·100·3 %, 100·10·30 %
    for (const row of deepR) row.layers.forEach((l, n) => {
      expect(l.created).toBe(l.removed);
      expect(l.active).toBe(budgets[n]);
    });
    expect(deepR.some((row) => row.layers.some((l) => l.created > 0))).toBe(true);
    for (const row of fixed) for (const l of row.layers) expect([l.created, l.removed, l.regrown]).toEqual([0, 0, 0]);
  });
});
