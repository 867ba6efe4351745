// soft-DEEP R (Bellec et al. 2018, Algorithm 2) through Model.fit and the CLI: K moves without a
// hard bound and the epoch stats report the highest connectivity reached; every optimiser trains
// with it; a checkpoint keeps the dormant θ of every position and resumes bit for bit; a short
// MNIST fit learns.
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../lib/checkpoint/safetensors.js";
import type { Dataset } from "../lib/data/dataset.js";
import { loadMnist } from "../lib/data/mnist.js";
import { Dataset as Datasets, Model, type ModelOptions } from "../lib/index.js";
import { deepr, jsonLines } from "./helpers/cli.js";
import { blobs } from "./helpers/synthetic.js";
import { disposables } from "./helpers/disposables.js";

const data = blobs(240, 20, 4);
// beta = 2 alpha / (lr noise^2) = 2e-2 / (0.5 * 1e-4) = 400 at lr 0.5: theta_min = -(1 - p0) / (p0 * 400), -5.83e-3 at p0 = 0.3.
const fit = { batchSize: 10, alpha: 0.01, noise: 0.01 };
const soft = { rule: "soft-deep-r", beta: 400, connectivity: 0.3 } as const;
const lrs = { sgd: 0.5, momentum: 0.05, adam: 0.01 } as const;
let dir: string;
const disposable = disposables<Model>();
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-soft-"));
});
function create(options: Omit<ModelOptions, "layers">): Model {
  const model = Model.create({ layers: [20, 16, 4], bias: true, seed: 4, ...options });
  disposable.push(model);
  return model;
}

describe("soft-deep-r", () => {
  it("has no hard bound on K, reports the highest connectivity reached, and trains with sgd, momentum and adam", async () => {
    for (const optimizer of ["sgd", "momentum", "adam"] as const) {
      const model = create(soft);
      const stats = await model.fit(data, { ...fit, lr: lrs[optimizer], epochs: 3, optimizer, ...(optimizer === "momentum" ? { momentum: 0.9 } : {}) });
      expect(stats.every((s) => s.layers.every((l) => l.active === Math.round(l.connectivity * l.positions)))).toBe(true);
      expect(stats.some((s) => s.layers.some((l) => l.active !== l.K))).toBe(true);
      const overall = stats.map((s) => s.layers.reduce((a, l) => a + l.active, 0) / s.layers.reduce((a, l) => a + l.positions, 0));
      for (const [e, s] of stats.entries()) {
        expect(s.maxConnectivity).toBeGreaterThanOrEqual(Math.max((96 + 19) / (320 + 64), ...overall.slice(0, e + 1)));
        if (e > 0) expect(s.maxConnectivity).toBeGreaterThanOrEqual(stats[e - 1].maxConnectivity);
      }
      expect(stats[2].trainAccuracy).toBeGreaterThan(0.9);
      await model.checkInvariants();
    }
  });

  it("saves the dormant theta of every position and resumes bit for bit", async () => {
    const straight = create(soft);
    await straight.fit(data, { ...fit, lr: lrs.adam, epochs: 3, optimizer: "adam" });
    const first = create(soft);
    await first.fit(data, { ...fit, lr: lrs.adam, epochs: 2, optimizer: "adam" });
    const file = join(dir, "soft.safetensors");
    await first.save(file);
    const { tensors, metadata } = decodeSafetensors(await readFile(file), file);
    expect(JSON.parse(metadata["deepr.rule"])).toEqual({ name: "soft-deep-r", beta: 400 });
    const dormant = tensors.get("layers.0.weight.dormant_theta")!;
    expect(dormant.shape).toEqual([320]);
    const thetaMin = -(1 - 0.3) / (0.3 * 400);
    const values = Array.from(dormant.data as Float32Array);
    const active = values.filter((t) => t === 0).length;
    expect(active).toBe((tensors.get("layers.0.weight.theta")!.data as Float32Array).length);
    expect(values.every((t) => t === 0 || (t < 0 && t >= Math.fround(thetaMin)))).toBe(true);
    const resumed = await Model.load(file);
    disposable.push(resumed);
    expect(resumed.options).toEqual(first.options);
    await resumed.fit(data, { epochs: 3 });
    expect(resumed.progress).toEqual(straight.progress);
    expect(await resumed.exportLayers()).toEqual(await straight.exportLayers());
  });

  it("refuses a state without its dormant theta, or with one outside [theta_min, 0)", async () => {
    const model = create(soft);
    const layers = await model.exportLayers();
    const { dormant_theta: dormantTheta, ...rest } = layers[0].stores.weight;
    await expect(model.importLayers([{ ...layers[0], stores: { ...layers[0].stores, weight: rest } }, layers[1]], 0)).rejects.toThrow(
      /layers\[0\]\.stores\.weight\.dormant_theta/,
    );
    const below = Float32Array.from(dormantTheta as Float32Array, (t) => (t < 0 ? -1 : t));
    await expect(
      model.importLayers([{ ...layers[0], stores: { ...layers[0].stores, weight: { ...rest, dormant_theta: below } } }, layers[1]], 0),
    ).rejects.toThrow(/outside \[theta_min, 0\)/);
  });
});

