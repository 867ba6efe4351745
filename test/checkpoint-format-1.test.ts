// Checkpoint format 1, which deepr wrote before format 2 (lib/checkpoint/format-1.ts): files in
// that layout, made by the old writer (test/helpers/format-1.ts), load field by field, resume bit
// for bit like a format-2 save of the same model, and every way such a file can describe a model
// that is not the one its tensors hold gets a CheckpointError.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors, type SafetensorsFile } from "../lib/checkpoint/safetensors.js";
import { Model } from "../lib/model.js";
import { format1Bytes } from "./helpers/format-1.js";
import { editedCopy, loadError, metadataJson, setJson } from "./helpers/checkpoint-files.js";
import { blobs } from "./helpers/synthetic.js";

const spec = { layers: [12, 8, 3], connectivity: [0.25, 0.5], bias: true, seed: 21 };
const data = blobs(60, 12, 3);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-checkpoint-format-1-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `model` written as format 1 to `name`. */
async function format1File(name: string, model: Model): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, await format1Bytes(model));
  return path;
}

async function trainedFile(name: string, model = Model.create(spec), fit = { epochs: 1, lr: 0.2, batchSize: 4, momentum: 0.5 }): Promise<string> {
  await model.fit(data, fit);
  const path = await format1File(name, model);
  model.dispose();
  return path;
}

/** A copy of the checkpoint at `from`, named `name` in this suite's folder, after `change` edits it. */
const edited = (from: string, name: string, change: (file: SafetensorsFile) => void) => editedCopy(from, join(dir, name), change);

