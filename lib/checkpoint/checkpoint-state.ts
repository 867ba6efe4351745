// What a checkpoint holds, whatever its format: the model options, the training options and
// position, and every layer's parameters.
import type { LayerState, Progress } from "../model-types.js";
import type { NormalizedModelOptions, NormalizedTrainOptions } from "../options.js";

/** What a checkpoint holds: enough to rebuild a model and resume its training exactly. */
export interface CheckpointState {
  options: NormalizedModelOptions;
  trainOptions: NormalizedTrainOptions;
  progress: Progress;
  /** Every layer's parameters, and its stores' optimiser state (velocity, or m and v). */
  layers: LayerState[];
}
