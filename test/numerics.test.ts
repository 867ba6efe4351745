// Numerical faults: NaN or Infinity in the inputs, or a learning rate that makes training diverge,
// stop fit() with a NonFiniteError naming the epoch, batch, step and layer, or (onNonFinite: "skip")
// leave the batch out with the model exactly as it was before it. NaN never reaches a checkpoint.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSafetensors, writeSafetensorsAtomic } from "../lib/checkpoint/safetensors.js";
import { Model, NonFiniteError, type LayerState } from "../lib/model.js";
import type { Dataset } from "../lib/data/dataset.js";
import { blobs } from "./helpers/synthetic.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-numerics-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const spec = { layers: [30, 20, 4], connectivity: [0.3, 0.5], bias: true, seed: 11 };

/**
 * One sample with finite but huge inputs, labelled against the model's prediction: the forward pass
 * and the loss stay finite, the gradient step of the output layer overflows.
 */
async function overflowing(model: Model): Promise<Dataset> {
  const inputs = new Float32Array(30).map((_, i) => ((i * 7) % 5) * 1e33);
  const p = await model.predict(inputs);
  const predicted = p.indexOf(Math.max(...p));
  return { inputs, labels: Int32Array.of((predicted + 1) % 4), count: 1, features: 30, classes: 4 };
}

function withBadSample(data: Dataset, sample: number, value: number): Dataset {
  const inputs = Float32Array.from(data.inputs);
  inputs.fill(value, sample * data.features, (sample + 1) * data.features);
  return { ...data, inputs };
}

const finite = async (model: Model) =>
  (await model.exportLayers()).every((l) => [l.theta, l.bias, l.velocity, l.biasVelocity].every((a) => !a || a.every(Number.isFinite)));

