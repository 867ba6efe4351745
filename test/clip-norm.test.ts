// clipNorm, the fit option that turns on the core's gradient clipping by global norm: with the
// dense rule and SGD (no prior, no noise) a step moves the parameters by exactly lr times the
// clipped gradient, so the Euclidean norm of the change of every weight and bias together,
// measured on exported parameters, is at most lr * clipNorm, and equals it when the gradient is larger.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Model, type LayerState } from "../lib/index.js";
import { deepr } from "./helpers/cli.js";
import { blobs } from "./helpers/synthetic.js";
import { disposables } from "./helpers/disposables.js";

const data = blobs(60, 20, 4);
// One step an epoch (the whole data set per batch) at a constant learning rate.
const fit = { batchSize: 60, lr: 0.05, lrDecay: 1 };
const disposable = disposables<Model>();

function create(): Model {
  const model = Model.create({ layers: [20, 16, 4], bias: true, rule: "dense", seed: 3 });
  disposable.push(model);
  return model;
}

/** Every weight and bias value, signed, in layer and store order, in float64. */
function parameters(layers: LayerState[]): number[] {
  return layers.flatMap((layer) =>
    Object.values(layer.stores).flatMap((store) => {
      const values = (store.theta ?? store.value) as Float32Array;
      const sign = store.sign as Int8Array | undefined;
      return Array.from(values, (v, k) => (sign ? sign[k] * v : v));
    }),
  );
}

/** The Euclidean norm of the change of the parameters over each of `steps` one-step epochs. */
async function stepNorms(model: Model, steps: number, clipNorm?: number): Promise<number[]> {
  const norms: number[] = [];
  let before = parameters(await model.exportLayers());
  for (let epoch = 1; epoch <= steps; epoch++) {
    await model.fit(data, { ...fit, epochs: epoch, ...(clipNorm !== undefined && { clipNorm }) });
    const after = parameters(await model.exportLayers());
    norms.push(Math.sqrt(after.reduce((sum, w, i) => sum + (w - before[i]) ** 2, 0)));
    before = after;
  }
  return norms;
}

describe("clipNorm", () => {
  it("moves the parameters by lr * clipNorm per step when the gradient's norm is larger, and by more without it", async () => {
    const clipNorm = 1e-3;
    const clipped = await stepNorms(create(), 4, clipNorm);
    for (const norm of clipped) {
      expect(norm).toBeLessThanOrEqual(fit.lr * clipNorm * 1.01);
      expect(norm).toBeGreaterThan(fit.lr * clipNorm * 0.99);
    }
    const free = await stepNorms(create(), 4);
    for (const norm of free) expect(norm).toBeGreaterThan(fit.lr * clipNorm * 10);
  });

  it("is remembered by a checkpoint and taken from --clip-norm", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-clip-"));
    const model = create();
    await model.fit(data, { ...fit, epochs: 1, clipNorm: 0.5 });
    await model.save(join(dir, "m.safetensors"));
    const loaded = await Model.load(join(dir, "m.safetensors"));
    disposable.push(loaded);
    expect(loaded.trainOptions.clipNorm).toBe(0.5);

    const out = join(dir, "cli.safetensors");
    const r = await deepr(["train", "--layers", "784,10", "--connectivity", "0.1", "--epochs", "1", "--limit", "50", "--clip-norm", "0.25", "--out", out]);
    expect(r.code, r.stderr).toBe(0);
    const cli = await Model.load(out);
    disposable.push(cli);
    expect(cli.trainOptions.clipNorm).toBe(0.25);
  });

  it("is a non-negative number", () => {
    const model = create();
    return expect(model.fit(data, { ...fit, clipNorm: -1 })).rejects.toThrow(/options\.clipNorm must be a finite number in \[0, 1000000\], got -1/);
  });
});
