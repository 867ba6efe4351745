// The adam optimiser through Model.fit: its betas reach the core's step (checked on the moments
// one step leaves), its state arrays m and v travel in checkpoints, and a run resumes bit for bit
// with the optimiser the checkpoint names.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeSafetensors } from "../lib/checkpoint/safetensors.js";
import { Model } from "../lib/model.js";
import { blobs } from "./helpers/synthetic.js";
import { disposables } from "./helpers/disposables.js";

const spec = { layers: [20, 12, 3], connectivity: [0.3, 0.5], seed: 3, bias: true };
const data = blobs(60, 20, 3);
const disposable = disposables<Model>();
function create(): Model {
  const model = Model.create(spec);
  disposable.push(model);
  return model;
}

describe("the adam optimiser", () => {
  it("takes its betas from the fit options: after one step every moment pair has m^2 / v = (1 - beta1)^2 / (1 - beta2)", async () => {
    const model = create();
    // One batch, no prior: m = (1 - b1) g and v = (1 - b2) g^2 for every parameter with a gradient.
    await model.fit(data, { epochs: 1, batchSize: 60, lr: 1e-3, alpha: 0, noise: 0, optimizer: "adam", beta1: 0.8, beta2: 0.99 });
    let checked = 0;
    for (const layer of await model.exportLayers())
      for (const [name, store] of Object.entries(layer.stores)) {
        expect(Object.keys(store), name).toEqual(expect.arrayContaining(["m", "v"]));
        const m = store.m as Float32Array, v = store.v as Float32Array;
        m.forEach((mk, k) => {
          if (v[k] < 1e-20) return;
          expect(((mk * mk) / v[k]) / 4, `${name} slot ${k}`).toBeCloseTo(1, 4);
          checked++;
        });
      }
    expect(checked).toBeGreaterThan(50);
  });

  it("moves every parameter by lr on its first step (the bias corrections cancel the moments' decay)", async () => {
    const model = create();
    const before = await model.exportLayers();
    await model.fit(data, { epochs: 1, batchSize: 60, lr: 1e-3, alpha: 0, noise: 0, optimizer: "adam" });
    const after = await model.exportLayers();
    const bias = (layers: typeof before) => layers[1].stores.bias.value as Float32Array;
    // Biases start at 0 and have a gradient in every unit: each ends at ±lr (|g| / (|g| + epsilon) ~ 1).
    bias(after).forEach((b, k) => expect(Math.abs(b - bias(before)[k]) / 1e-3, `bias ${k}`).toBeCloseTo(1, 3));
  });

  it("resumes from a checkpoint bit for bit, the file naming the optimiser and holding m and v", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-adam-"));
    const options = { batchSize: 7, lr: 0.01, optimizer: "adam", beta2: 0.99, epsilon: 1e-6 } as const;
    const straight = create();
    await straight.fit(data, { ...options, epochs: 3 });
    const first = create();
    await first.fit(data, { ...options, epochs: 2 });
    const file = join(dir, "adam.safetensors");
    await first.save(file);
    const { metadata, tensors } = decodeSafetensors(await readFile(file), file);
    expect(JSON.parse(metadata["deepr.training"])).toMatchObject({ optimizer: "adam", beta1: 0.9, beta2: 0.99, epsilon: 1e-6 });
    expect([...tensors.keys()]).toEqual(expect.arrayContaining(["layers.0.weight.m", "layers.0.weight.v", "layers.2.bias.m", "layers.2.bias.v"]));
    const resumed = await Model.load(file);
    disposable.push(resumed);
    await resumed.fit(data, { epochs: 3 });  // no optimizer given: the checkpoint's
    expect(resumed.progress).toEqual(straight.progress);
    expect(await resumed.exportLayers()).toEqual(await straight.exportLayers());
  });

  it("refuses unknown optimisers, betas out of range and momentum with adam, saying what is allowed", async () => {
    const model = create();
    await expect(model.fit(data, { optimizer: "rmsprop" as "adam" })).rejects.toThrow(
      'options.optimizer must be one of "sgd", "momentum", "adam", got "rmsprop"',
    );
    await expect(model.fit(data, { optimizer: "adam", beta1: 1 })).rejects.toThrow(/^options\.beta1 must be .*0\.99999994/);
    await expect(model.fit(data, { optimizer: "adam", epsilon: 0 })).rejects.toThrow(/^options\.epsilon must be/);
    await expect(model.fit(data, { optimizer: "adam", momentum: 0.9 })).rejects.toThrow(/"adam" keeps no velocity, but options\.momentum is 0\.9/);
  });
});
