// Checkpoint format 2: tensors named per layer and parameter store, `layers.{l}.{store}.{field}`
// with l the layer's index in deepr.graph, and metadata that describes the whole network
// (deepr.graph), the training rule (deepr.rule) and the random streams (deepr.rng). README,
// "Checkpoints", documents every name.
import { CheckpointError, type SafetensorsFile, type Tensor } from "./safetensors.js";
import { describedRun, jsonObject, jsonValue, tensorOf } from "./checkpoint-fields.js";
import type { CheckpointState } from "./checkpoint-state.js";
import { graphIndex, graphOf, LAYER_KINDS, ruleOf, type GraphLayer, type SparseLinearLayer } from "./graph.js";
import type { LayerState } from "../model-types.js";

export const FORMAT_2 = "2";

const RNG_ALGORITHM = "philox4x32-10";
// Version of how the Philox streams are keyed (by seed, store and step); a file made under
// another layout would not resume with the same noise and regrowth.
const STREAM_KEYS = 1;

/** The tensors of `state`, by name. */
export function format2Tensors({ layers }: CheckpointState): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  layers.forEach((layer, n) => {
    const prefix = `layers.${graphIndex(n)}`;
    const k = layer.theta.length;
    tensors[`${prefix}.weight.positions`] = { dtype: "I32", shape: [k, 2], data: layer.positions };
    tensors[`${prefix}.weight.theta`] = { dtype: "F32", shape: [k], data: layer.theta };
    tensors[`${prefix}.weight.sign`] = { dtype: "I8", shape: [k], data: layer.sign };
    if (layer.velocity) tensors[`${prefix}.weight.velocity`] = { dtype: "F32", shape: [k], data: layer.velocity };
    if (layer.bias) tensors[`${prefix}.bias.value`] = { dtype: "F32", shape: [layer.outputs], data: layer.bias };
    if (layer.biasVelocity) tensors[`${prefix}.bias.velocity`] = { dtype: "F32", shape: [layer.outputs], data: layer.biasVelocity };
  });
  return tensors;
}

/** The `__metadata__` entries of `state` (the CRC is added by the writer). */
export function format2Metadata({ options, trainOptions, progress, layers }: CheckpointState): Record<string, string> {
  return {
    format: "deepr",
    "deepr.version": FORMAT_2,
    "deepr.graph": JSON.stringify(graphOf(options, layers[0]?.velocity !== undefined)),
    "deepr.rule": JSON.stringify(ruleOf(options)),
    "deepr.training": JSON.stringify(trainOptions),
    "deepr.progress": JSON.stringify(progress),
    "deepr.rng": JSON.stringify({ algorithm: RNG_ALGORITHM, seed: options.seed, step: progress.step, streamKeys: STREAM_KEYS }),
  };
}

