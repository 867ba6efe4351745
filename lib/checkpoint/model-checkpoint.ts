// Checkpoints: a model as a safetensors file that Python users can read with the README alone.
//
// Tensors, for each layer l (0 = the layer after the input):
//   layers.{l}.positions  int32 [K, 2]  (input index i, output index j) of every active connection
//   layers.{l}.theta      float32 [K]   theta >= 0 of each connection
//   layers.{l}.sign       int8 [K]      its fixed sign, +1 or -1; the weight is W[i, j] = sign * theta
//   layers.{l}.bias       float32 [out] when the model has biases; y = relu(x W + b) (no relu on the last layer)
//   layers.{l}.velocity, layers.{l}.bias_velocity  float32: momentum state, when momentum was used
// Metadata (`__metadata__`, all strings): format = "deepr", deepr.version, and JSON documents
// deepr.model, deepr.training, deepr.progress and deepr.rng; deepr.crc32 checks the tensor data.
//
// This module knows a model only as the state below, so the Model class depends on it and not
// the other way round.
import { readSafetensors, writeSafetensorsAtomic, CheckpointError, type Tensor } from "./safetensors.js";
import type { LayerState, Progress } from "../model-types.js";
import {
  normalizeModelOptions,
  normalizeTrainOptions,
  referenceTrainOptions,
  type NormalizedModelOptions,
  type NormalizedTrainOptions,
} from "../options.js";

const VERSION = "1";

/** What a checkpoint holds: enough to rebuild a model and resume its training exactly. */
export interface CheckpointState {
  options: NormalizedModelOptions;
  trainOptions: NormalizedTrainOptions;
  progress: Progress;
  /** Every layer's parameters; `velocity` and `biasVelocity` when momentum was used. */
  layers: LayerState[];
}

/** How the loader turns a checked checkpoint into a model (the Model class, in Model.load). */
export interface ModelFactory<M extends { dispose(): void }> {
  /** An empty model of this shape, keeping velocities when `momentum`. */
  build(options: NormalizedModelOptions, momentum: boolean): M;
  /** Gives `model` the training options, progress and parameters of the checkpoint. */
  restore(model: M, state: Omit<CheckpointState, "options">): Promise<void>;
}

export async function saveCheckpoint(state: CheckpointState, path: string): Promise<void> {
  const { options, trainOptions, progress, layers } = state;
  const tensors: Record<string, Tensor> = {};
  layers.forEach((layer, l) => {
    const k = layer.theta.length;
    for (const [name, values] of [["theta", layer.theta], ["bias", layer.bias], ["velocity", layer.velocity], ["bias_velocity", layer.biasVelocity]] as const)
      if (values?.some((v) => !Number.isFinite(v)))
        throw new Error(`deepr: refusing to save ${path}: layers.${l}.${name} holds non-finite values (training diverged); the previous file is untouched`);
    tensors[`layers.${l}.positions`] = { dtype: "I32", shape: [k, 2], data: layer.positions };
    tensors[`layers.${l}.theta`] = { dtype: "F32", shape: [k], data: layer.theta };
    tensors[`layers.${l}.sign`] = { dtype: "I8", shape: [k], data: layer.sign };
    if (layer.bias) tensors[`layers.${l}.bias`] = { dtype: "F32", shape: [layer.outputs], data: layer.bias };
    if (layer.velocity) tensors[`layers.${l}.velocity`] = { dtype: "F32", shape: [k], data: layer.velocity };
    if (layer.biasVelocity) tensors[`layers.${l}.bias_velocity`] = { dtype: "F32", shape: [layer.outputs], data: layer.biasVelocity };
  });
  const { layers: widths, connectivity, budgets, budget, globalShare, bias, seed } = options;
  await writeSafetensorsAtomic(path, tensors, {
    format: "deepr",
    "deepr.version": VERSION,
    "deepr.model": JSON.stringify({ layers: widths, connectivity, budgets, budget, globalShare, bias, seed }),
    "deepr.training": JSON.stringify(trainOptions),
    "deepr.progress": JSON.stringify(progress),
    "deepr.rng": JSON.stringify({ algorithm: "philox4x32-10", seed, step: progress.step }),
  });
}