describe("soft-deep-r in a layer list", () => {
  // Every sparse store keeps its dormant theta: a convolution's kernel entries and an LSTM's two weights.
  const side = 6, samples = 48;
  const labels = Int32Array.from({ length: samples }, (_, s) => s % 2);
  const images = Float32Array.from({ length: samples * side * side }, (_, n) => Math.sin(n * 12.9898) + labels[Math.floor(n / (side * side))]);
  const image = Datasets.fromArrays({ inputs: images, labels, shape: [1, side, side], classes: 2 });
  const sequences = Datasets.fromArrays({ inputs: images, labels, shape: [6, 6], classes: 2 });
  const networks: [string, Dataset, ModelOptions][] = [
    ["sparse_conv2d", image, { inputShape: [1, side, side], layers: [{ kind: "sparse_conv2d", outChannels: 3, kernel: 3, connectivity: 0.3 }, { kind: "relu" }, { kind: "sparse_linear", outputs: 2, connectivity: 0.3 }, { kind: "softmax_cross_entropy" }] }],
    ["sparse_lstm", sequences, { inputShape: [6, 6], layers: [{ kind: "sparse_lstm", units: 4, connectivity: 0.3 }, { kind: "sparse_linear", outputs: 2, connectivity: 0.5 }, { kind: "softmax_cross_entropy" }] }],
  ];
  for (const [kind, train, options] of networks)
    it(`trains a ${kind} network and resumes it bit for bit`, async () => {
      const model = { ...options, rule: "soft-deep-r", beta: 400, seed: 3 } as const;
      const straight = Model.create(model), first = Model.create(model);
      disposable.push(straight, first);
      await straight.fit(train, { ...fit, lr: 0.1, epochs: 2 });
      await first.fit(train, { ...fit, lr: 0.1, epochs: 1 });
      await straight.checkInvariants();
      const path = join(dir, `${kind}.safetensors`);
      await first.save(path);
      const resumed = await Model.load(path);
      disposable.push(resumed);
      await resumed.fit(train, { epochs: 2 });
      const after = await resumed.exportLayers();
      expect(after).toEqual(await straight.exportLayers());
      expect(Object.values(after[0].stores).filter((store) => store.dormant_theta !== undefined).length).toBe(kind === "sparse_lstm" ? 2 : 1);
    });
});

describe("deepr train --rule soft-deep-r", () => {
  it("trains with --beta, reporting each epoch's connectivity and the highest reached", async () => {
    const csv = join(dir, "blobs.csv");
    const rows = Array.from({ length: data.count }, (_, n) => [data.labels[n], ...data.inputs.subarray(n * 20, (n + 1) * 20)].join(","));
    await writeFile(csv, ["label", ...Array.from({ length: 20 }, (_, i) => `x${i}`)].join(",") + "\n" + rows.join("\n") + "\n");
    const args = ["train", "--data", csv, "--layers", "20,16,4", "--connectivity", "0.3", "--rule", "soft-deep-r", "--beta", "400",
      "--lr", "0.5", "--alpha", "0.01", "--noise", "0.01", "--epochs", "2"];
    const r = await deepr([...args, "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = jsonLines(r.stdout);
    const epochs = lines.filter((l) => l.type === "epoch");
    expect(epochs).toHaveLength(2);
    expect(epochs[1].maxConnectivity).toBeGreaterThanOrEqual(epochs[0].maxConnectivity);
    expect(epochs[1].maxConnectivity).toBeGreaterThanOrEqual(lines.at(-1).connectivity);
    const text = await deepr(args);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/epoch 2\/2 .* connectivity [\d.]+ %\/[\d.]+ % \(max [\d.]+ %\)/);
    const misplaced = await deepr(["train", "--data", csv, "--beta", "4000"]);
    expect(misplaced.code).not.toBe(0);
    expect(misplaced.stderr).toContain("soft-deep-r");
  }, 60_000);
});

describe("soft-deep-r on MNIST", () => {
  let train: Dataset, test: Dataset;
  beforeAll(async () => {
    const mnist = await loadMnist();
    const first = (d: Dataset, count: number): Dataset => ({
      ...d, inputs: d.inputs.subarray(0, count * d.features), labels: d.labels.subarray(0, count), count,
    });
    train = first(mnist.train, 5000);
    test = first(mnist.test, 2000);
  });

  // 500 steps (about 2 s) at DEEP R's lr 0.5, with beta = 2 alpha / (lr noise^2) = 4e5 for it.
  it("learns the reference 784-300-100-10 network from 5000 samples in one epoch", async () => {
    const model = Model.create({ layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3], rule: "soft-deep-r", beta: 4e5, seed: 2 });
    disposable.push(model);
    const [stats] = await model.fit(train, { epochs: 1, batchSize: 10, lr: 0.5, alpha: 1e-5, noise: 1e-5 });
    expect((await model.evaluate(test)).accuracy).toBeGreaterThan(0.6);
    const initial = (7840 + 900 + 300) / (235200 + 30000 + 1000);
    expect(stats.maxConnectivity).toBeGreaterThanOrEqual(initial);
  }, 60_000);
});
