// Named training recipes. `reference` is the reference code's configuration (paper.md sec. 2.8);
// `tuned` is deepr's recipe for higher accuracy: momentum, a cosine schedule and biases.
import type { ModelOptions, TrainOptions } from "./options.js";

export interface Preset {
  description: string;
  model: Omit<ModelOptions, "layers" | "seed">;
  train: TrainOptions;
}

export const presets = {
  reference: {
    description: "the reference script: 1/3/30 % connectivity, plain SGD, lr 0.5 x0.8 per epoch, batch 10, 10 epochs, no biases",
    model: { connectivity: [0.01, 0.03, 0.3], bias: false },
    train: { epochs: 10, lr: 0.5, lrSchedule: "exponential", lrDecay: 0.8, batchSize: 10, alpha: 1e-5, noise: 1e-5, momentum: 0 },
  },
  tuned: {
    description: "4 % connectivity in every layer, biases, momentum 0.9, cosine schedule, batch 32, 30 epochs",
    model: { connectivity: 0.04, bias: true },
    train: { epochs: 30, lr: 0.05, lrSchedule: "cosine", batchSize: 32, alpha: 1e-5, noise: 1e-5, momentum: 0.9 },
  },
} satisfies Record<string, Preset>;

export type PresetName = keyof typeof presets;