function parseJson(path: string, metadata: Record<string, string>, key: string): Record<string, unknown> {
  const text = metadata[key];
  if (text === undefined) throw new CheckpointError(`${path}: metadata entry ${key} is missing; this is not a complete deepr checkpoint`);
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
    return value as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${path}: metadata entry ${key} is not a JSON object (${(e as Error).message})`);
  }
}

function tensor(path: string, tensors: Map<string, Tensor>, name: string, dtype: Tensor["dtype"], shape: number[], required = true): Tensor | undefined {
  const t = tensors.get(name);
  if (!t) {
    if (required) throw new CheckpointError(`${path}: tensor ${name} is missing`);
    return undefined;
  }
  if (t.dtype !== dtype || t.shape.length !== shape.length || t.shape.some((d, n) => d !== shape[n]))
    throw new CheckpointError(`${path}: tensor ${name} is ${t.dtype} [${t.shape}], expected ${dtype} [${shape}]`);
  return t;
}

// Output units a checkpoint may declare beyond what its own bytes account for. The native network
// keeps a few words per unit (row offsets, biases) whatever K is, so without this bound a corrupt
// header of a few bytes could ask for gigabytes before any tensor is looked at.
const FREE_UNITS = 1 << 24;

/** Reads and checks a checkpoint, then makes the model it holds with `factory`. */
export async function loadCheckpoint<M extends { dispose(): void }>(path: string, factory: ModelFactory<M>): Promise<M> {
  const file = await readSafetensors(path);
  const { metadata, tensors } = file;
  if (metadata.format !== "deepr")
    throw new CheckpointError(`${path}: a safetensors file, but not a deepr checkpoint (metadata "format" is ${JSON.stringify(metadata.format)})`);
  if (metadata["deepr.version"] !== VERSION)
    throw new CheckpointError(`${path}: checkpoint format version ${JSON.stringify(metadata["deepr.version"])} is not supported (this deepr reads ${VERSION})`);
  const stored = parseJson(path, metadata, "deepr.model");
  const storedProgress = parseJson(path, metadata, "deepr.progress");
  const training = parseJson(path, metadata, "deepr.training");

  // Everything is checked against the tensors before the native network is built, so that the
  // memory it takes is justified by the file: K_l connections need K_l stored entries.
  let options: NormalizedModelOptions;
  let trainOptions: NormalizedTrainOptions;
  let progress: Progress;
  try {
    const { budgets, ...rest } = stored;
    options = normalizeModelOptions(rest);
    if (JSON.stringify(budgets) !== JSON.stringify(options.budgets))
      throw new Error(`stored budgets ${JSON.stringify(budgets)} do not follow from the connectivity (${JSON.stringify(options.budgets)})`);
    trainOptions = normalizeTrainOptions(training, referenceTrainOptions);
    const int = (key: string) => {
      const v = storedProgress[key];
      if (!Number.isSafeInteger(v) || (v as number) < 0) throw new Error(`progress.${key} must be a non-negative integer, got ${String(v)}`);
      return v as number;
    };
    progress = { epoch: int("epoch"), batchInEpoch: int("batchInEpoch"), batchSize: int("batchSize"), step: int("step") };
  } catch (e) {
    throw new CheckpointError(`${path}: invalid model description: ${(e as Error).message}`);
  }

  const { layers: widths, bias, budgets } = options;
  const momentum = tensors.has("layers.0.velocity");
  const layers: LayerState[] = budgets.map((_, l) => {
    const theta = tensors.get(`layers.${l}.theta`);
    const k = theta?.shape[0] ?? 0;
    const out = widths[l + 1];
    return {
      inputs: widths[l],
      outputs: out,
      positions: tensor(path, tensors, `layers.${l}.positions`, "I32", [k, 2])!.data as Int32Array,
      theta: tensor(path, tensors, `layers.${l}.theta`, "F32", [k])!.data as Float32Array,
      sign: tensor(path, tensors, `layers.${l}.sign`, "I8", [k])!.data as Int8Array,
      bias: bias ? (tensor(path, tensors, `layers.${l}.bias`, "F32", [out])!.data as Float32Array) : undefined,
      velocity: momentum ? (tensor(path, tensors, `layers.${l}.velocity`, "F32", [k])!.data as Float32Array) : undefined,
      biasVelocity: momentum && bias ? (tensor(path, tensors, `layers.${l}.bias_velocity`, "F32", [out])!.data as Float32Array) : undefined,
    };
  });
  const storedK = layers.map((a) => a.theta.length);
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  if (options.budget === "layer" ? storedK.some((k, l) => k !== budgets[l]) : sum(storedK) !== sum(budgets))
    throw new CheckpointError(
      `${path}: the layers hold ${JSON.stringify(storedK)} connections but the model's ${options.budget} budget is ${JSON.stringify(budgets)}`,
    );
  const bytes = [...tensors.values()].reduce((total, t) => total + t.data.byteLength, 0);
  const units = sum(widths.slice(1));
  if (units > FREE_UNITS && units > bytes)
    throw new CheckpointError(
      `${path}: the model declares ${units} units in its layers ${JSON.stringify(widths)}, more than its ${bytes} bytes of tensors can account for; the file is corrupt`,
    );

  let model: M;
  try {
    model = factory.build(options, momentum);
  } catch (e) {
    throw new CheckpointError(`${path}: cannot build the network it describes: ${(e as Error).message}`, { cause: e });
  }
  try {
    await factory.restore(model, { trainOptions, progress, layers });
  } catch (e) {
    model.dispose();
    throw new CheckpointError(`${path}: the parameters are not a valid DEEP R state: ${(e as Error).message}`, { cause: e });
  }
  return model;
}
