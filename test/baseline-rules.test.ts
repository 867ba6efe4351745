// The baseline rules through Model.fit (Bellec et al. 2018, sec. 3): each trains the MLP on
// generated data with the connectivity it promises (dense stays 1, fixed keeps its positions,
// prune and l1 bring it down and never regrow), their signed weights resume bit for bit from a
// checkpoint and are refused under deep-r, and the CLI takes --rule with --optimizer adam.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../lib/checkpoint/safetensors.js";
import { Model, type EpochStats, type ModelOptions } from "../lib/index.js";
import { deepr, jsonLines } from "./helpers/cli.js";
import { editedCopy, loadError, setJson } from "./helpers/checkpoint-files.js";
import { blobs } from "./helpers/synthetic.js";
import { disposables } from "./helpers/disposables.js";

const data = blobs(240, 20, 4);
// 24 steps an epoch.
const fit = { batchSize: 10, lr: 0.05 };
let dir: string;
const disposable = disposables<Model>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-baselines-"));
});
function create(options: Omit<ModelOptions, "layers">): Model {
  const model = Model.create({ layers: [20, 16, 4], bias: true, seed: 4, ...options });
  disposable.push(model);
  return model;
}
const positionsOf = async (model: Model) => (await model.exportLayers()).map((l) => Array.from(l.stores.weight.positions));
/** The connections of each layer as "input,output" strings. */
const connections = async (model: Model) =>
  (await positionsOf(model)).map((p) => new Set(Array.from({ length: p.length / 2 }, (_, k) => `${p[2 * k]},${p[2 * k + 1]}`)));
const connectivity = (stats: EpochStats[]) => stats.map((s) => s.layers.map((l) => l.connectivity));

