// Named training recipes. `reference` is the reference code's configuration (script_mnist_deep_rewiring.py);
// `tuned` is deepr's recipe for higher accuracy at the same kind of budget: 4 % of the connections
// overall, but more of them in the small layers near the output (which the paper found wiser than
// uniform sparsity), biases, and a cosine learning-rate schedule over 30 epochs. Momentum (0.5 and
// 0.9, with the learning rate scaled to match) measured lower on MNIST, so the recipe keeps plain SGD.
// `tuned-1.33` is the same idea at the paper's budget, 1.33 % overall, with a stronger l1 pull
// (alpha 1e-4: more rewiring, less over-fitting). `cnn`, `cnn-2` and `lstm` are the recipes of the
// README's accuracy table for the other architectures; `--model cnn` and `--model lstm` train with
// theirs unless another preset is named. A recipe is one entry naming its architecture, rule and optimiser.
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
  "tuned-1.33": {
    description: "1.33 % overall (0.93 / 3 / 45 % per layer), biases, alpha 1e-4, lr 0.5 on a cosine schedule, batch 10, 30 epochs",
    model: { connectivity: [0.0093, 0.03, 0.45], bias: true },
    train: { epochs: 30, lr: 0.5, lrSchedule: "cosine", batchSize: 10, alpha: 1e-4, noise: 1e-5, momentum: 0 },
  },
  cnn: {
    description: "the cnn at 10 % overall (50 / 20 / 7.5 / 50 % per layer), DEEP R, Adam lr 0.003 on a cosine schedule, batch 32, 12 epochs",
    architecture: "cnn",
    model: { connectivity: [0.5, 0.2, 0.075, 0.5] },
    train: { epochs: 12, lr: 0.003, lrSchedule: "cosine", batchSize: 32, alpha: 1e-5, noise: 1e-5 },
    optimizer: "adam",
  },
  "cnn-2": {
    description: "the cnn at 2 % overall (50 / 5 / 0.99 / 30 % per layer), otherwise as the cnn preset",
    architecture: "cnn",
    model: { connectivity: [0.5, 0.05, 0.0099, 0.3] },
    train: { epochs: 12, lr: 0.003, lrSchedule: "cosine", batchSize: 32, alpha: 1e-5, noise: 1e-5 },
    optimizer: "adam",
  },
  lstm: {
    description: "the lstm at 10 % overall (9.35 % of both LSTM matrices, 50 % of the readout), DEEP R, Adam lr 0.003 on a cosine schedule, batch 32, 10 epochs",
    architecture: "lstm",
    model: { connectivity: [0.0935, 0.5] },
    train: { epochs: 10, lr: 0.003, lrSchedule: "cosine", batchSize: 32, alpha: 1e-5, noise: 1e-5 },
    optimizer: "adam",
  },
} satisfies Record<string, Preset>;

export type PresetName = keyof typeof presets;

/** The recipe a new run of each architecture trains with when no preset is named. */
export const defaultPresets: Record<ArchitectureName, PresetName> = { mlp: "reference", cnn: "cnn", lstm: "lstm" };
