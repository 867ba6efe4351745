import { describe, expect, it } from "vitest";
import { Model } from "../lib/model.js";
import { blobs } from "./helpers/synthetic.js";

const spec = { layers: [40, 30, 20, 4], connectivity: [0.1, 0.2, 0.5], seed: 3 };

async function snapshot(model: Model) {
  return (await model.exportLayers()).map((l) => ({
    positions: Array.from(l.positions),
    theta: Array.from(l.theta),
    bias: l.bias && Array.from(l.bias),
    velocity: l.velocity && Array.from(l.velocity),
  }));
}

describe("Model", () => {
  it("keeps exactly K_l = floor(in * out * p) connections per layer", async () => {
    const model = Model.create(spec);
    expect(model.layers().map((l) => l.budget)).toEqual([120, 120, 40]);
    expect(model.layers().map((l) => l.active)).toEqual([120, 120, 40]);
    await model.checkInvariants();
    const layers = await model.exportLayers();
    const first = layers[0];
    const seen = new Set<number>();
    for (let k = 0; k < first.theta.length; k++) {
      const i = first.positions[2 * k], j = first.positions[2 * k + 1];
      expect(i).toBeGreaterThanOrEqual(0);
      expect(i).toBeLessThan(40);
      expect(j).toBeLessThan(30);
      seen.add(j * 40 + i);
      expect(first.theta[k]).toBeGreaterThanOrEqual(0);
      expect(Math.abs(first.sign[k])).toBe(1);
    }
    expect(seen.size).toBe(120);
    model.dispose();
  });

  it("learns a separable problem with the strict bound checked after every step", async () => {
    const data = blobs(400, 40, 4);
    const model = Model.create(spec);
    const before = await model.evaluate(data);
    const history = await model.fit(data, { epochs: 10, lr: 0.3, batchSize: 8, noise: 1e-2, checkInvariants: true });
    expect(history).toHaveLength(10);
    const after = await model.evaluate(data);
    expect(after.accuracy).toBeGreaterThan(0.9);
    expect(after.loss).toBeLessThan(before.loss);
    const rewired = history.reduce((sum, e) => sum + e.layers.reduce((s, l) => s + l.rewired, 0), 0);
    expect(rewired).toBeGreaterThan(0);
    for (const e of history) {
      expect(e.layers.map((l) => l.active)).toEqual([120, 120, 40]);
      // Regrowth and noise are timed inside each step: parts of the epoch's time (one thread here),
      // and not free when they happened.
      expect(e.regrowthSeconds + e.noiseSeconds).toBeLessThan(e.seconds);
      expect(e.noiseSeconds).toBeGreaterThan(0);
      if (e.layers.some((l) => l.rewired > 0)) expect(e.regrowthSeconds).toBeGreaterThan(0);
      else expect(e.regrowthSeconds).toBeGreaterThanOrEqual(0);
    }
    model.dispose();
  });

  it("keeps the global budget across layers", async () => {
    const data = blobs(200, 40, 4);
    for (const globalShare of ["budget", "dormant"] as const) {
      const model = Model.create({ ...spec, budget: "global", globalShare });
      await model.fit(data, { epochs: 3, lr: 0.3, batchSize: 4, noise: 0.05, checkInvariants: true });
      const layers = model.layers();
      expect(layers.reduce((s, l) => s + l.active, 0)).toBe(280);
      model.dispose();
    }
  });

  it("predict gives probabilities whose argmax matches evaluate's accuracy", async () => {
    const data = blobs(100, 40, 4);
    const model = Model.create({ ...spec, bias: true });
    await model.fit(data, { epochs: 2, lr: 0.1, batchSize: 10 });
    const p = await model.predict(data.inputs);
    expect(p).toHaveLength(400);
    let correct = 0;
    for (let n = 0; n < 100; n++) {
      const row = Array.from(p.subarray(4 * n, 4 * n + 4));
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
      if (row.indexOf(Math.max(...row)) === data.labels[n]) correct++;
    }
    expect(correct / 100).toBeCloseTo((await model.evaluate(data)).accuracy, 10);
    model.dispose();
  });

  it("is bit-identical for the same seed and differs for another", async () => {
    const data = blobs(120, 40, 4);
    const run = async (seed: number) => {
      const model = Model.create({ ...spec, seed, bias: true });
      await model.fit(data, { epochs: 2, lr: 0.2, batchSize: 6, momentum: 0.5, noise: 1e-3 });
      const s = await snapshot(model);
      model.dispose();
      return s;
    };
    const a = await run(7);
    expect(await run(7)).toEqual(a);
    expect(await run(8)).not.toEqual(a);
  });

  it("does not block the event loop while training", async () => {
    const data = blobs(20000, 40, 4);
    const model = Model.create(spec);
    let ticks = 0, last = performance.now(), longest = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      ticks++;
    }, 2);
    const started = performance.now();
    await model.fit(data, { epochs: 10, batchSize: 1, lr: 0.01 });
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThan(100);
    expect(ticks).toBeGreaterThan(elapsed / 50);
    expect(longest).toBeLessThan(100);
    model.dispose();
  });

  it("rejects a second fit while training, and aborts cleanly", async () => {
    const data = blobs(2000, 40, 4);
    const model = Model.create(spec);
    const controller = new AbortController();
    let batches = 0;
    const running = model.fit(data, {
      epochs: 50,
      batchSize: 1,
      signal: controller.signal,
      onBatchEnd: () => {
        if (++batches === 500) controller.abort(new Error("stop here"));
      },
    });
    await expect(model.fit(data, { epochs: 1 })).rejects.toThrow(/already training/);
    expect(() => model.dispose()).toThrow(/operation is running/);
    await expect(running).rejects.toThrow("stop here");
    expect(model.progress.epoch).toBe(0);
    expect(model.progress.batchInEpoch).toBeGreaterThanOrEqual(500);
    expect(model.progress.step).toBe(model.progress.batchInEpoch);
    await model.checkInvariants();
    model.dispose();
    expect(() => model.layers()).toThrow(/disposed/);
  });

  it("gives a TypeError or RangeError naming the parameter for bad input", async () => {
    const bad: [unknown, RegExp][] = [
      [{ layers: [4, 3], connectivity: 0 }, /connectivity\[0\]/],
      [{ layers: [4, 3], connectivity: 1.5 }, /connectivity\[0\]/],
      [{ layers: [4, 3], connectivity: NaN }, /connectivity\[0\]/],
      [{ layers: [4, 0, 3], connectivity: 0.5 }, /layers\[1\]/],
      [{ layers: [4, -2, 3], connectivity: 0.5 }, /layers\[1\]/],
      [{ layers: [4, 3], connectivity: [0.5, 0.5] }, /one value per layer/],
      [{ layers: [4], connectivity: 0.5 }, /at least an input and an output/],
      [{ layers: [100, 100], connectivity: 1e-6 }, /leaves no connection/],
      [{ layers: [4, 3], connectivity: 0.5, seed: -1 }, /seed/],
      [{ layers: [4, 3], connectivity: 0.5, budget: "all" }, /budget/],
      [{ layers: [4, 3], connectivity: 0.5, lr: 1 }, /options.lr is not an option/],
      [{ layers: [2 ** 31, 2], connectivity: 0.5 }, /layers\[0\]/],
      [null, /options must be an object/],
    ];
    for (const [options, message] of bad) {
      expect(() => Model.create(options as never)).toThrow(message);
      try {
        Model.create(options as never);
      } catch (e) {
        expect(e instanceof TypeError || e instanceof RangeError).toBe(true);
      }
    }
    const model = Model.create({ layers: [4, 3], connectivity: 0.5 });
    const good = { inputs: new Float32Array(8), labels: new Int32Array(2), count: 2, features: 4, classes: 3 };
    await expect(model.fit({ ...good, features: 5 })).rejects.toThrow(/features/);
    await expect(model.fit({ ...good, inputs: new Float32Array(7) })).rejects.toThrow(/data.inputs has 7 values/);
    await expect(model.fit({ ...good, inputs: Float32Array.of(0, 0, NaN, 0, 0, 0, 0, 0) })).rejects.toThrow(/NaN at sample 0, feature 2/);
    await expect(model.fit({ ...good, labels: Int32Array.of(0, 3) })).rejects.toThrow(/labels\[1\] is 3/);
    await expect(model.fit({ ...good, inputs: [0] as never })).rejects.toThrow(TypeError);
    await expect(model.fit(good, { lr: -1 })).rejects.toThrow(/options.lr/);
    await expect(model.fit(good, { batchSize: 0 })).rejects.toThrow(/options.batchSize/);
    await expect(model.fit(good, { noise: 1, temperature: 1 })).rejects.toThrow(/only one/);
    await expect(model.predict(new Float32Array(5))).rejects.toThrow(/whole number of samples/);
    model.dispose();
  });
});

describe("threads", () => {
  it("gives bit-identical training with 1 and 2 threads on a layer large enough to split", async () => {
    const { getThreads, setThreads } = await import("../lib/threads.js");
    const before = getThreads();
    const data = blobs(256, 400, 4);
    const run = async (threads: number) => {
      setThreads(threads);
      expect(getThreads()).toBe(threads);
      const model = Model.create({ layers: [400, 600, 4], connectivity: [0.5, 0.5], seed: 9 });
      await model.fit(data, { epochs: 1, batchSize: 64, lr: 0.1, noise: 1e-3 });
      const s = await snapshot(model);
      model.dispose();
      return s;
    };
    try {
      expect(await run(2)).toEqual(await run(1));
    } finally {
      setThreads(before);
    }
    expect(() => setThreads(0)).toThrow(RangeError);
    expect(() => setThreads(1.5)).toThrow(/threads/);
  });
});
