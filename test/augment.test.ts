// Random crops and flips of image samples (fit options crop and flip, --crop and --flip): each
// epoch's images against a reference that pads, slices and mirrors explicitly with the drawn
// transformations; the draws cover every offset; a seeded fit is reproducible, and a fit stopped
// mid-epoch and resumed from its checkpoint ends with the same parameters as one run straight through.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CheckedData } from "../lib/data-checks.js";
import { augmentationDraws, epochAugmenter, type AugmentationSettings } from "../lib/image-augmentation.js";
import { Dataset, Model, type LayerState } from "../lib/index.js";
import { deepr, jsonLines } from "./helpers/cli.js";
import { disposables } from "./helpers/disposables.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-augment-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));
const disposable = disposables<Model>();

/** Sample n of `inputs` ([channels, height, width]) padded by `crop` zeros, cut at (top, left), mirrored when `flipped`. */
function reference(inputs: Float32Array, n: number, [channels, height, width]: number[], crop: number, top: number, left: number, flipped: boolean): number[] {
  const out: number[] = [];
  for (let c = 0; c < channels; c++) {
    const padded = Array.from({ length: height + 2 * crop }, () => new Array<number>(width + 2 * crop).fill(0));
    for (let y = 0; y < height; y++)
      for (let x = 0; x < width; x++) padded[y + crop][x + crop] = inputs[((n * channels + c) * height + y) * width + x];
    for (const row of padded.slice(top, top + height)) {
      const window = row.slice(left, left + width);
      out.push(...(flipped ? window.reverse() : window));
    }
  }
  return out;
}

