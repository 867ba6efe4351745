// Checkpoints: a model as a safetensors file that Python users can read with the README alone.
// Saving writes format 2 (format-2.ts); loading reads format 2 and the format 1 that deepr wrote
// before it (format-1.ts), then checks what both describe against the tensors and builds the model.
//
// This module knows a model only as a CheckpointState, so the Model class depends on it and not
// the other way round.
import { readSafetensors, writeSafetensorsAtomic, CheckpointError } from "./safetensors.js";
import type { CheckpointState } from "./checkpoint-state.js";
import { readFormat1 } from "./format-1.js";
import { FORMAT_2, format2Metadata, format2Tensors, readFormat2 } from "./format-2.js";
import { keptState, storesOf } from "../layers/stores.js";
import { optimizerKeeping, type OptimizerName } from "../rules/optimiser.js";
import { hasHardBound, prunes } from "../rules/registry.js";
import { networkOf, type NormalizedModelOptions } from "../options.js";

export type { CheckpointState } from "./checkpoint-state.js";

const READERS: Record<string, typeof readFormat2> = { "1": readFormat1, [FORMAT_2]: readFormat2 };

/** How the loader turns a checked checkpoint into a model (the Model class, in Model.load). */
export interface ModelFactory<M extends { dispose(): void }> {
  /** An empty model of this shape, training with `optimizer` and keeping its state arrays. */
  build(options: NormalizedModelOptions, optimizer: OptimizerName): M;
  /** Gives `model` the training options, progress and parameters of the checkpoint. */
  restore(model: M, state: Omit<CheckpointState, "options">): Promise<void>;
}

export async function saveCheckpoint(state: CheckpointState, path: string): Promise<void> {
  const tensors = format2Tensors(state);
  for (const [name, { dtype, data }] of Object.entries(tensors))
    if (dtype === "F32" && (data as Float32Array).some((v) => !Number.isFinite(v)))
      throw new Error(`deepr: refusing to save ${path}: ${name} holds non-finite values (training diverged); the previous file is untouched`);
  await writeSafetensorsAtomic(path, tensors, format2Metadata(state));
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
  const version = metadata["deepr.version"];
  const reader = Object.hasOwn(READERS, version) ? READERS[version] : undefined;
  if (!reader)
    throw new CheckpointError(`${path}: checkpoint format version ${JSON.stringify(version)} is not supported (this deepr reads ${Object.keys(READERS).join(" and ")})`);
  // Everything is checked against the tensors before the native network is built, so that the
  // memory it takes is justified by the file: K_l connections need K_l stored entries.
  const { options, trainOptions, progress, layers } = reader(path, file);
  const { budgets } = options;
  const storedK = layers.flatMap((state) => Object.values(state.stores).flatMap((arrays) => (arrays.theta ? [arrays.theta.length] : [])));
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  // A pruning rule's layers hold at most their budget; soft-deep-r's any number (their dormant_theta holds every position); every other rule's exactly it.
  const pruned = prunes(options.rule);
  const withinBudget = options.budget === "layer" ? storedK.every((k, l) => (pruned ? k <= budgets[l] : k === budgets[l])) : sum(storedK) === sum(budgets);
  if (hasHardBound(options.rule) && !withinBudget)
    throw new CheckpointError(
      `${path}: the layers hold ${JSON.stringify(storedK)} connections but the model's ${options.budget} budget is ${JSON.stringify(budgets)}` +
        (pruned ? " (a pruned layer holds at most its budget)" : ""),
    );
  const bytes = [...tensors.values()].reduce((total, t) => total + t.data.byteLength, 0);
  // The outputs of the layers with parameters.
  const network = networkOf(options);
  const units = sum(network.shapes.filter((_, l) => Object.keys(storesOf(network.layers[l])).length > 0).map((shape) => shape.reduce((a, b) => a * b, 1)));
  if (units > FREE_UNITS && units > bytes)
    throw new CheckpointError(
      `${path}: the model declares ${units} units in its layers ${JSON.stringify(options.layers)}, more than its ${bytes} bytes of tensors can account for; the file is corrupt`,
    );

  let model: M;
  try {
    model = factory.build(options, optimizerKeeping(keptState(layers)) ?? "sgd");
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
