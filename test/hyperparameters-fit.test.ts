// The hyper-parameter conversions reach the training: the noise a temperature gives, and the
// learning rate of every epoch under both schedules, seen through fit().
import { describe, expect, it } from "vitest";
import { Model } from "../lib/model.js";
import type { TrainOptions } from "../lib/options.js";
import { blobs } from "./helpers/synthetic.js";

const spec = { layers: [24, 16, 4], connectivity: [0.25, 0.5], seed: 9 };
const data = blobs(96, 24, 4);

async function trained(options: TrainOptions) {
  const model = Model.create(spec);
  const history = await model.fit(data, { epochs: 2, batchSize: 8, ...options });
  const layers = await model.exportLayers();
  model.dispose();
  return { history, layers };
}

describe("hyper-parameters in fit()", () => {
  it("temperature T trains bit-identically to the noise with the same std, sqrt(2 lr T) = lr * noise", async () => {
    // lr 2^-3 and T 2^-12 give std 2^-7 exactly, which noise 2^-4 gives too (2^-3 * 2^-4).
    // lrDecay 1 keeps lr, and so the equivalence, the same in both epochs.
    const lr = 2 ** -3, T = 2 ** -12, noise = 2 ** -4;
    const common = { lr, lrDecay: 1, alpha: 1e-3 };
    const byTemperature = await trained({ ...common, temperature: T });
    const byNoise = await trained({ ...common, noise });
    expect(byTemperature.layers).toEqual(byNoise.layers);
    // The noise matters at this size, so the equality above is not that of two noise-free runs,
    // and the sqrt(lr T) reading of the temperature (noise sqrt(T / lr)) would be told apart.
    expect((await trained({ ...common, noise: 0 })).layers).not.toEqual(byNoise.layers);
    expect((await trained({ ...common, noise: Math.sqrt(T / lr) })).layers).not.toEqual(byNoise.layers);
  });

  it("reports and trains with lr * decay^epoch under the exponential schedule", async () => {
    const { history } = await trained({ epochs: 4, lr: 0.5, lrDecay: 0.5 });
    expect(history.map((e) => e.lr)).toEqual([0.5, 0.25, 0.125, 0.0625]);
  });

  it("reports and trains with lr (1 + cos(pi e / E)) / 2 at every epoch e under the cosine schedule", async () => {
    const cosine = await trained({ epochs: 4, lr: 0.5, lrSchedule: "cosine" });
    const half = Math.SQRT1_2;
    const expected = [0.5, (0.5 * (1 + half)) / 2, 0.25, (0.5 * (1 - half)) / 2];
    cosine.history.forEach((e, n) => expect(e.lr, `epoch ${n}`).toBeCloseTo(expected[n], 15));
    // The rate reached the core: the same run at a constant 0.5 ends elsewhere.
    const constant = await trained({ epochs: 4, lr: 0.5, lrDecay: 1 });
    expect(constant.history.map((e) => e.lr)).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(constant.layers).not.toEqual(cosine.layers);
  });
});
