// The public types of a Model's methods: what fit() takes and reports, and the state it exports.
import type { LabelledData, Samples } from "./data/dataset.js";
export type { LayerInfo, LayerState } from "./layers/layer-state.js";
import type { TrainOptions } from "./options.js";
import type { OptimizerName } from "./rules/optimiser.js";

export interface BatchStats {
  epoch: number;
  /** Batch index within the epoch. */
  batch: number;
  batches: number;
  loss: number;
  /** NaN for a regression model. */
  accuracy: number;
}

export interface EpochStats {
  /** Epochs complete, counting this one (1 after the first). */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Fraction of training samples classified correctly while the epoch trained; NaN for a regression model. */
  trainAccuracy: number;
  /** On `validation`, when given. */
  testLoss?: number;
  testAccuracy?: number;
  lr: number;
  /**
   * Per sparse store, input first: connections active, K, connections regrown this epoch, and the
   * connectivity reached, active / positions (what prune and l1 bring down).
   */
  layers: { active: number; K: number; rewired: number; positions: number; connectivity: number }[];
  /**
   * The highest overall connectivity (active / positions over all sparse stores) this fit() has
   * reached so far, measured after every chunk of steps: under soft-deep-r, which has no hard bound
   * on the active connections, what the paper plots; under the other rules it never exceeds the budget.
   */
  maxConnectivity: number;
  /** Wall-clock seconds of the epoch's training (without validation). */
  seconds: number;
  /** Of those, the seconds spent on regrowth: choosing and inserting the reactivated connections. */
  regrowthSeconds: number;
  /** And the seconds spent drawing the Gaussian noise of the updates (summed over threads). */
  noiseSeconds: number;
  /** Batches skipped because their loss or update was not finite (only with `onNonFinite: "skip"`). */
  skipped: number;
}

export interface FitOptions extends TrainOptions {
  /**
   * The optimiser: `"sgd"`, `"momentum"` (heavy-ball, with `momentum` > 0) or `"adam"` (with
   * `beta1`, `beta2`, `epsilon`). Default: `"momentum"` when `momentum` > 0, else `"adam"` when the
   * model trains with Adam (a checkpoint remembers it), else `"sgd"`.
   */
  optimizer?: OptimizerName;
  /** Evaluated after every epoch; its accuracy is reported as testAccuracy (its loss only, for a regression model). */
  validation?: LabelledData | RegressionData;
  onBatchEnd?: (stats: BatchStats) => void;
  onEpochEnd?: (stats: EpochStats) => void | Promise<void>;
  /** Stops training between two chunks of steps; fit() then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * What to do when a batch's loss or a parameter update is not finite (NaN or Infinity in the
   * inputs, or a learning rate that makes training diverge).
   *
   * `"throw"` (default): fit() rejects with a {@link NonFiniteError} naming the epoch, batch, step
   * and layer; the batches before it stay trained and `progress` counts them. When the loss was
   * not finite nothing of that batch was applied and the model can be saved and trained on. When
   * an update diverged, that layer's parameters are no longer finite: save() refuses such a model,
   * so load the last checkpoint.
   *
   * `"skip"`: the batch is left out and training goes on. The model is exactly as it was before
   * the batch (restored from a copy of the parameters taken before every chunk of steps, about
   * every 40 ms, so this costs one O(K) copy per chunk) and `step` does not advance; the number
   * of batches left out is `EpochStats.skipped`. Training data may then hold non-finite inputs.
   * It promises no recovery: if every batch diverges, every batch is skipped.
   */
  onNonFinite?: "throw" | "skip";
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
}

/**
 * Samples with float targets: what fit() and evaluate() of a regression model (one with a
 * mean_squared_error head) take instead of labels.
 */
export interface RegressionData extends Samples {
  /** Row-major `samples x outputs`, the model's outputs per sample; every value finite. */
  readonly targets: Float32Array;
}

/** evaluate() of a regression model: there is no class to be right about, so no accuracy. */
export interface RegressionEvaluation {
  /** Mean over the samples of each one's sum_j (y_j - t_j)^2 / 2 (the training loss). */
  loss: number;
  count: number;
}

/** Where training stands: enough to resume exactly. */
export interface Progress {
  epoch: number;
  batchInEpoch: number;
  batchSize: number;
  step: number;
}
