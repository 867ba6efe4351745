// Checkpoint format 2 on top of safetensors (lib/checkpoint/format-2.ts): what save() writes,
// field by field, and how load() answers each way a file can describe a network that is not the
// one its tensors hold. Format 1 has its own test, checkpoint-format-1.test.ts.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { saveCheckpoint } from "../lib/checkpoint/model-checkpoint.js";
import { decodeSafetensors, type SafetensorsFile } from "../lib/checkpoint/safetensors.js";
import { layerKindNames } from "../lib/layers/registry.js";
import { Model } from "../lib/model.js";
import { editedCopy, loadError, metadataJson, setJson } from "./helpers/checkpoint-files.js";
import { blobs } from "./helpers/synthetic.js";

const spec = { layers: [12, 8, 3], connectivity: [0.25, 0.5], bias: true, seed: 21 };
const data = blobs(60, 12, 3);
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-checkpoint-format-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function trainedFile(name: string, model = Model.create(spec), fit = { epochs: 1, lr: 0.2, batchSize: 4, momentum: 0.5 }): Promise<string> {
  await model.fit(data, fit);
  const path = join(dir, name);
  await model.save(path);
  model.dispose();
  return path;
}

/** A copy of the checkpoint at `from`, named `name` in this suite's folder, after `change` edits it. */
const edited = (from: string, name: string, change: (file: SafetensorsFile) => void) => editedCopy(from, join(dir, name), change);

