// deepr inspect FILE: what a checkpoint holds, without any data: the network layer by layer with
// its parameter stores, the training rule, and where training stands.
import { graphOf, ruleOf, type GraphLayer } from "../checkpoint/graph.js";
import { readSafetensors } from "../checkpoint/safetensors.js";
import { layerKindOf } from "../layers/registry.js";
import { keptState, storesOf } from "../layers/stores.js";
import { optimizerKeeping } from "../rules/optimiser.js";
import { describeRule } from "../rules/registry.js";
import { Model } from "../model.js";
import type { Flags } from "./args.js";

export async function inspect(file: string, flags: Flags): Promise<void> {
  // Loading first checks the whole file, so the metadata read below is known to be sound.
  const model = await Model.load(file);
  const { metadata } = await readSafetensors(file);
  const format = metadata["deepr.version"];
  const layers = model.layers();
  const optimizer = optimizerKeeping(keptState(await model.exportLayers())) ?? "sgd";
  // A format-1 file stores no graph or rule: they are what format 2 stores for the same model.
  const graph: GraphLayer[] = metadata["deepr.graph"] ? JSON.parse(metadata["deepr.graph"]) : graphOf(model.options, optimizer);
  const rule = metadata["deepr.rule"] ? JSON.parse(metadata["deepr.rule"]) : ruleOf(model.options);
  const report = {
    file,
    format,
    graph,
    rule,
    model: model.options,
    progress: model.progress,
    training: model.trainOptions,
    rng: JSON.parse(metadata["deepr.rng"] ?? "null"),
    layers: layers.map((l) => ({ shape: [l.inputs, l.outputs], K: l.budget, active: l.active, connectivity: l.active / (l.inputs * l.outputs) })),
  };
  model.dispose();
  if (flags.boolean("json")) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(`${file}: deepr checkpoint (format ${format}), seed ${model.options.seed}, epoch ${report.progress.epoch}, step ${report.progress.step}`);
  console.log(`  rule: ${describeRule(rule)}`);
  // The model's layers' counts are one per sparse store, in graph order; a layer is described with its own.
  const counts = layers.values();
  graph.forEach((layer, l) => {
    const kind = layerKindOf(layer);
    const own = Object.values(storesOf(layer)).filter((store) => store.kind === "sparse").map(() => counts.next().value!);
    console.log(`  layer ${l}: ${kind.describe(layer, own)}`);
  });
}