describe("what a format-1 file holds, and how it loads", () => {
  it("every tensor with its dtype and shape, the metadata documents, and the model they load as", async () => {
    const model = Model.create(spec);
    await model.fit(data, { epochs: 1, lr: 0.2, batchSize: 4, momentum: 0.5, temperature: 1e-3 });
    const path = await format1File("written.safetensors", model);
    const file = decodeSafetensors(await readFile(path), path);
    const shapes = Object.fromEntries([...file.tensors].map(([name, t]) => [name, `${t.dtype} [${t.shape}]`]));
    expect(shapes).toEqual({
      "layers.0.positions": "I32 [24,2]", "layers.0.theta": "F32 [24]", "layers.0.sign": "I8 [24]",
      "layers.0.bias": "F32 [8]", "layers.0.velocity": "F32 [24]", "layers.0.bias_velocity": "F32 [8]",
      "layers.1.positions": "I32 [12,2]", "layers.1.theta": "F32 [12]", "layers.1.sign": "I8 [12]",
      "layers.1.bias": "F32 [3]", "layers.1.velocity": "F32 [12]", "layers.1.bias_velocity": "F32 [3]",
    });
    expect(Object.keys(file.metadata).sort()).toEqual(["deepr.model", "deepr.progress", "deepr.rng", "deepr.training", "deepr.version", "format"]);
    expect(file.metadata["deepr.version"]).toBe("1");
    expect(metadataJson(file, "deepr.model")).toEqual({
      layers: [12, 8, 3], connectivity: [0.25, 0.5], budgets: [24, 12], budget: "layer", globalShare: "budget", bias: true, seed: 21,
    });
    expect(metadataJson(file, "deepr.training")).toEqual({
      epochs: 1, lr: 0.2, lrSchedule: "exponential", lrDecay: 0.8, batchSize: 4, alpha: 1e-5, temperature: 1e-3, weightDecay: 1e-4, momentum: 0.5,
      beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipNorm: 0, crop: 0, flip: false, checkInvariants: false,
    });
    // 60 samples in batches of 4: 15 steps.
    expect(metadataJson(file, "deepr.progress")).toEqual({ epoch: 1, batchInEpoch: 0, batchSize: 4, step: 15 });
    expect(metadataJson(file, "deepr.rng")).toEqual({ algorithm: "philox4x32-10", seed: 21, step: 15 });

    const loaded = await Model.load(path);
    expect(loaded.options).toEqual(model.options);
    expect(loaded.trainOptions).toEqual(model.trainOptions);
    expect(loaded.progress).toEqual(model.progress);
    const layers = await model.exportLayers();
    expect(await loaded.exportLayers()).toEqual(layers);
    layers.forEach((layer, l) => {
      expect(file.tensors.get(`layers.${l}.positions`)!.data).toEqual(layer.positions);
      expect(file.tensors.get(`layers.${l}.theta`)!.data).toEqual(layer.theta);
      expect(file.tensors.get(`layers.${l}.sign`)!.data).toEqual(layer.sign);
      expect(file.tensors.get(`layers.${l}.bias`)!.data).toEqual(layer.bias);
      expect(file.tensors.get(`layers.${l}.velocity`)!.data).toEqual(layer.velocity);
      expect(file.tensors.get(`layers.${l}.bias_velocity`)!.data).toEqual(layer.biasVelocity);
    });
    model.dispose();
    loaded.dispose();
  });

  it("no bias or velocity tensors for a model without biases that never used momentum, and it loads so", async () => {
    const model = Model.create({ ...spec, bias: false });
    const path = await format1File("plain.safetensors", model);
    const file = decodeSafetensors(await readFile(path), path);
    expect([...file.tensors.keys()]).toEqual(["layers.0.positions", "layers.0.theta", "layers.0.sign", "layers.1.positions", "layers.1.theta", "layers.1.sign"]);
    const loaded = await Model.load(path);
    expect(await loaded.exportLayers()).toEqual(await model.exportLayers());
    model.dispose();
    loaded.dispose();
  });

  it.each([
    ["a layer budget with biases and momentum, mid-epoch", { ...spec, layers: [12, 10, 6, 3], connectivity: 0.3 }, { lr: 0.2, batchSize: 7, momentum: 0.8, noise: 1e-2, alpha: 1e-3 }],
    ["a global budget by dormant positions, SGD", { ...spec, bias: false, budget: "global", globalShare: "dormant" } as const, { lr: 0.5, batchSize: 2, noise: 0.1 }],
  ])("resumes %s bit for bit as a format-2 save of the same model does", async (_, options, fit) => {
    const model = Model.create(options);
    const controller = new AbortController();
    let batches = 0;
    // Stopped in the second epoch (fit() stops between chunks of steps, so a few batches after the
    // abort): the position in the epoch is part of what resumes.
    const stopAt = Math.ceil(60 / fit.batchSize) + 3;
    await expect(model.fit(data, { ...fit, epochs: 2, signal: controller.signal, onBatchEnd: () => void (++batches === stopAt && controller.abort()) })).rejects.toThrow();
    const old = await format1File("resume-1.safetensors", model);
    const current = join(dir, "resume-2.safetensors");
    await model.save(current);
    model.dispose();
    const fromOld = await Model.load(old), fromCurrent = await Model.load(current);
    expect(fromOld.progress).toEqual(fromCurrent.progress);
    expect(fromOld.progress.epoch).toBe(1);
    expect(fromOld.progress.batchInEpoch).toBeGreaterThan(0);
    await fromOld.fit(data, { epochs: 4 });
    await fromCurrent.fit(data, { epochs: 4 });
    expect(fromOld.progress).toEqual(fromCurrent.progress);
    const [a, b] = [await fromOld.exportLayers(), await fromCurrent.exportLayers()];
    // Bit for bit: the raw bytes of every tensor, so that -0 and 0 or two NaNs would differ too.
    const bytes = (layers: typeof a) => layers.map((layer) => Object.values(layer).map((v) => (ArrayBuffer.isView(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex") : v)));
    expect(bytes(a)).toEqual(bytes(b));
    expect(a.some((layer) => layer.theta.length > 0)).toBe(true);
    fromOld.dispose();
    fromCurrent.dispose();
  });
});

describe("what load() refuses", () => {
  let good: string;
  beforeAll(async () => {
    good = await trainedFile("good.safetensors");
  });

  it("loads the unedited file (the edits below are what breaks them)", async () => {
    const model = await Model.load(good);
    expect(model.progress).toEqual({ epoch: 1, batchInEpoch: 0, batchSize: 4, step: 15 });
    expect(model.trainOptions).toMatchObject({ lr: 0.2, batchSize: 4, momentum: 0.5, noise: 1e-5 });
    model.dispose();
  });

  it("another format or version, naming what it found", async () => {
    const other = await edited(good, "other.safetensors", (f) => (f.metadata.format = "pt"));
    expect(await loadError(other)).toBe(`${other}: a safetensors file, but not a deepr checkpoint (metadata "format" is "pt")`);
    const none = await edited(good, "none.safetensors", (f) => delete f.metadata.format);
    expect(await loadError(none)).toBe(`${none}: a safetensors file, but not a deepr checkpoint (metadata "format" is undefined)`);
    const version = await edited(good, "version.safetensors", (f) => (f.metadata["deepr.version"] = "3"));
    expect(await loadError(version)).toBe(`${version}: checkpoint format version "3" is not supported (this deepr reads 1 and 2)`);
  });

  it("a missing or malformed metadata document", async () => {
    for (const key of ["deepr.model", "deepr.progress", "deepr.training"]) {
      const missing = await edited(good, `missing-${key}.safetensors`, (f) => delete f.metadata[key]);
      expect(await loadError(missing)).toBe(`${missing}: metadata entry ${key} is missing; this is not a complete deepr checkpoint`);
      for (const text of ["[1]", "null", "3"]) {
        const path = await edited(good, `bad-${key}.safetensors`, (f) => (f.metadata[key] = text));
        expect(await loadError(path)).toBe(`${path}: metadata entry ${key} is not a JSON object (not an object)`);
      }
      const broken = await edited(good, `broken-${key}.safetensors`, (f) => (f.metadata[key] = "{"));
      expect(await loadError(broken)).toMatch(new RegExp(`^${broken}: metadata entry ${key} is not a JSON object \\(.+\\)$`));
    }
  });

  it("a model description that does not hold together", async () => {
    const prefix = (path: string) => `${path}: invalid model description: `;
    const budgets = await edited(good, "budgets.safetensors", (f) => setJson(f, "deepr.model", (m) => (m.budgets = [24, 11])));
    expect(await loadError(budgets)).toBe(`${prefix(budgets)}stored budgets [24,11] do not follow from the connectivity ([24,12])`);
    const noBudgets = await edited(good, "no-budgets.safetensors", (f) => setJson(f, "deepr.model", (m) => delete m.budgets));
    expect(await loadError(noBudgets)).toBe(`${prefix(noBudgets)}stored budgets undefined do not follow from the connectivity ([24,12])`);
    const layers = await edited(good, "layers.safetensors", (f) => setJson(f, "deepr.model", (m) => (m.layers = [12, 0, 3])));
    expect(await loadError(layers)).toBe(`${prefix(layers)}options.layers[1] must be an integer in [1, 2147483647], got 0`);
    const lr = await edited(good, "lr.safetensors", (f) => setJson(f, "deepr.training", (t) => (t.lr = -1)));
    expect(await loadError(lr)).toBe(`${prefix(lr)}options.lr must be a finite number in (0, 1000000], got -1`);
    for (const [key, value, shown] of [["epoch", -1, "-1"], ["batchInEpoch", 1.5, "1.5"], ["batchSize", "4", "4"], ["step", undefined, "undefined"], ["step", 2 ** 53, String(2 ** 53)]] as const) {
      const path = await edited(good, `progress-${key}.safetensors`, (f) => setJson(f, "deepr.progress", (p) => (p[key] = value)));
      expect(await loadError(path)).toBe(`${prefix(path)}progress.${key} must be a non-negative integer, got ${shown}`);
    }
    // 0 is a valid position in the run.
    const start = await edited(good, "start.safetensors", (f) => setJson(f, "deepr.progress", (p) => Object.assign(p, { epoch: 0, batchInEpoch: 0, batchSize: 0 })));
    const model = await Model.load(start);
    expect(model.progress).toEqual({ epoch: 0, batchInEpoch: 0, batchSize: 0, step: 15 });
    model.dispose();
  });

  it("a tensor that is missing or of the wrong dtype or shape", async () => {
    const cases: [string, (f: SafetensorsFile) => void, string][] = [
      ["layers.1.positions", (f) => f.tensors.delete("layers.1.positions"), "tensor layers.1.positions is missing"],
      ["layers.0.sign", (f) => f.tensors.delete("layers.0.sign"), "tensor layers.0.sign is missing"],
      ["layers.1.bias", (f) => f.tensors.delete("layers.1.bias"), "tensor layers.1.bias is missing"],
      ["layers.1.velocity", (f) => f.tensors.delete("layers.1.velocity"), "tensor layers.1.velocity is missing"],
      ["layers.0.bias_velocity", (f) => f.tensors.delete("layers.0.bias_velocity"), "tensor layers.0.bias_velocity is missing"],
      ["dtype", (f) => {
        const t = f.tensors.get("layers.0.theta")!;
        f.tensors.set("layers.0.theta", { dtype: "F64", shape: t.shape, data: Float64Array.from(t.data as Float32Array) });
      }, "tensor layers.0.theta is F64 [24], expected F32 [24]"],
      ["rank", (f) => {
        const t = f.tensors.get("layers.0.positions")!;
        f.tensors.set("layers.0.positions", { ...t, shape: [48] });
      }, "tensor layers.0.positions is I32 [48], expected I32 [24,2]"],
      ["length", (f) => {
        const t = f.tensors.get("layers.0.sign")!;
        f.tensors.set("layers.0.sign", { dtype: "I8", shape: [23], data: (t.data as Int8Array).subarray(0, 23) });
      }, "tensor layers.0.sign is I8 [23], expected I8 [24]"],
      ["bias", (f) => {
        f.tensors.set("layers.1.bias", { dtype: "F32", shape: [4], data: new Float32Array(4) });
      }, "tensor layers.1.bias is F32 [4], expected F32 [3]"],
      ["one dimension", (f) => {
        const t = f.tensors.get("layers.0.positions")!;
        f.tensors.set("layers.0.positions", { ...t, shape: [24, 1], data: t.data.subarray(0, 24) });
      }, "tensor layers.0.positions is I32 [24,1], expected I32 [24,2]"],
      // Without theta, K is taken as 0, and the positions say otherwise.
      ["theta", (f) => f.tensors.delete("layers.0.theta"), "tensor layers.0.positions is I32 [24,2], expected I32 [0,2]"],
    ];
    for (const [label, change, message] of cases) {
      const path = await edited(good, `tensor-${label}.safetensors`, change);
      expect(await loadError(path)).toBe(`${path}: ${message}`);
    }
  });

  it("connection counts that do not match the budget", async () => {
    // One connection fewer in layer 1, every tensor of it consistent.
    const drop = (f: SafetensorsFile) => {
      for (const [name, width] of [["positions", 2], ["theta", 1], ["sign", 1], ["velocity", 1]] as const) {
        const t = f.tensors.get(`layers.1.${name}`)!;
        const data = t.data.subarray(0, t.data.length - width);
        f.tensors.set(`layers.1.${name}`, { ...t, shape: name === "positions" ? [11, 2] : [11], data });
      }
    };
    const layer = await edited(good, "layer-budget.safetensors", drop);
    expect(await loadError(layer)).toBe(`${layer}: the layers hold [24,11] connections but the model's layer budget is [24,12]`);
    const global = await edited(good, "global-budget.safetensors", (f) => {
      drop(f);
      setJson(f, "deepr.model", (m) => (m.budget = "global"));
    });
    expect(await loadError(global)).toBe(`${global}: the layers hold [24,11] connections but the model's global budget is [24,12]`);
  });

  it("a global budget's layers may hold other counts than their initial shares, with the same total", async () => {
    const model = Model.create({ ...spec, budget: "global" });
    await model.fit(data, { epochs: 3, lr: 0.5, batchSize: 2, noise: 0.1 });
    const counts = model.layers().map((l) => l.active);
    expect(counts).not.toEqual([24, 12]);
    expect(counts[0] + counts[1]).toBe(36);
    const path = await format1File("traded.safetensors", model);
    const loaded = await Model.load(path);
    expect(loaded.layers().map((l) => l.active)).toEqual(counts);
    expect(await loaded.exportLayers()).toEqual(await model.exportLayers());
    // The same counts under a layer budget are refused, though the total is right.
    const layer = await edited(path, "traded-layer.safetensors", (f) => setJson(f, "deepr.model", (m) => (m.budget = "layer")));
    expect(await loadError(layer)).toBe(`${layer}: the layers hold ${JSON.stringify(counts)} connections but the model's layer budget is [24,12]`);
    model.dispose();
    loaded.dispose();
  });

  it("more units than the file's bytes account for, beyond 2^24 of them; fewer load", async () => {
    // Layer widths [1, 2^24, 2] with one connection per layer: 26 bytes of tensors for 2^24 + 2 units.
    const huge = await edited(good, "units.safetensors", (f) => {
      f.tensors.clear();
      for (const l of [0, 1]) {
        f.tensors.set(`layers.${l}.positions`, { dtype: "I32", shape: [1, 2], data: new Int32Array(2) });
        f.tensors.set(`layers.${l}.theta`, { dtype: "F32", shape: [1], data: new Float32Array(1) });
        f.tensors.set(`layers.${l}.sign`, { dtype: "I8", shape: [1], data: Int8Array.of(1) });
      }
      f.metadata["deepr.model"] = JSON.stringify({
        layers: [1, 2 ** 24, 2], connectivity: [2 ** -24, 2 ** -25], budgets: [1, 1], budget: "layer", globalShare: "budget", bias: false, seed: 1,
      });
    });
    expect(await loadError(huge)).toBe(
      `${huge}: the model declares ${2 ** 24 + 2} units in its layers [1,${2 ** 24},2], more than its 26 bytes of tensors can account for; the file is corrupt`,
    );
    // 602 units and 26 bytes, under the 2^24 units any file may declare: a valid model.
    const narrow = Model.create({ layers: [1, 600, 2], connectivity: [1 / 600, 1 / 1200], seed: 3 });
    const path = await format1File("narrow.safetensors", narrow);
    const loaded = await Model.load(path);
    expect(loaded.layers().map((l) => l.active)).toEqual([1, 1]);
    narrow.dispose();
    loaded.dispose();
  });

  it("parameters that break the strict bound, with the core's reason", async () => {
    const negative = await edited(good, "negative.safetensors", (f) => ((f.tensors.get("layers.0.theta")!.data as Float32Array)[3] = -1));
    expect(await loadError(negative)).toMatch(new RegExp(`^${negative}: the parameters are not a valid DEEP R state: .*theta`));
    const cause = await Model.load(negative).catch((e: Error) => e.cause);
    expect(cause).toBeInstanceOf(Error);
  });
});
