// Reading one metadata document or one tensor of a checkpoint, with a CheckpointError that names
// the file and what is wrong with it. Both checkpoint formats read through these.
import { CheckpointError, type Tensor } from "./safetensors.js";
import type { Progress } from "../model-types.js";
import {
  isLayerList,
  normalizeModelOptions,
  normalizeTrainOptions,
  referenceTrainOptions,
  type NormalizedModelOptions,
  type NormalizedTrainOptions,
} from "../options.js";

/** The JSON object stored under metadata `key`. */
export function jsonObject(path: string, metadata: Record<string, string>, key: string): Record<string, unknown> {
  const value = jsonValue(path, metadata, key, "object");
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new CheckpointError(`${path}: metadata entry ${key} is not a JSON object (not an object)`);
  return value as Record<string, unknown>;
}

/** The JSON value stored under metadata `key`, expected to be `kind` (which the caller checks). */
export function jsonValue(path: string, metadata: Record<string, string>, key: string, kind: "object" | "array"): unknown {
  const text = metadata[key];
  if (text === undefined) throw new CheckpointError(`${path}: metadata entry ${key} is missing; this is not a complete deepr checkpoint`);
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new CheckpointError(`${path}: metadata entry ${key} is not a JSON ${kind} (${(e as Error).message})`);
  }
}

/** Tensor `name` of exactly this dtype and shape. */
export function tensorOf(path: string, tensors: Map<string, Tensor>, name: string, dtype: Tensor["dtype"], shape: number[]): Tensor {
  const t = tensors.get(name);
  if (!t) throw new CheckpointError(`${path}: tensor ${name} is missing`);
  if (t.dtype !== dtype || t.shape.length !== shape.length || t.shape.some((d, n) => d !== shape[n]))
    throw new CheckpointError(`${path}: tensor ${name} is ${t.dtype} [${t.shape}], expected ${dtype} [${shape}]`);
  return t;
}

/** The training position stored in deepr.progress, every field a non-negative integer (throws a plain Error). */
function parseProgress(stored: Record<string, unknown>): Progress {
  const int = (key: string) => {
    const v = stored[key];
    if (!Number.isSafeInteger(v) || (v as number) < 0) throw new Error(`progress.${key} must be a non-negative integer, got ${String(v)}`);
    return v as number;
  };
  return { epoch: int("epoch"), batchInEpoch: int("batchInEpoch"), batchSize: int("batchSize"), step: int("step") };
}

/** The model, training options and progress a checkpoint describes, validated as if given to Model.create and fit(). */
export function describedRun(
  path: string,
  model: Record<string, unknown>,
  training: Record<string, unknown>,
  progress: Record<string, unknown>,
): { options: NormalizedModelOptions; trainOptions: NormalizedTrainOptions; progress: Progress } {
  try {
    const { budgets, ...rest } = model;
    const options = normalizeModelOptions(rest);
    // A layer list's budgets are in its graph entries, which the reader compares.
    if (!isLayerList(options.layers) && JSON.stringify(budgets) !== JSON.stringify(options.budgets))
      throw new Error(`stored budgets ${JSON.stringify(budgets)} do not follow from the connectivity (${JSON.stringify(options.budgets)})`);
    return { options, trainOptions: normalizeTrainOptions(training, referenceTrainOptions), progress: parseProgress(progress) };
  } catch (e) {
    throw new CheckpointError(`${path}: invalid model description: ${(e as Error).message}`);
  }
}