/** The layers of deepr.graph, checked to be a network this build makes. */
function storedGraph(path: string, metadata: Record<string, string>): GraphLayer[] {
  const graph = jsonValue(path, metadata, "deepr.graph", "array");
  const fail = (problem: string) => new CheckpointError(`${path}: deepr.graph ${problem}`);
  if (!Array.isArray(graph)) throw fail("is not a JSON array of layers");
  graph.forEach((layer: unknown, l) => {
    const kind = layer !== null && typeof layer === "object" ? (layer as { kind?: unknown }).kind : undefined;
    if (!LAYER_KINDS.includes(kind as never))
      throw fail(`layer ${l} has kind ${JSON.stringify(kind)}, which this deepr does not know (it knows ${LAYER_KINDS.join(", ")})`);
    const expected = l % 2 === 0 ? "sparse_linear" : l === graph.length - 1 ? "softmax_cross_entropy" : "relu";
    if (kind !== expected)
      throw fail(`layer ${l} is ${String(kind)} where a ${expected} belongs: this deepr builds sparse_linear layers with relu between them and a softmax_cross_entropy head`);
  });
  if (graph.length % 2 === 1 || graph.length === 0) throw fail("has no softmax_cross_entropy head after its last sparse_linear layer");
  for (const [l, layer] of graph.entries()) {
    if (layer.kind !== "sparse_linear") continue;
    const weight = (layer as { stores?: { weight?: unknown } }).stores?.weight;
    if (weight === null || typeof weight !== "object") throw fail(`layer ${l} (sparse_linear) has no weight store`);
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
  const training = jsonObject(path, metadata, "deepr.training");
  if (rule.name !== "deep-r") throw new CheckpointError(`${path}: training rule ${JSON.stringify(rule.name)} is not one this deepr knows (it knows "deep-r")`);
  if (rng.algorithm !== RNG_ALGORITHM || rng.streamKeys !== STREAM_KEYS)
    throw new CheckpointError(
      `${path}: random streams ${JSON.stringify(rng.algorithm)} with key layout ${JSON.stringify(rng.streamKeys)} cannot be resumed ` +
        `(this deepr draws ${RNG_ALGORITHM} with key layout ${STREAM_KEYS})`,
    );
  if (rng.seed === undefined) throw new CheckpointError(`${path}: deepr.rng has no seed; the random streams cannot resume without it`);

  // The model options the graph stands for; graphOf() of them must give the graph back, and
  // ruleOf() the rule.
  const sparse = graph.filter((layer): layer is SparseLinearLayer => layer.kind === "sparse_linear");
  const first = sparse[0].stores;
  const model = {
    layers: [sparse[0].inputs, ...sparse.map((layer) => layer.outputs)],
    connectivity: sparse.map((layer) => layer.stores.weight.connectivity),
    budgets: sparse.map((layer) => layer.stores.weight.budget),
    budget: rule.budget,
    globalShare: rule.globalShare,
    bias: first.bias !== undefined,
    seed: rng.seed,
  };
  const run = describedRun(path, model, training, progressDocument);
  if (rng.step !== run.progress.step)
    throw new CheckpointError(`${path}: deepr.rng is at step ${JSON.stringify(rng.step)} but deepr.progress at step ${run.progress.step}`);
  const expectedRule = ruleOf(run.options);
  if (canonical(rule) !== canonical(expectedRule))
    throw new CheckpointError(`${path}: deepr.rule is ${JSON.stringify(rule)}, but a deep-r rule has exactly a name, a budget and a globalShare: ${JSON.stringify(expectedRule)}`);
  const momentum = Array.isArray(first.weight.fields) && first.weight.fields.includes("velocity");
  graphOf(run.options, momentum).forEach((expected, l) => {
    if (canonical(graph[l]) !== canonical(expected))
      throw new CheckpointError(`${path}: deepr.graph layer ${l} is ${JSON.stringify(graph[l])}, but the network the graph describes has ${JSON.stringify(expected)} there`);
  });

  const { layers: widths, bias } = run.options;
  const read = (name: string, dtype: "I32" | "F32" | "I8", shape: number[]) => tensorOf(path, tensors, name, dtype, shape).data;
  const layers: LayerState[] = run.options.budgets.map((_, n) => {
    const prefix = `layers.${graphIndex(n)}`;
    // K is what theta holds; the other per-connection tensors must agree with it.
    const k = tensors.get(`${prefix}.weight.theta`)?.shape[0] ?? 0;
    const out = widths[n + 1];
    return {
      inputs: widths[n],
      outputs: out,
      positions: read(`${prefix}.weight.positions`, "I32", [k, 2]) as Int32Array,
      theta: read(`${prefix}.weight.theta`, "F32", [k]) as Float32Array,
      sign: read(`${prefix}.weight.sign`, "I8", [k]) as Int8Array,
      velocity: momentum ? (read(`${prefix}.weight.velocity`, "F32", [k]) as Float32Array) : undefined,
      bias: bias ? (read(`${prefix}.bias.value`, "F32", [out]) as Float32Array) : undefined,
      biasVelocity: momentum && bias ? (read(`${prefix}.bias.velocity`, "F32", [out]) as Float32Array) : undefined,
    };
  });
  const declared = new Set(Object.keys(format2Tensors({ ...run, layers })));
  for (const name of tensors.keys())
    if (!declared.has(name)) throw new CheckpointError(`${path}: tensor ${name} is not one of the stores deepr.graph declares`);
  return { ...run, layers };
}
