// Checkpoint format 2: tensors named per layer and parameter store, `layers.{l}.{store}.{field}`
// with l the layer's index in deepr.graph, and metadata that describes the whole network
// (deepr.graph), the training rule (deepr.rule) and the random streams (deepr.rng). README,
// "Checkpoints", documents every name.
import { CheckpointError, type SafetensorsFile, type Tensor } from "./safetensors.js";
import { describedRun, jsonObject, jsonValue, tensorOf } from "./checkpoint-fields.js";
import type { CheckpointState } from "./checkpoint-state.js";
import { graphOf, modelOfGraph, ruleOf, storedInputShape, type GraphLayer } from "./graph.js";
import { findLayerKind, layerKindNames, layerKindOf } from "../layers/registry.js";
import { keptState, readStores, storeTensors, storesOf } from "../layers/stores.js";
import type { LayerState } from "../model-types.js";
import { findRule, ruleNames, structureSettings } from "../rules/registry.js";
import { optimizerKeeping, optimizerNames, type OptimizerName } from "../rules/optimiser.js";

export const FORMAT_2 = "2";

const RNG_ALGORITHM = "philox4x32-10";
// Version of how the Philox streams are keyed (by seed, store and step); a file made under
// another layout would not resume with the same noise and regrowth.
const STREAM_KEYS = 1;

/** The tensors of `state`, by name: each layer with parameters names its stores' tensors. */
export function format2Tensors({ options, layers }: CheckpointState): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  const states = layers.values();
  graphOf(options, stateOptimizer(layers)).forEach((layer, l) => {
    if (layerKindOf(layer).stores) Object.assign(tensors, storeTensors(`layers.${l}`, storesOf(layer), states.next().value!.stores));
  });
  return tensors;
}

/** The optimiser whose state arrays the layers keep. */
function stateOptimizer(layers: CheckpointState["layers"]): OptimizerName {
  return optimizerKeeping(keptState(layers)) ?? "sgd";
}

/** The `__metadata__` entries of `state` (the CRC is added by the writer); deepr.training names the optimiser. */
export function format2Metadata({ options, trainOptions, progress, layers }: CheckpointState): Record<string, string> {
  const inputShape = storedInputShape(options);
  const optimizer = stateOptimizer(layers);
  return {
    format: "deepr",
    "deepr.version": FORMAT_2,
    "deepr.graph": JSON.stringify(graphOf(options, optimizer)),
    "deepr.rule": JSON.stringify(ruleOf(options)),
    "deepr.training": JSON.stringify({ ...trainOptions, optimizer }),
    "deepr.progress": JSON.stringify(progress),
    "deepr.rng": JSON.stringify({ algorithm: RNG_ALGORITHM, seed: options.seed, step: progress.step, streamKeys: STREAM_KEYS }),
    ...(inputShape ? { "deepr.inputShape": JSON.stringify(inputShape) } : {}),
  };
}

/** The layers of deepr.graph, each of a kind this build knows and well formed. */
function storedGraph(path: string, metadata: Record<string, string>): GraphLayer[] {
  const graph = jsonValue(path, metadata, "deepr.graph", "array");
  const fail = (problem: string) => new CheckpointError(`${path}: deepr.graph ${problem}`);
  if (!Array.isArray(graph)) throw fail("is not a JSON array of layers");
  graph.forEach((layer: unknown, l) => {
    const kind = layer !== null && typeof layer === "object" ? (layer as { kind?: unknown }).kind : undefined;
    if (!findLayerKind(kind))
      throw fail(`layer ${l} has kind ${JSON.stringify(kind)}, which this deepr does not know (it knows ${layerKindNames.join(", ")})`);
  });
  for (const [l, layer] of graph.entries()) {
    const malformed = findLayerKind(layer.kind)!.malformed?.(layer);
    if (malformed) throw fail(`layer ${l} (${layer.kind}) ${malformed}`);
  }
  return graph as GraphLayer[];
}

/** `value` as JSON with object keys sorted, so that two descriptions compare whatever their key order. */
function canonical(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "undefined";
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}