describe("an epoch's augmented images", () => {
  const shape = [2, 3, 4];
  const count = 40;
  const inputs = Float32Array.from({ length: count * 24 }, (_, i) => i + 1);
  const data: CheckedData = { inputs, targets: new Int32Array(count), count };

  for (const settings of [{ crop: 2, flip: true }, { crop: 1, flip: false }, { crop: 0, flip: true }] as AugmentationSettings[]) {
    it(`equal the padded, cut and mirrored images of the drawn transformations (crop ${settings.crop}, flip ${settings.flip})`, async () => {
      const augment = epochAugmenter(data, shape, settings, 7);
      for (const epoch of [0, 3]) {
        const out = (await augment(epoch)).inputs;
        const draws = augmentationDraws(7, epoch, count, settings);
        for (let n = 0; n < count; n++) {
          const expected = reference(inputs, n, shape, settings.crop, draws.top[n], draws.left[n], draws.flipped[n] === 1);
          expect(Array.from(out.subarray(n * 24, (n + 1) * 24)), `epoch ${epoch}, sample ${n}`).toEqual(expected);
        }
      }
      expect(Array.from(inputs.subarray(0, 3))).toEqual([1, 2, 3]);  // the data set itself is left as it was
    });
  }

  it("are written a few milliseconds at a time, the event loop running between", async () => {
    const images = 3000;  // CIFAR-10 size: 9.2 M values
    const big: CheckedData = { inputs: new Float32Array(images * 3072).fill(1), targets: new Int32Array(images), count: images };
    const augment = epochAugmenter(big, [3, 32, 32], { crop: 4, flip: true }, 1);
    let ticks = 0, longest = 0, last = performance.now(), running = true;
    const tick = () => {
      const now = performance.now();
      [ticks, longest, last] = [ticks + 1, Math.max(longest, now - last), now];
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    const started = performance.now();
    const out = await augment(0);
    const total = performance.now() - started;
    running = false;
    // Slices of about 2 ms: many turns of the loop, none holding it for a large part of the work
    // (a bound relative to the whole, which a loaded machine stretches alike).
    expect(ticks).toBeGreaterThan(10);
    expect(longest).toBeLessThan(total / 3);
    // A margin of 4 leaves at least 28 x 28 of each 32 x 32 image of ones; some images are shifted.
    const ones = out.inputs.reduce((sum, v) => sum + v, 0);
    expect(ones).toBeGreaterThanOrEqual(28 * 28 * 3 * images);
    expect(ones).toBeLessThan(big.inputs.length);
  });

  it("are drawn uniformly: every crop offset and both flips occur, about equally often; each epoch differently", () => {
    const settings = { crop: 2, flip: true };
    const draws = augmentationDraws(1, 0, 5000, settings);
    for (const offsets of [draws.top, draws.left]) {
      const counts = [0, 0, 0, 0, 0];
      for (const offset of offsets) counts[offset]++;
      // 1000 expected of each; 4.5 standard deviations (sqrt(5000 * 0.2 * 0.8) = 28) either side.
      for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(127);
    }
    const flips = draws.flipped.reduce((a, b) => a + b, 0);
    expect(Math.abs(flips - 2500)).toBeLessThan(160);
    expect(augmentationDraws(1, 0, 100, settings)).toEqual(augmentationDraws(1, 0, 100, settings));
    expect(augmentationDraws(1, 1, 100, settings).top).not.toEqual(augmentationDraws(1, 0, 100, settings).top);
    expect(augmentationDraws(2, 0, 100, settings).top).not.toEqual(augmentationDraws(1, 0, 100, settings).top);
  });
});

/** `count` images [2, 6, 6]: noise plus 0.6 on one half (left or right) of both channels, the half being the class. */
function images(count: number): Dataset {
  let s = 99;
  const next = () => (s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const inputs = new Float32Array(count * 72), labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = n % 2;
    for (let i = 0; i < 72; i++) inputs[n * 72 + i] = 0.5 * next() + (Math.floor((i % 6) / 3) === labels[n] ? 0.6 : 0);
  }
  return Dataset.fromArrays({ inputs, labels, shape: [2, 6, 6] });
}

describe("fit with crop and flip", () => {
  const data = images(200);
  const fit = { lr: 0.05, batchSize: 4, crop: 1, flip: true };
  const create = () => {
    const model = Model.create({
      inputShape: [2, 6, 6],
      layers: [{ kind: "sparse_linear", outputs: 8, connectivity: 0.3 }, { kind: "relu" }, { kind: "sparse_linear", outputs: 2, connectivity: 0.5 }, { kind: "softmax_cross_entropy" }],
      seed: 5,
    });
    disposable.push(model);
    return model;
  };
  const parameters = (layers: LayerState[]) => layers.map((l) => Object.values(l.stores).map((s) => Object.values(s).map((a) => Array.from(a as ArrayLike<number>))));

  it("is reproducible with a seed, differs from training without it, and a run resumed mid-epoch ends where a straight run does", async () => {
    const straight = create();
    await straight.fit(data, { ...fit, epochs: 2 });
    const again = create();
    await again.fit(data, { ...fit, epochs: 2 });
    const plain = create();
    await plain.fit(data, { ...fit, crop: 0, flip: false, epochs: 2 });
    const expected = parameters(await straight.exportLayers());
    expect(parameters(await again.exportLayers())).toEqual(expected);
    expect(parameters(await plain.exportLayers())).not.toEqual(expected);

    const stopped = create();
    const controller = new AbortController();
    await stopped.fit(data, { ...fit, epochs: 1 });
    await expect(stopped.fit(data, { epochs: 2, signal: controller.signal, onBatchEnd: (b) => b.batch >= 10 && controller.abort(new Error("stop")) })).rejects.toThrow("stop");
    expect(stopped.progress.batchInEpoch).toBeGreaterThan(0);
    const path = join(dir, "stopped.safetensors");
    await stopped.save(path);
    const resumed = await Model.load(path);
    disposable.push(resumed);
    expect([resumed.trainOptions.crop, resumed.trainOptions.flip]).toEqual([1, true]);
    await resumed.fit(data, { epochs: 2 });  // crop and flip as the checkpoint remembers them
    expect(parameters(await resumed.exportLayers())).toEqual(expected);
  });

  it("refuses samples that are not images, and a margin as large as the image", async () => {
    const flat = Dataset.fromArrays({ inputs: data.inputs, labels: data.labels });
    const model = Model.create({ layers: [72, 2], connectivity: 0.5, seed: 1 });
    disposable.push(model);
    await expect(model.fit(flat, { flip: true, epochs: 1 })).rejects.toThrow(
      "options.flip augments images, but the samples have shape [72]; give image data with a sample shape [channels, height, width]",
    );
    await expect(model.fit(data, { crop: 6, epochs: 1 })).rejects.toThrow("options.crop is 6, but the images are 6 x 6; give a margin smaller than their height and width");
    expect(model.progress.epoch).toBe(0);
    expect(model.trainOptions.crop).toBe(0);
  });

  it("comes from --crop and --flip, and a CLI run on MNIST images is remembered with them", async () => {
    const out = join(dir, "mnist.safetensors");
    const r = await deepr(["train", "--limit", "100", "--epochs", "1", "--crop", "2", "--flip", "--json", "--out", out]);
    expect(r.stderr).toBe("");
    expect(jsonLines(r.stdout).at(-1).epochs).toBe(1);
    const model = await Model.load(out);
    disposable.push(model);
    expect([model.trainOptions.crop, model.trainOptions.flip]).toEqual([2, true]);
  });
});
