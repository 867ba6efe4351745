// deepr inspect FILE: what a checkpoint holds, without any data.
import { readSafetensors } from "../checkpoint/safetensors.js";
import { Model } from "../model.js";
import type { Flags } from "./args.js";

export async function inspect(file: string, flags: Flags): Promise<void> {
  const model = await Model.load(file);
  const { metadata } = await readSafetensors(file);
  const layers = model.layers();
  const report = {
    file,
    model: model.options,
    progress: model.progress,
    training: model.trainOptions,
    rng: JSON.parse(metadata["deepr.rng"] ?? "null"),
    layers: layers.map((l) => ({ shape: [l.inputs, l.outputs], K: l.budget, active: l.active, connectivity: l.active / (l.inputs * l.outputs) })),
  };
  if (flags.boolean("json")) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(`${file}: deepr checkpoint, seed ${model.options.seed}, ${model.options.budget} budget, ` +
    `epoch ${report.progress.epoch}, step ${report.progress.step}${model.options.bias ? ", biases" : ""}`);
  report.layers.forEach((l, n) =>
    console.log(`  layer ${n}: ${l.shape[0]} x ${l.shape[1]}, K ${l.K}, active ${l.active} (${(100 * l.connectivity).toFixed(3)} %)`));
}