export function readFormat2(path: string, { metadata, tensors }: SafetensorsFile): CheckpointState {
  const graph = storedGraph(path, metadata);
  const rule = jsonObject(path, metadata, "deepr.rule");
  const rng = jsonObject(path, metadata, "deepr.rng");
  const progressDocument = jsonObject(path, metadata, "deepr.progress");
  const { optimizer: storedOptimizer, ...training } = jsonObject(path, metadata, "deepr.training");
  if (!findRule(rule.name))
    throw new CheckpointError(`${path}: training rule ${JSON.stringify(rule.name)} is not one this deepr knows (it knows ${ruleNames.map((n) => JSON.stringify(n)).join(", ")})`);
  if (rng.algorithm !== RNG_ALGORITHM || rng.streamKeys !== STREAM_KEYS)
    throw new CheckpointError(
      `${path}: random streams ${JSON.stringify(rng.algorithm)} with key layout ${JSON.stringify(rng.streamKeys)} cannot be resumed ` +
        `(this deepr draws ${RNG_ALGORITHM} with key layout ${STREAM_KEYS})`,
    );
  if (rng.seed === undefined) throw new CheckpointError(`${path}: deepr.rng has no seed; the random streams cannot resume without it`);

  // The model options the graph stands for; graphOf() of them must give the graph back, and
  // ruleOf() the rule.
  let described: ReturnType<typeof modelOfGraph>;
  try {
    const inputShape = metadata["deepr.inputShape"] === undefined ? undefined : jsonValue(path, metadata, "deepr.inputShape", "array");
    described = modelOfGraph(graph, inputShape);
  } catch (e) {
    if (e instanceof CheckpointError) throw e;
    throw new CheckpointError(`${path}: deepr.graph ${(e as Error).message}`);
  }
  const { model: describedModel, optimizer } = described;
  // The structure settings deepr.rule holds; anything else in it fails the comparison with ruleOf() below.
  const ruleSettings = structureSettings.flatMap((d) => (rule[d.option] === undefined ? [] : [[d.option, rule[d.option]]]));
  const model = { ...describedModel, ...Object.fromEntries(ruleSettings), rule: rule.name, seed: rng.seed };
  const run = describedRun(path, model, training, progressDocument);
  if (rng.step !== run.progress.step)
    throw new CheckpointError(`${path}: deepr.rng is at step ${JSON.stringify(rng.step)} but deepr.progress at step ${run.progress.step}`);
  const expectedRule = ruleOf(run.options);
  if (canonical(rule) !== canonical(expectedRule)) {
    const entries = Object.keys(expectedRule).map((key) => `a ${key}`);
    throw new CheckpointError(
      `${path}: deepr.rule is ${JSON.stringify(rule)}, but a ${rule.name} rule has exactly ${entries.slice(0, -1).join(", ")} and ${entries.at(-1)}: ${JSON.stringify(expectedRule)}`,
    );
  }
  graphOf(run.options, optimizer).forEach((expected, l) => {
    if (canonical(graph[l]) !== canonical(expected))
      throw new CheckpointError(`${path}: deepr.graph layer ${l} is ${JSON.stringify(graph[l])}, but the network the graph describes has ${JSON.stringify(expected)} there`);
  });

  const read = (name: string, dtype: Tensor["dtype"], shape: number[]) => tensorOf(path, tensors, name, dtype, shape).data;
  const length = (name: string) => tensors.get(name)?.shape[0] ?? 0;
  const layers: LayerState[] = graph.flatMap((layer, l) => {
    const stores = layerKindOf(layer).stores;
    return stores ? [stores.state(layer, readStores(`layers.${l}`, storesOf(layer), read, length))] : [];
  });
  const declared = new Set(Object.keys(format2Tensors({ ...run, layers })));
  for (const name of tensors.keys())
    if (!declared.has(name)) throw new CheckpointError(`${path}: tensor ${name} is not one of the stores deepr.graph declares`);
  // Files written before Adam name no optimiser; their stores' state arrays say which it was.
  if (storedOptimizer !== undefined && storedOptimizer !== optimizer)
    throw new CheckpointError(
      `${path}: deepr.training names the optimizer ${JSON.stringify(storedOptimizer)}, but the stores keep the state of ${JSON.stringify(optimizer)}` +
        (optimizerNames.includes(storedOptimizer as OptimizerName) ? "" : ` (this deepr knows ${optimizerNames.join(", ")})`),
    );
  return { ...run, layers };
}
