// A model's native network and the layer state that moves in and out of it: building the network
// a model spec describes (its graph and rule, lib/checkpoint/graph.ts), the rule it trains with,
// and every layer's parameters copied between lib's per-layer arrays and the addon's stores.
import { graphOf, ruleOf, type GraphLayer } from "./checkpoint/graph.js";
import type { LayerState } from "./model-types.js";
import { native, type LayerArrays, type NativeLayerSpec, type NativeLayerState, type NativeNetwork, type NativeRule } from "./native.js";
import type { NormalizedModelOptions } from "./options.js";

/** An empty network of the model's shape; with `momentum`, it trains with momentum and keeps a velocity per connection and bias. */
export function buildNetwork(o: NormalizedModelOptions, momentum: boolean): NativeNetwork {
  return new (native().NativeNetwork)({ seed: o.seed, layers: graphOf(o, momentum).map(nativeLayer), rule: nativeRule(o, momentum) });
}

/** The rule of a model's network: the model's budget, with momentum once it has trained with momentum. */
export function nativeRule(o: NormalizedModelOptions, momentum: boolean): NativeRule {
  const { budget, globalShare } = ruleOf(o);
  return { optimiser: momentum ? "momentum" : "sgd", prior: "deep-r", structure: "deep-r", budget, globalShare };
}

function nativeLayer(layer: GraphLayer): NativeLayerSpec {
  if (layer.kind !== "sparse_linear") return { kind: layer.kind };
  const { inputs, outputs, stores } = layer;
  return { kind: layer.kind, inputs, outputs, budget: stores.weight.budget, bias: stores.bias !== undefined };
}

/**
 * The addon's per-layer store layout over the arrays of `layers` (the same typed arrays, so an
 * export fills them): sparse linear layer n is graph layer 2n (a relu or the head follows each). Anything that is not a
 * layer object passes through for the addon to refuse by name.
 */
function storesOf(layers: LayerArrays[]): NativeLayerState[] {
  const graph: NativeLayerState[] = Array.from({ length: 2 * layers.length }, () => ({}));
  layers.forEach((l, n) => {
    graph[2 * n] =
      l !== null && typeof l === "object"
        ? { weight: { positions: l.positions, theta: l.theta, sign: l.sign, velocity: l.velocity }, bias: { value: l.bias, velocity: l.biasVelocity } }
        : (l as unknown as NativeLayerState);
  });
  return graph;
}

/** The names in an addon error (`layers[2].weight.theta`, `layers[2].bias.value`) as the caller's arrays name them (`layers[1].theta`, `layers[1].bias`). */
function callerNames(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  error.message = error.message.replace(/layers\[(\d+)\]\.(weight|bias)(?:\.(\w+))?/g, (_, l: string, store: string, field?: string) => {
    const at = `layers[${Number(l) / 2}]`;
    if (store === "weight") return field ? `${at}.${field}` : at;
    return `${at}.${field === "velocity" ? "biasVelocity" : "bias"}`;
  });
  return error;
}

/** A copy of every layer's parameters, and of its velocities when the network trains with momentum. */
export async function exportState(network: NativeNetwork, bias: boolean, momentum: boolean): Promise<LayerState[]> {
  const layers: LayerState[] = network.info().layers.map((l) => ({
    inputs: l.inputs,
    outputs: l.outputs,
    positions: new Int32Array(2 * l.active),
    theta: new Float32Array(l.active),
    sign: new Int8Array(l.active),
    ...(bias ? { bias: new Float32Array(l.outputs) } : {}),
    ...(momentum ? { velocity: new Float32Array(l.active) } : {}),
    ...(momentum && bias ? { biasVelocity: new Float32Array(l.outputs) } : {}),
  }));
  await network.exportState(storesOf(layers));
  return layers;
}

/** Replaces every layer's parameters (velocities left out start at zero); checked, nothing changes on error. */
export async function importState(network: NativeNetwork, layers: LayerArrays[], step: number): Promise<void> {
  if (!Array.isArray(layers)) throw new TypeError("layers must be an array");
  const count = network.info().layers.length;
  if (layers.length !== count) throw new RangeError(`layers must have ${count} entries, got ${layers.length}`);
  try {
    await network.importState(storesOf(layers), step);
  } catch (error) {
    throw callerNames(error);
  }
}