describe("a diverging update", () => {
  it("stops fit() with a NonFiniteError naming the layer and the step; save() then refuses", async () => {
    const model = Model.create(spec);
    const error = await model.fit(await overflowing(model), { epochs: 1, lr: 1e6 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(error).toMatchObject({ code: "DEEPR_NON_FINITE", epoch: 0, batch: 0, step: 0, layer: 1 });
    expect((error as Error).message).toMatch(/epoch 0, batch 0 \(step 0\), layer 1: training diverged .* layer 1 is no longer finite at step 0/);
    expect(model.progress).toEqual({ epoch: 0, batchInEpoch: 0, batchSize: 10, step: 0 });
    expect(await finite(model)).toBe(false);
    await expect(model.save(join(dir, "nan.safetensors"))).rejects.toThrow(/refusing to save .*non-finite/);
    model.dispose();
  });

  it('with onNonFinite: "skip", leaves the model bit-identical to before the batch', async () => {
    const model = Model.create(spec);
    const before = await model.exportLayers();
    const history = await model.fit(await overflowing(model), { epochs: 3, lr: 1e6, momentum: 0.9, onNonFinite: "skip" });
    expect(history.map((e) => e.skipped)).toEqual([1, 1, 1]);
    expect(model.progress).toEqual({ epoch: 3, batchInEpoch: 0, batchSize: 10, step: 0 });
    const after = await model.exportLayers();
    // Momentum state was added by this fit (zeros); everything else is exactly as before.
    const withoutVelocity = ({ velocity: _, biasVelocity: __, stores, ...rest }: LayerState) => ({
      ...rest,
      stores: Object.fromEntries(Object.entries(stores).map(([name, { velocity: ___, ...fields }]) => [name, fields])),
    });
    expect(after.map(withoutVelocity)).toEqual(before);
    expect(after.every((l) => l.velocity!.every((v) => v === 0))).toBe(true);
    await model.checkInvariants();
    await model.save(join(dir, "skipped.safetensors"));
    expect(await finite(await Model.load(join(dir, "skipped.safetensors")))).toBe(true);
    model.dispose();
  });

  it("a learning rate far too large for the inputs' scale stops training, naming layer and step, progress matching", async () => {
    // DEEP R is hard to make diverge: a step that overshoots makes theta negative and the connection
    // dormant. It takes inputs of this scale (unnormalised, 1e16) and lr = 1e6 to overflow an update.
    const data = blobs(200, 30, 4);
    const scaled = { ...data, inputs: data.inputs.map((v) => v * 1e16) };
    const model = Model.create(spec);
    const error = (await model.fit(scaled, { epochs: 5, lr: 1e6, batchSize: 1 }).catch((e: unknown) => e)) as NonFiniteError;
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(error.message).toMatch(/^deepr: training stopped at epoch 0, batch \d+ \(step \d+\), layer 0: training diverged .* layer 0 is no longer finite at step \d+$/);
    expect(error.layer).toBe(0);
    // The batches before it are trained and counted; the failing one is not.
    expect(error.step).toBeGreaterThan(0);
    expect(model.progress).toMatchObject({ epoch: 0, batchInEpoch: error.batch, step: error.step });
    model.dispose();
  });
});

describe("NaN and Infinity in the inputs", () => {
  const data = blobs(40, 30, 4);

  it("are refused before training, naming the sample and the feature", async () => {
    const model = Model.create(spec);
    await expect(model.fit(withBadSample(data, 7, NaN))).rejects.toThrow(/data.inputs holds NaN at sample 7, feature 0/);
    await expect(model.fit(withBadSample(data, 3, -Infinity))).rejects.toThrow(/data.inputs holds -Infinity at sample 3, feature 0/);
    await expect(model.evaluate(withBadSample(data, 1, Infinity))).rejects.toThrow(/sample 1/);
    expect(model.progress.step).toBe(0);
    model.dispose();
  });

  it("are found at the end of a large data set, checked in slices that let timers run", async () => {
    const count = 300_001;  // 9 M values: many slices of the check
    const large = { inputs: new Float32Array(count * 30), labels: new Int32Array(count), count, features: 30, classes: 4 };
    large.inputs[count * 30 - 1] = NaN;
    const model = Model.create(spec);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const error = await model.fit(large).catch((e: unknown) => e);
    clearInterval(timer);
    expect(String(error)).toMatch(/data.inputs holds NaN at sample 300000, feature 29; inputs must be finite/);
    expect(ticks).toBeGreaterThan(0);
    large.labels[count - 1] = 4;
    await expect(model.fit(large)).rejects.toThrow(/data.labels\[300000\] is 4/);
    expect(model.progress.step).toBe(0);
    model.dispose();
  });

  it('with onNonFinite: "skip", the batch holding one is left out, exactly as if it had not been there', async () => {
    const fit = { epochs: 1, lr: 0.1, batchSize: 1, momentum: 0.5, noise: 1e-3 };
    // By hand: a finite input so large that the loss overflows stops a throwing run at that batch
    // with nothing of it applied; step over the batch (in its checkpoint's progress) and go on.
    const stopped = Model.create(spec);
    const huge = withBadSample(data, 13, 3e38);
    const error = (await stopped.fit(huge, fit).catch((e: unknown) => e)) as NonFiniteError;
    expect(error).toBeInstanceOf(NonFiniteError);
    expect(error.message).toMatch(/loss is not finite/);
    expect(stopped.progress).toMatchObject({ epoch: 0, batchInEpoch: error.batch, step: error.step });
    const path = join(dir, "stopped.safetensors");
    await stopped.save(path);
    stopped.dispose();
    const { tensors, metadata } = await readSafetensors(path);
    const progress = { epoch: 0, batchInEpoch: error.batch + 1, batchSize: 1, step: error.step };
    await writeSafetensorsAtomic(path, tensors, { ...metadata, "deepr.progress": JSON.stringify(progress) });
    const byHand = await Model.load(path);
    await byHand.fit(huge, fit);
    const expected = await byHand.exportLayers();
    byHand.dispose();

    for (const value of [NaN, Infinity, -Infinity, 3e38]) {
      const skipping = Model.create(spec);
      const [epoch] = await skipping.fit(withBadSample(data, 13, value), { ...fit, onNonFinite: "skip" });
      expect(epoch.skipped).toBe(1);
      expect(skipping.progress).toMatchObject({ epoch: 1, batchInEpoch: 0, step: 39 });
      expect(await finite(skipping)).toBe(true);
      expect(await skipping.exportLayers(), `input ${value}`).toEqual(expected);
      skipping.dispose();
    }
  });

  it('with "skip", a model trained on dirty data saves and loads only finite values', async () => {
    const dirty = withBadSample(withBadSample(blobs(60, 30, 4), 5, NaN), 50, Infinity);
    const model = Model.create(spec);
    const history = await model.fit(dirty, { epochs: 3, batchSize: 4, lr: 0.1, onNonFinite: "skip" });
    // Two bad samples: in two batches, or now and then in the same one.
    for (const e of history) expect([1, 2]).toContain(e.skipped);
    expect(model.progress.step).toBe(3 * 15 - history.reduce((n, e) => n + e.skipped, 0));
    const path = join(dir, "dirty.safetensors");
    await model.save(path);
    const loaded = await Model.load(path);
    expect(await finite(loaded)).toBe(true);
    await loaded.checkInvariants();
    model.dispose();
    loaded.dispose();
  });
});

describe("a model a diverged fit left with non-finite parameters", () => {
  it('with onNonFinite: "skip", fit() says no batch left out can help, as a NonFiniteError', async () => {
    // A regression head does not stop a diverging step the way DEEP R's dormant theta does: after a
    // fit at lr 1e6 the parameters themselves hold Infinity or NaN.
    const model = Model.create({
      inputShape: [1, 3, 3], seed: 1,
      layers: [{ kind: "sparse_conv2d", outChannels: 1, kernel: 1, connectivity: 1 }, { kind: "sparse_linear", outputs: 1, connectivity: 1, bias: true }, { kind: "mean_squared_error" }],
    });
    const data = { inputs: Float32Array.from({ length: 23 * 9 }, (_, i) => Math.sin(i * 1.7 + 1)), targets: Float32Array.from({ length: 23 }, (_, i) => Math.cos(i)), sampleShape: [1, 3, 3] };
    const parametersFinite = async () => (await model.exportLayers()).every((l) => Object.values(l.stores).every((s) => Object.values(s).every((a) => !(a instanceof Float32Array) || a.every(Number.isFinite))));
    for (let fits = 0; fits < 4 && (await parametersFinite()); fits++) await model.fit(data, { epochs: model.progress.epoch + 1, lr: 1e6, batchSize: 1 }).catch(() => undefined);
    expect(await parametersFinite()).toBe(false);
    const error = await model.fit(data, { epochs: model.progress.epoch + 1, lr: 0.01, batchSize: 1, onNonFinite: "skip" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NonFiniteError);
    expect((error as NonFiniteError).message).toMatch(/^deepr: training stopped at epoch \d+, batch \d+ \(step \d+\), layer \d+: .*; the parameters were not finite before this batch either \(layers\[\d\]\.stores\.\w+: .* is -?(inf|nan)[^)]*\), so skipping it cannot help: load a checkpoint saved before training diverged$/);
    model.dispose();
  });
});
