// Concurrency: one fit() at a time per model; save() during fit() writes a consistent state
// between two chunks; an aborted fit() leaves a consistent, saveable model; models training at the
// same time in one process do not interfere. "Consistent" is checked the strict way: the state,
// saved or aborted and then resumed, ends bit-identical to an uninterrupted run.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Model, type FitOptions } from "../lib/model.js";
import type { ModelOptions } from "../lib/options.js";
import { blobs } from "./helpers/synthetic.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-concurrency-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const spec: ModelOptions = { layers: [40, 30, 20, 4], connectivity: [0.1, 0.2, 0.5], bias: true, seed: 21 };
const train: FitOptions = { epochs: 3, batchSize: 2, lr: 0.05, momentum: 0.9, noise: 1e-3, lrDecay: 0.9 };
const data = blobs(900, 40, 4, 5);

async function state(model: Model) {
  return { progress: model.progress, layers: await model.exportLayers() };
}

async function alone(options: ModelOptions = spec, fit: FitOptions = train) {
  const model = Model.create(options);
  await model.fit(data, fit);
  const s = await state(model);
  model.dispose();
  return s;
}

describe("concurrency", () => {
  let reference: Awaited<ReturnType<typeof alone>>;
  beforeAll(async () => {
    reference = await alone();
  });

  it("rejects a second fit() and importLayers() while training, and dispose() too", async () => {
    const model = Model.create(spec);
    const running = model.fit(data, train);
    await expect(model.fit(data, train)).rejects.toThrow(/already training/);
    await expect(model.importLayers([], 0)).rejects.toThrow(/while fit\(\) is running/);
    expect(() => model.dispose()).toThrow(/operation is running/);
    await running;
    expect(await state(model)).toEqual(reference); // the refused calls changed nothing
    model.dispose();
  });

  it("save() during fit() writes a consistent state: each saved file, resumed, ends exactly like the uninterrupted run", async () => {
    const model = Model.create(spec);
    const saves: Promise<string>[] = [];
    const at = new Set([1, 40, 450, 451, 900, 1200]); // batches after which a save is requested (not awaited)
    let batches = 0;
    const onBatchEnd = () => {
      if (at.has(++batches)) {
        const path = join(dir, `during-${batches}.safetensors`);
        saves.push(model.save(path).then(() => path));
      }
    };
    await model.fit(data, { ...train, onBatchEnd });
    const paths = await Promise.all(saves);
    expect(paths).toHaveLength(at.size);
    expect(await state(model)).toEqual(reference);
    model.dispose();

    for (const path of paths) {
      const loaded = await Model.load(path);
      await loaded.checkInvariants();
      const { epoch, batchInEpoch, step } = loaded.progress;
      expect(step).toBe(epoch * Math.ceil(data.count / train.batchSize!) + batchInEpoch); // progress and parameters agree
      await loaded.fit(data, train);
      expect(await state(loaded), `resumed from ${path} (epoch ${epoch}, batch ${batchInEpoch})`).toEqual(reference);
      loaded.dispose();
    }
  });

  it("an aborted fit() leaves a consistent model that saves, loads and resumes to the same result", async () => {
    for (const after of [1, 37, 450, 1000]) {
      const model = Model.create(spec);
      const controller = new AbortController();
      let batches = 0;
      const onBatchEnd = () => ++batches === after && controller.abort(new Error("stop"));
      await expect(model.fit(data, { ...train, signal: controller.signal, onBatchEnd })).rejects.toThrow("stop");
      await model.checkInvariants();
      expect(model.progress.step).toBeGreaterThanOrEqual(after);
      const path = join(dir, `aborted-${after}.safetensors`);
      await model.save(path);
      const loaded = await Model.load(path);
      expect(await state(loaded)).toEqual(await state(model));
      await model.fit(data, train);
      await loaded.fit(data, train);
      expect(await state(model), `aborted after ${after}`).toEqual(reference);
      expect(await state(loaded), `aborted after ${after}, saved and loaded`).toEqual(reference);
      model.dispose();
      loaded.dispose();
    }
  });

  it("models training at the same time give exactly what each gives alone", async () => {
    const variants: [ModelOptions, FitOptions][] = [
      [spec, train],
      [{ ...spec, seed: 22, budget: "global" }, { ...train, batchSize: 5 }],
      [{ ...spec, seed: 23, bias: false }, { ...train, momentum: 0, batchSize: 1, epochs: 2 }],
      [{ ...spec, layers: [40, 64, 4], connectivity: [0.3, 0.5], seed: 24 }, { ...train, lrSchedule: "cosine" }],
    ];
    const big = blobs(3000, 40, 4, 6);
    const expected = [];
    for (const [options, fit] of variants) {
      const model = Model.create(options);
      await model.fit(big, fit);
      expected.push(await state(model));
      model.dispose();
    }
    const models = variants.map(([options]) => Model.create(options));
    const spans: [number, number][] = [];
    // Interleave other work on the same models too: evaluate and predict queue between chunks.
    const side = models.map(async (m) => {
      for (let i = 0; i < 5; i++) {
        await m.evaluate(big);
        await m.predict(big.inputs.subarray(0, 400));
        await new Promise((r) => setTimeout(r, 5));
      }
    });
    const timed = models.map(async (m, i) => {
      const started = performance.now();
      await m.fit(big, variants[i][1]);
      spans.push([started, performance.now()]);
    });
    await Promise.all([...timed, ...side]);
    // They did run at the same time: every run started before the first one finished.
    const firstEnd = Math.min(...spans.map(([, end]) => end));
    expect(spans.every(([start]) => start < firstEnd)).toBe(true);
    for (const [i, m] of models.entries()) {
      expect(await state(m), `model ${i}`).toEqual(expected[i]);
      m.dispose();
    }
  });
});
