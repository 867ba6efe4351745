// Snapshots (model.snapshot()): a frozen inference copy with its own native networks. Its
// predictions are the model's at the time it was taken, checked against a float64 forward pass of
// the exported parameters; they stay fixed while the model trains, follow it after refresh(), and
// answer during fit() without waiting for the chunk of steps under way.
import { describe, expect, it } from "vitest";
import { Model, type LayerState } from "../lib/model.js";
import { blobs } from "./helpers/synthetic.js";

const spec = { layers: [60, 200, 40, 5], connectivity: [0.3, 0.4, 0.8], bias: true, seed: 8 };
const data = blobs(600, 60, 5, 3);
const probe = data.inputs.subarray(0, 60 * 50);

/** Softmax of y = relu(x W + b) per layer (no relu on the last), in float64, from exported parameters. */
function reference(layers: LayerState[], inputs: Float32Array): Float64Array[] {
  const rows: Float64Array[] = [];
  for (let n = 0; n < inputs.length / layers[0].inputs; n++) {
    let x = Float64Array.from(inputs.subarray(n * layers[0].inputs, (n + 1) * layers[0].inputs));
    layers.forEach((layer, l) => {
      const y = Float64Array.from(layer.bias ?? new Float32Array(layer.outputs));
      for (let k = 0; k < layer.theta.length; k++)
        y[layer.positions[2 * k + 1]] += x[layer.positions[2 * k]] * layer.sign[k] * layer.theta[k];
      x = l < layers.length - 1 ? y.map((v) => Math.max(v, 0)) : y;
    });
    const top = Math.max(...x);
    const e = x.map((v) => Math.exp(v - top));
    const sum = e.reduce((a, b) => a + b, 0);
    rows.push(e.map((v) => v / sum));
  }
  return rows;
}

function maxDifference(a: Float32Array, rows: Float64Array[]): number {
  const classes = rows[0].length;
  let max = 0;
  rows.forEach((row, n) => row.forEach((v, c) => (max = Math.max(max, Math.abs(a[n * classes + c] - v)))));
  return max;
}

describe("snapshot", () => {
  it("predicts as the model did when taken, stays frozen while it trains, and follows it after refresh()", async () => {
    const model = Model.create(spec);
    await model.fit(data, { epochs: 1, batchSize: 10, lr: 0.05, momentum: 0.9 });
    const snapshot = await model.snapshot();
    expect(snapshot.step).toBe(model.progress.step);
    const taken = await snapshot.predict(probe);
    expect(taken).toEqual(await model.predict(probe));
    expect(maxDifference(taken, reference(await model.exportLayers(), probe))).toBeLessThan(1e-5);

    await model.fit(data, { epochs: 3 });
    const trained = await model.predict(probe);
    expect(trained).not.toEqual(taken);
    expect(await snapshot.predict(probe)).toEqual(taken);

    await snapshot.refresh();
    expect(snapshot.step).toBe(model.progress.step);
    expect(await snapshot.predict(probe)).toEqual(trained);
    snapshot.dispose();
    model.dispose();
  });

  it("refreshed from onEpochEnd, holds each epoch's parameters; it outlives its model", async () => {
    const model = Model.create(spec);
    const snapshot = await model.snapshot();
    const steps: number[] = [];
    await model.fit(data, {
      epochs: 3,
      batchSize: 20,
      lr: 0.05,
      onEpochEnd: async () => {
        await snapshot.refresh();
        steps.push(snapshot.step);
      },
    });
    expect(steps).toEqual([30, 60, 90]);
    const final = await model.predict(probe);
    model.dispose();
    expect(await snapshot.predict(probe)).toEqual(final);
    await expect(snapshot.refresh()).rejects.toThrow(/model has been disposed/);
    snapshot.dispose();
    await expect(snapshot.predict(probe)).rejects.toThrow(/snapshot has been disposed/);
  });

  it("answers during fit() without waiting for the chunk of steps under way, unlike the model", async () => {
    // A model whose chunks last ~40 ms. Probes fire from timers while fit() runs; a probe's
    // prediction "waited" when the model's step moved between its call and its answer, which
    // happens only when a chunk ended meanwhile.
    const big = blobs(2000, 300, 5, 4);
    const model = Model.create({ layers: [300, 1000, 5], connectivity: 0.5, seed: 2 });
    const snapshot = await model.snapshot();
    const input = big.inputs.subarray(0, 300);
    const waited = { snapshot: 0, model: 0 };
    const probe = async (who: "snapshot" | "model") => {
      const before = model.progress.step;
      await (who === "snapshot" ? snapshot.predict(input) : model.predict(input));
      if (model.progress.step !== before) waited[who]++;
    };
    const controller = new AbortController();
    let started!: () => void;
    const training = model.fit(big, { epochs: 1000, batchSize: 4, signal: controller.signal, onBatchEnd: () => started() });
    await new Promise<void>((resolve) => (started = resolve));
    for (let n = 0; n < 40; n++) {
      await new Promise((resolve) => setTimeout(resolve, 3 + (n % 7)));
      await probe(n % 2 === 0 ? "snapshot" : "model");
    }
    controller.abort();
    await expect(training).rejects.toThrow();
    expect(waited.model).toBeGreaterThanOrEqual(18);
    expect(waited.snapshot).toBeLessThanOrEqual(4);
    snapshot.dispose();
    model.dispose();
  });

  it("refuses to be disposed while a prediction runs", async () => {
    const model = Model.create(spec);
    const snapshot = await model.snapshot();
    const running = snapshot.predict(probe);
    expect(() => snapshot.dispose()).toThrow(/while a predict\(\) or refresh\(\) is running/);
    await running;
    snapshot.dispose();
    model.dispose();
  });
});