describe("what save() writes", () => {
  it("every tensor with its dtype and shape, and the metadata documents", async () => {
    const model = Model.create(spec);
    await model.fit(data, { epochs: 1, lr: 0.2, batchSize: 4, momentum: 0.5, temperature: 1e-3 });
    const path = join(dir, "written.safetensors");
    await model.save(path);
    const file = decodeSafetensors(await readFile(path), path);
    const shapes = Object.fromEntries([...file.tensors].map(([name, t]) => [name, `${t.dtype} [${t.shape}]`]));
    expect(shapes).toEqual({
      "layers.0.weight.positions": "I32 [24,2]", "layers.0.weight.theta": "F32 [24]", "layers.0.weight.sign": "I8 [24]",
      "layers.0.weight.velocity": "F32 [24]", "layers.0.bias.value": "F32 [8]", "layers.0.bias.velocity": "F32 [8]",
      "layers.2.weight.positions": "I32 [12,2]", "layers.2.weight.theta": "F32 [12]", "layers.2.weight.sign": "I8 [12]",
      "layers.2.weight.velocity": "F32 [12]", "layers.2.bias.value": "F32 [3]", "layers.2.bias.velocity": "F32 [3]",
    });
    const layers = await model.exportLayers();
    layers.forEach((layer, n) => {
      const l = 2 * n; // the sparse linear layers sit at 0 and 2 of the graph, the relu between them at 1
      expect(file.tensors.get(`layers.${l}.weight.positions`)!.data).toEqual(layer.positions);
      expect(file.tensors.get(`layers.${l}.weight.theta`)!.data).toEqual(layer.theta);
      expect(file.tensors.get(`layers.${l}.weight.sign`)!.data).toEqual(layer.sign);
      expect(file.tensors.get(`layers.${l}.weight.velocity`)!.data).toEqual(layer.velocity);
      expect(file.tensors.get(`layers.${l}.bias.value`)!.data).toEqual(layer.bias);
      expect(file.tensors.get(`layers.${l}.bias.velocity`)!.data).toEqual(layer.biasVelocity);
    });
    expect(Object.keys(file.metadata).sort()).toEqual(["deepr.graph", "deepr.progress", "deepr.rng", "deepr.rule", "deepr.training", "deepr.version", "format"]);
    expect(file.metadata.format).toBe("deepr");
    expect(file.metadata["deepr.version"]).toBe("2");
    expect(metadataJson(file, "deepr.graph")).toEqual([
      {
        kind: "sparse_linear", inputs: 12, outputs: 8, stores: {
          weight: { kind: "sparse", shape: [12, 8], budget: 24, connectivity: 0.25, fields: ["positions", "theta", "sign", "velocity"] },
          bias: { kind: "dense", shape: [8], fields: ["value", "velocity"] },
        },
      },
      { kind: "relu" },
      {
        kind: "sparse_linear", inputs: 8, outputs: 3, stores: {
          weight: { kind: "sparse", shape: [8, 3], budget: 12, connectivity: 0.5, fields: ["positions", "theta", "sign", "velocity"] },
          bias: { kind: "dense", shape: [3], fields: ["value", "velocity"] },
        },
      },
      { kind: "softmax_cross_entropy" },
    ]);
    expect(metadataJson(file, "deepr.rule")).toEqual({ name: "deep-r", budget: "layer", globalShare: "budget" });
    expect(metadataJson(file, "deepr.training")).toEqual({
      epochs: 1, lr: 0.2, lrSchedule: "exponential", lrDecay: 0.8, batchSize: 4, alpha: 1e-5, temperature: 1e-3, weightDecay: 1e-4, momentum: 0.5,
      beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipNorm: 0, crop: 0, flip: false, checkInvariants: false, optimizer: "momentum",
    });
    // 60 samples in batches of 4: 15 steps.
    expect(metadataJson(file, "deepr.progress")).toEqual({ epoch: 1, batchInEpoch: 0, batchSize: 4, step: 15 });
    expect(metadataJson(file, "deepr.rng")).toEqual({ algorithm: "philox4x32-10", seed: 21, step: 15, streamKeys: 1 });
    model.dispose();
  });

  it("no bias store or velocity for a model without biases that never used momentum; a global rule", async () => {
    const model = Model.create({ ...spec, bias: false, budget: "global", globalShare: "dormant" });
    const path = join(dir, "plain.safetensors");
    await model.save(path);
    const file = decodeSafetensors(await readFile(path), path);
    expect([...file.tensors.keys()]).toEqual([
      "layers.0.weight.positions", "layers.0.weight.theta", "layers.0.weight.sign", "layers.2.weight.positions", "layers.2.weight.theta", "layers.2.weight.sign",
    ]);
    expect(metadataJson(file, "deepr.graph")[2].stores).toEqual({ weight: { kind: "sparse", shape: [8, 3], budget: 12, connectivity: 0.5, fields: ["positions", "theta", "sign"] } });
    expect(metadataJson(file, "deepr.rule")).toEqual({ name: "deep-r", budget: "global", globalShare: "dormant" });
    const loaded = await Model.load(path);
    expect(loaded.options).toEqual(model.options);
    expect(await loaded.exportLayers()).toEqual(await model.exportLayers());
    model.dispose();
    loaded.dispose();
  });

  it("refuses non-finite parameters, naming the tensor, and writes nothing", async () => {
    const model = Model.create(spec);
    await model.fit(data, { epochs: 1, batchSize: 6, momentum: 0.5 });
    for (const [field, name] of [["theta", "weight.theta"], ["bias", "bias.value"], ["velocity", "weight.velocity"], ["biasVelocity", "bias.velocity"]] as const) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const layers = await model.exportLayers();
        layers[1][field]![1] = bad;
        const path = join(dir, `non-finite-${name}.safetensors`);
        await expect(saveCheckpoint({ options: model.options, trainOptions: model.trainOptions, progress: model.progress, layers }, path)).rejects.toThrow(
          `deepr: refusing to save ${path}: layers.2.${name} holds non-finite values (training diverged); the previous file is untouched`,
        );
        expect(existsSync(path)).toBe(false);
      }
    }
    model.dispose();
  });
});

