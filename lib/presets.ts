// Named training recipes. `reference` is the reference code's configuration (script_mnist_deep_rewiring.py);
// `tuned` is deepr's recipe for higher accuracy at the same kind of budget: 4 % of the connections
// overall, but more of them in the small layers near the output (which the paper found wiser than
// uniform sparsity), biases, and a cosine learning-rate schedule over 30 epochs. Momentum (0.5 and
// 0.9, with the learning rate scaled to match) measured lower on MNIST, so the recipe keeps plain SGD.
// A recipe for another architecture is one more entry naming it, with its rule and optimiser.
import type { ArchitectureName } from "./architectures/registry.js";
import type { ModelOptions, TrainOptions } from "./options.js";
import type { OptimizerName } from "./rules/optimiser.js";

export interface Preset {
  description: string;
  /** The ready-made architecture the recipe trains (lib/architectures/). Default "mlp". */
  architecture?: ArchitectureName;
  /** Its connectivity (one per layer with connections, or one for all), biases, rule and the rule's settings. */
  model: Omit<ModelOptions, "layers" | "inputShape" | "seed">;
  train: TrainOptions;
  /** The optimiser fit() trains with. Default: the one `train.momentum` implies (sgd, or momentum when > 0). */
  optimizer?: OptimizerName;
}

export const presets = {
  reference: {
    description: "the reference script: 1/3/30 % connectivity, plain SGD, lr 0.5 x0.8 per epoch, batch 10, 10 epochs, no biases",
    model: { connectivity: [0.01, 0.03, 0.3], bias: false },
    train: { epochs: 10, lr: 0.5, lrSchedule: "exponential", lrDecay: 0.8, batchSize: 10, alpha: 1e-5, noise: 1e-5, momentum: 0 },
  },
  tuned: {
    description: "4 % overall (3.04 / 10 / 50 % per layer), biases, lr 0.5 on a cosine schedule, batch 10, 30 epochs",
    model: { connectivity: [0.0304, 0.1, 0.5], bias: true },
    train: { epochs: 30, lr: 0.5, lrSchedule: "cosine", batchSize: 10, alpha: 1e-5, noise: 1e-5, momentum: 0 },
  },
} satisfies Record<string, Preset>;

export type PresetName = keyof typeof presets;