describe("the baseline rules", () => {
  it("dense trains every connection: connectivity 1 by default and every epoch", async () => {
    const model = create({ rule: "dense" });
    expect(model.options.connectivity).toEqual([1, 1]);
    const stats = await model.fit(data, { ...fit, epochs: 2 });
    expect(connectivity(stats)).toEqual([[1, 1], [1, 1]]);
    expect(stats[1].layers.map((l) => [l.active, l.positions])).toEqual([[320, 320], [64, 64]]);
    expect(stats[1].trainAccuracy).toBeGreaterThan(0.9);
  });

  it("fixed keeps its initial positions and K, and regrows nothing", async () => {
    const model = create({ rule: "fixed", connectivity: 0.3 });
    const before = await positionsOf(model);
    const stats = await model.fit(data, { ...fit, epochs: 2 });
    expect(await positionsOf(model)).toEqual(before);
    expect(stats.map((s) => s.layers.map((l) => [l.active, l.K, l.rewired]))).toEqual([[[96, 96, 0], [19, 19, 0]], [[96, 96, 0], [19, 19, 0]]]);
    expect(stats[1].layers[0].connectivity).toBe(96 / 320);
  });

  it("prune brings connectivity down at its steps only, and a pruned connection never comes back", async () => {
    const model = create({ rule: "prune", connectivity: 1, pruneStart: 10, pruneEvery: 24, pruneTimes: 2, quality: 0.8 });
    const initial = await connections(model);
    // Prunes after steps 10 and 34: one in epoch 1, one in epoch 2, none in epoch 3.
    const stats = await model.fit(data, { ...fit, epochs: 3, weightDecay: 1e-3 });
    const [e1, e2, e3] = stats.map((s) => s.layers[0].active);
    expect(e1).toBeLessThan(320);
    expect(e2).toBeLessThan(e1);
    expect(e3).toBe(e2);
    for (const s of stats) for (const l of s.layers) expect(l.connectivity).toBe(l.active / l.positions);
    const final = await connections(model);
    final.forEach((set, l) => expect([...set].filter((c) => !initial[l].has(c))).toEqual([]));
    await model.checkInvariants();
  });

  it("l1 keeps every connection until its one prune, which brings connectivity down and leaves no zero weight", async () => {
    const model = create({ rule: "l1", connectivity: 1, pruneStart: 47 });
    const stats = await model.fit(data, { ...fit, epochs: 2, alpha: 0.2 });
    expect(stats[0].layers.map((l) => l.active)).toEqual([320, 64]);  // no prune before step 47
    expect(stats[1].layers[0].active).toBeLessThan(320);
    // The prune ran after the last step: no survivor is zero.
    for (const layer of await model.exportLayers()) expect(Array.from(layer.stores.weight.theta as Float32Array).filter((t) => t === 0)).toEqual([]);
  });

  it("a prune checkpoint with negative theta resumes bit for bit (with adam), and is refused as deep-r", async () => {
    const options = { connectivity: 1, rule: "prune", pruneStart: 30, pruneEvery: 10, pruneTimes: 2 } as const;
    const train = { ...fit, lr: 0.01, optimizer: "adam" } as const;
    const straight = create(options);
    await straight.fit(data, { ...train, epochs: 3 });
    const first = create(options);
    await first.fit(data, { ...train, epochs: 2 });
    const file = join(dir, "prune.safetensors");
    await first.save(file);
    const { tensors, metadata } = decodeSafetensors(await readFile(file), file);
    expect(Array.from(tensors.get("layers.0.weight.theta")!.data as Float32Array).some((t) => t < 0)).toBe(true);
    expect(JSON.parse(metadata["deepr.rule"])).toEqual({ name: "prune", pruneStart: 30, pruneEvery: 10, pruneTimes: 2, quality: 0.5 });
    const resumed = await Model.load(file);
    disposable.push(resumed);
    expect(resumed.options).toEqual(first.options);
    await resumed.fit(data, { epochs: 3 });
    expect(resumed.progress).toEqual(straight.progress);
    expect(await resumed.exportLayers()).toEqual(await straight.exportLayers());

    // Before its first prune the model holds K = budget connections, some with theta < 0: as deep-r's, they would be dormant.
    const unpruned = create({ ...options, pruneStart: 1000 });
    await unpruned.fit(data, { ...train, epochs: 1 });
    const unprunedFile = join(dir, "unpruned.safetensors");
    await unpruned.save(unprunedFile);
    expect((await unpruned.exportLayers()).some((l) => (l.stores.weight.theta as Float32Array).some((t) => t < 0))).toBe(true);
    const asDeepR = await editedCopy(unprunedFile, join(dir, "as-deep-r.safetensors"), (f) =>
      setJson(f, "deepr.rule", (r) => {
        for (const key of Object.keys(r)) delete r[key];
        Object.assign(r, { name: "deep-r", budget: "layer", globalShare: "budget" });
      }),
    );
    expect(await loadError(asDeepR)).toMatch(/: the parameters are not a valid DEEP R state: .*theta of connection \d+ is -[\d.]+; an active connection has a finite theta >= 0$/);
  });

  it("refuses unknown rules, another rule's settings, a global budget and a partial dense network, saying what is allowed", () => {
    expect(() => create({ rule: "rigl" as "dense" })).toThrow('options.rule must be one of "deep-r", "dense", "fixed", "prune", "l1", "soft-deep-r", got "rigl"');
    expect(() => create({ rule: "fixed", connectivity: 0.5, quality: 1 })).toThrow('options.quality goes with rule "prune"; rule "fixed" does not take it');
    expect(() => create({ rule: "prune", connectivity: 1, pruneEvery: 0 })).toThrow("options.pruneEvery must be an integer in [1, 9007199254740991], got 0");
    expect(() => create({ rule: "prune", connectivity: 1, budget: "global" })).toThrow(/^options\.budget "global" is DEEP R's regrowth .*use budget "layer"$/);
    expect(() => create({ rule: "dense", connectivity: 0.5 })).toThrow(/^options\.connectivity\[0\] is 0\.5, but rule "dense" trains every connection/);
    const list = [{ kind: "sparse_linear", outputs: 8, connectivity: 1 }, { kind: "relu" }, { kind: "sparse_linear", outputs: 4, connectivity: 0.5 }, { kind: "softmax_cross_entropy" }];
    expect(() => Model.create({ layers: list, inputShape: [20], rule: "dense" })).toThrow(
      'options.layers[2].connectivity is 0.5, but rule "dense" trains every connection; give it connectivity 1, or use rule "fixed"',
    );
  });
});

describe("deepr train --rule", () => {
  it("trains with --rule prune --optimizer adam, reporting the connectivity pruning reached", async () => {
    const csv = join(dir, "blobs.csv");
    const rows = Array.from({ length: data.count }, (_, n) => [data.labels[n], ...data.inputs.subarray(n * 20, (n + 1) * 20)].join(","));
    await writeFile(csv, ["label", ...Array.from({ length: 20 }, (_, i) => `x${i}`)].join(",") + "\n" + rows.join("\n") + "\n");
    const r = await deepr([
      "train", "--data", csv, "--layers", "20,16,4", "--connectivity", "1", "--rule", "prune", "--prune-start", "5", "--prune-every", "5",
      "--prune-times", "2", "--quality", "1", "--optimizer", "adam", "--lr", "0.01", "--beta2", "0.99", "--epochs", "2", "--json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const final = jsonLines(r.stdout).at(-1);
    expect(final.connectivity).toBeLessThan(1);
    const bad = await deepr(["train", "--data", csv, "--rule", "prune", "--optimizer", "rmsprop"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--optimizer must be sgd, momentum or adam, got "rmsprop"');
  }, 60_000);
});