describe("what load() refuses", () => {
  let good: string;
  beforeAll(async () => {
    good = await trainedFile("good.safetensors");
  });
  const graphOf = (f: SafetensorsFile) => metadataJson(f, "deepr.graph") as Record<string, any>[];
  const setGraph = (f: SafetensorsFile, change: (graph: Record<string, any>[]) => void) => {
    const graph = graphOf(f);
    change(graph);
    f.metadata["deepr.graph"] = JSON.stringify(graph);
  };

  it("loads the unedited file, and one whose JSON objects list their keys in another order", async () => {
    const model = await Model.load(good);
    expect(model.progress).toEqual({ epoch: 1, batchInEpoch: 0, batchSize: 4, step: 15 });
    expect(model.trainOptions).toMatchObject({ lr: 0.2, batchSize: 4, momentum: 0.5, noise: 1e-5 });
    const reverse = (value: unknown): unknown =>
      Array.isArray(value) ? value.map(reverse)
        : value !== null && typeof value === "object" ? Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverse(v)])) : value;
    const reordered = await edited(good, "reordered.safetensors", (f) => (f.metadata["deepr.graph"] = JSON.stringify(reverse(graphOf(f)))));
    expect(Object.keys(graphOf(decodeSafetensors(await readFile(reordered), reordered))[0])[0]).toBe("stores");
    const again = await Model.load(reordered);
    expect(await again.exportLayers()).toEqual(await model.exportLayers());
    model.dispose();
    again.dispose();
  });

  it("another format or version, naming what it found", async () => {
    const other = await edited(good, "other.safetensors", (f) => (f.metadata.format = "pt"));
    expect(await loadError(other)).toBe(`${other}: a safetensors file, but not a deepr checkpoint (metadata "format" is "pt")`);
    const version = await edited(good, "version.safetensors", (f) => (f.metadata["deepr.version"] = "3"));
    expect(await loadError(version)).toBe(`${version}: checkpoint format version "3" is not supported (this deepr reads 1 and 2)`);
    const none = await edited(good, "no-version.safetensors", (f) => delete f.metadata["deepr.version"]);
    expect(await loadError(none)).toBe(`${none}: checkpoint format version undefined is not supported (this deepr reads 1 and 2)`);
  });

  it("a missing or malformed metadata document", async () => {
    for (const key of ["deepr.graph", "deepr.rule", "deepr.rng", "deepr.progress", "deepr.training"]) {
      const missing = await edited(good, `missing-${key}.safetensors`, (f) => delete f.metadata[key]);
      expect(await loadError(missing)).toBe(`${missing}: metadata entry ${key} is missing; this is not a complete deepr checkpoint`);
      const broken = await edited(good, `broken-${key}.safetensors`, (f) => (f.metadata[key] = "{"));
      expect(await loadError(broken)).toMatch(new RegExp(`^${broken}: metadata entry ${key} is not a JSON (object|array) \\(.+\\)$`));
      for (const text of key === "deepr.graph" ? ["{}", "null", "3"] : ["[1]", "null", "3"]) {
        const path = await edited(good, `bad-${key}.safetensors`, (f) => (f.metadata[key] = text));
        expect(await loadError(path)).toBe(key === "deepr.graph" ? `${path}: deepr.graph is not a JSON array of layers` : `${path}: metadata entry ${key} is not a JSON object (not an object)`);
      }
    }
  });

  it("a layer kind this build does not know, or a network it does not build", async () => {
    const cases: [string, (graph: Record<string, any>[]) => void, string][] = [
      ["conv", (g) => (g[2] = { kind: "conv3d" }), `layer 2 has kind "conv3d", which this deepr does not know (it knows ${layerKindNames.join(", ")})`],
      ["no kind", (g) => (g[1] = 7), `layer 1 has kind undefined, which this deepr does not know (it knows ${layerKindNames.join(", ")})`],
      ["no relu", (g) => g.splice(1, 1), "layer 1 is sparse_linear where a relu belongs: a checkpoint without deepr.inputShape holds sparse_linear layers with relu between them and a softmax_cross_entropy head"],
      ["head first", (g) => g.reverse(), "layer 0 is softmax_cross_entropy where a sparse_linear belongs: a checkpoint without deepr.inputShape holds sparse_linear layers with relu between them and a softmax_cross_entropy head"],
      ["no head", (g) => g.pop(), "has no softmax_cross_entropy head after its last sparse_linear layer"],
      ["empty", (g) => g.splice(0), "has no softmax_cross_entropy head after its last sparse_linear layer"],
      ["no weight", (g) => delete g[2].stores.weight, "layer 2 (sparse_linear) has no weight store"],
      ["no stores", (g) => delete g[0].stores, "layer 0 (sparse_linear) has no weight store"],
    ];
    for (const [label, change, message] of cases) {
      const path = await edited(good, `graph-${label}.safetensors`, (f) => setGraph(f, change));
      expect(await loadError(path)).toBe(`${path}: deepr.graph ${message}`);
    }
  });

  it("a graph whose layers do not fit together, naming the layer and what it should be", async () => {
    const cases: [string, (graph: Record<string, any>[]) => void, number][] = [
      ["inputs", (g) => (g[2].inputs = 9), 2],
      ["shape", (g) => (g[0].stores.weight.shape = [12, 9]), 0],
      ["store kind", (g) => (g[2].stores.bias.kind = "sparse"), 2],
      ["bias in one layer", (g) => delete g[2].stores.bias, 2],
      ["velocity in one layer", (g) => g[2].stores.weight.fields.pop(), 2],
      ["a field", (g) => g[0].stores.bias.fields.push("moment"), 0],
      ["a store", (g) => (g[0].stores.gamma = { kind: "dense", shape: [8], fields: ["value"] }), 0],
      ["relu spec", (g) => (g[1].slope = 0.1), 1],
    ];
    for (const [label, change, l] of cases) {
      let stored: unknown;
      const path = await edited(good, `mismatch-${label}.safetensors`, (f) => setGraph(f, (g) => {
        change(g);
        stored = g[l];
      }));
      const expected = graphOf(decodeSafetensors(await readFile(good), good))[l];
      expect(await loadError(path), label).toBe(`${path}: deepr.graph layer ${l} is ${JSON.stringify(stored)}, but the network the graph describes has ${JSON.stringify(expected)} there`);
    }
  });

  it("a model description that does not hold together", async () => {
    const prefix = (path: string) => `${path}: invalid model description: `;
    const budget = await edited(good, "budget.safetensors", (f) => setGraph(f, (g) => (g[2].stores.weight.budget = 11)));
    expect(await loadError(budget)).toBe(`${prefix(budget)}stored budgets [24,11] do not follow from the connectivity ([24,12])`);
    const width = await edited(good, "width.safetensors", (f) => setGraph(f, (g) => (g[0].outputs = 0)));
    expect(await loadError(width)).toBe(`${prefix(width)}options.layers[1] must be an integer in [1, 2147483647], got 0`);
    const connectivity = await edited(good, "connectivity.safetensors", (f) => setGraph(f, (g) => (g[0].stores.weight.connectivity = "all")));
    expect(await loadError(connectivity)).toBe(`${prefix(connectivity)}options.connectivity[0] must be a number, got "all"`);
    const rule = await edited(good, "rule-budget.safetensors", (f) => setJson(f, "deepr.rule", (r) => (r.budget = "network")));
    expect(await loadError(rule)).toBe(`${prefix(rule)}options.budget must be one of "layer", "global", got "network"`);
    const seed = await edited(good, "seed.safetensors", (f) => setJson(f, "deepr.rng", (r) => (r.seed = -1)));
    expect(await loadError(seed)).toBe(`${prefix(seed)}options.seed must be an integer in [0, 9007199254740991], got -1`);
    const lr = await edited(good, "lr.safetensors", (f) => setJson(f, "deepr.training", (t) => (t.lr = -1)));
    expect(await loadError(lr)).toBe(`${prefix(lr)}options.lr must be a finite number in (0, 1000000], got -1`);
    const epoch = await edited(good, "progress.safetensors", (f) => setJson(f, "deepr.progress", (p) => (p.epoch = 1.5)));
    expect(await loadError(epoch)).toBe(`${prefix(epoch)}progress.epoch must be a non-negative integer, got 1.5`);
  });

  it("a training rule or random streams this build cannot resume", async () => {
    const rigl = await edited(good, "rigl.safetensors", (f) => setJson(f, "deepr.rule", (r) => (r.name = "rigl")));
    expect(await loadError(rigl)).toBe(`${rigl}: training rule "rigl" is not one this deepr knows (it knows "deep-r", "dense", "fixed", "prune", "l1", "soft-deep-r")`);
    for (const [field, value, shown] of [["algorithm", "mt19937", `"mt19937" with key layout 1`], ["streamKeys", 2, `"philox4x32-10" with key layout 2`], ["streamKeys", undefined, `"philox4x32-10" with key layout undefined`]] as const) {
      const path = await edited(good, `rng-${field}.safetensors`, (f) => setJson(f, "deepr.rng", (r) => (r[field] = value)));
      expect(await loadError(path)).toBe(`${path}: random streams ${shown} cannot be resumed (this deepr draws philox4x32-10 with key layout 1)`);
    }
    for (const [label, change] of [["unknown entry", (r: Record<string, unknown>) => (r.decay = 0.5)], ["no budget", (r: Record<string, unknown>) => delete r.budget]] as const) {
      let stored = "";
      const path = await edited(good, `rule-${label}.safetensors`, (f) => setJson(f, "deepr.rule", (r) => {
        change(r);
        stored = JSON.stringify(r);
      }));
      expect(await loadError(path), label).toBe(
        `${path}: deepr.rule is ${stored}, but a deep-r rule has exactly a name, a budget and a globalShare: {"name":"deep-r","budget":"layer","globalShare":"budget"}`,
      );
    }
    const seed = await edited(good, "rng-seed.safetensors", (f) => setJson(f, "deepr.rng", (r) => delete r.seed));
    expect(await loadError(seed)).toBe(`${seed}: deepr.rng has no seed; the random streams cannot resume without it`);
    const step = await edited(good, "rng-step.safetensors", (f) => setJson(f, "deepr.rng", (r) => (r.step = 14)));
    expect(await loadError(step)).toBe(`${step}: deepr.rng is at step 14 but deepr.progress at step 15`);
  });

  it("a store tensor that is missing, of the wrong dtype or shape, or not declared", async () => {
    const cases: [string, (f: SafetensorsFile) => void, string][] = [
      ["positions", (f) => f.tensors.delete("layers.2.weight.positions"), "tensor layers.2.weight.positions is missing"],
      ["sign", (f) => f.tensors.delete("layers.0.weight.sign"), "tensor layers.0.weight.sign is missing"],
      ["bias", (f) => f.tensors.delete("layers.2.bias.value"), "tensor layers.2.bias.value is missing"],
      ["velocity", (f) => f.tensors.delete("layers.2.weight.velocity"), "tensor layers.2.weight.velocity is missing"],
      ["bias velocity", (f) => f.tensors.delete("layers.0.bias.velocity"), "tensor layers.0.bias.velocity is missing"],
      ["dtype", (f) => {
        const t = f.tensors.get("layers.0.weight.theta")!;
        f.tensors.set("layers.0.weight.theta", { dtype: "F64", shape: t.shape, data: Float64Array.from(t.data as Float32Array) });
      }, "tensor layers.0.weight.theta is F64 [24], expected F32 [24]"],
      ["rank", (f) => {
        const t = f.tensors.get("layers.0.weight.positions")!;
        f.tensors.set("layers.0.weight.positions", { ...t, shape: [48] });
      }, "tensor layers.0.weight.positions is I32 [48], expected I32 [24,2]"],
      ["bias shape", (f) => f.tensors.set("layers.2.bias.value", { dtype: "F32", shape: [4], data: new Float32Array(4) }), "tensor layers.2.bias.value is F32 [4], expected F32 [3]"],
      // Without theta, K is taken as 0, and the positions say otherwise.
      ["theta", (f) => f.tensors.delete("layers.0.weight.theta"), "tensor layers.0.weight.positions is I32 [24,2], expected I32 [0,2]"],
      ["format 1 name", (f) => f.tensors.set("layers.1.theta", { dtype: "F32", shape: [1], data: new Float32Array(1) }), "tensor layers.1.theta is not one of the stores deepr.graph declares"],
      ["relu store", (f) => f.tensors.set("layers.1.weight.theta", { dtype: "F32", shape: [1], data: new Float32Array(1) }), "tensor layers.1.weight.theta is not one of the stores deepr.graph declares"],
      ["undeclared velocity", (f) => setGraph(f, (g) => {
        for (const layer of [g[0], g[2]]) for (const store of Object.values(layer.stores) as { fields: string[] }[]) store.fields.pop();
      }), "tensor layers.0.weight.velocity is not one of the stores deepr.graph declares"],
    ];
    for (const [label, change, message] of cases) {
      const path = await edited(good, `tensor-${label}.safetensors`, change);
      expect(await loadError(path), label).toBe(`${path}: ${message}`);
    }
  });

  it("connection counts that do not match the budget", async () => {
    // One connection fewer in the second sparse layer, every tensor of it consistent.
    const drop = (f: SafetensorsFile) => {
      for (const [name, width] of [["positions", 2], ["theta", 1], ["sign", 1], ["velocity", 1]] as const) {
        const t = f.tensors.get(`layers.2.weight.${name}`)!;
        const data = t.data.subarray(0, t.data.length - width);
        f.tensors.set(`layers.2.weight.${name}`, { ...t, shape: name === "positions" ? [11, 2] : [11], data });
      }
    };
    const layer = await edited(good, "layer-budget.safetensors", drop);
    expect(await loadError(layer)).toBe(`${layer}: the layers hold [24,11] connections but the model's layer budget is [24,12]`);
    const global = await edited(good, "global-budget.safetensors", (f) => {
      drop(f);
      setJson(f, "deepr.rule", (r) => (r.budget = "global"));
    });
    expect(await loadError(global)).toBe(`${global}: the layers hold [24,11] connections but the model's global budget is [24,12]`);
  });

  it("a global budget's layers may hold other counts than their initial shares, with the same total", async () => {
    const model = Model.create({ ...spec, budget: "global" });
    await model.fit(data, { epochs: 3, lr: 0.5, batchSize: 2, noise: 0.1 });
    const counts = model.layers().map((l) => l.active);
    expect(counts).not.toEqual([24, 12]);
    expect(counts[0] + counts[1]).toBe(36);
    const path = join(dir, "traded.safetensors");
    await model.save(path);
    const loaded = await Model.load(path);
    expect(loaded.layers().map((l) => l.active)).toEqual(counts);
    expect(await loaded.exportLayers()).toEqual(await model.exportLayers());
    // The same counts under a layer budget are refused, though the total is right.
    const layer = await edited(path, "traded-layer.safetensors", (f) => setJson(f, "deepr.rule", (r) => (r.budget = "layer")));
    expect(await loadError(layer)).toBe(`${layer}: the layers hold ${JSON.stringify(counts)} connections but the model's layer budget is [24,12]`);
    model.dispose();
    loaded.dispose();
  });

  it("more units than the file's bytes account for, beyond 2^24 of them", async () => {
    // Widths [1, 2^24, 2] with one connection per layer: 26 bytes of tensors for 2^24 + 2 units.
    const huge = await edited(good, "units.safetensors", (f) => {
      f.tensors.clear();
      for (const l of [0, 2]) {
        f.tensors.set(`layers.${l}.weight.positions`, { dtype: "I32", shape: [1, 2], data: new Int32Array(2) });
        f.tensors.set(`layers.${l}.weight.theta`, { dtype: "F32", shape: [1], data: new Float32Array(1) });
        f.tensors.set(`layers.${l}.weight.sign`, { dtype: "I8", shape: [1], data: Int8Array.of(1) });
      }
      const store = (inputs: number, outputs: number, connectivity: number) => ({
        kind: "sparse_linear", inputs, outputs,
        stores: { weight: { kind: "sparse", shape: [inputs, outputs], budget: 1, connectivity, fields: ["positions", "theta", "sign"] } },
      });
      f.metadata["deepr.graph"] = JSON.stringify([store(1, 2 ** 24, 2 ** -24), { kind: "relu" }, store(2 ** 24, 2, 2 ** -25), { kind: "softmax_cross_entropy" }]);
      setJson(f, "deepr.training", (t) => (t.optimizer = "sgd"));  // stores without a velocity
    });
    expect(await loadError(huge)).toBe(
      `${huge}: the model declares ${2 ** 24 + 2} units in its layers [1,${2 ** 24},2], more than its 26 bytes of tensors can account for; the file is corrupt`,
    );
  });

  it("parameters that break the strict bound, with the core's reason", async () => {
    const negative = await edited(good, "negative.safetensors", (f) => ((f.tensors.get("layers.0.weight.theta")!.data as Float32Array)[3] = -1));
    expect(await loadError(negative)).toMatch(new RegExp(`^${negative}: the parameters are not a valid DEEP R state: .*theta`));
    const cause = await Model.load(negative).catch((e: Error) => e.cause);
    expect(cause).toBeInstanceOf(Error);
  });
});
