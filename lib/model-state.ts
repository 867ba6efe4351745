// A model's native network and the layer state that moves in and out of it: building the network
// a model spec describes (its graph and rule, lib/checkpoint/graph.ts, each layer's record from
// its kind), the rule it trains with, and every layer's stores copied between lib's arrays and the addon.
import { graphOf, type GraphLayer } from "./checkpoint/graph.js";
import { layerKindOf } from "./layers/registry.js";
import { allocateStore, storesOf as declaredStores, type StoreStates } from "./layers/stores.js";
import type { LayerState } from "./model-types.js";
import { native, type LayerArrays, type NativeLayerState, type NativeNetwork, type NativeRule } from "./native.js";
import type { NormalizedModelOptions } from "./options.js";
import { nativeRuleOf } from "./rules/registry.js";
import type { OptimizerName } from "./rules/optimiser.js";

/** An empty network of the model's shape, training with `optimizer` and keeping its state per connection and bias. */
export function buildNetwork(o: NormalizedModelOptions, optimizer: OptimizerName): NativeNetwork {
  const layers = graphOf(o, optimizer).map((layer) => layerKindOf(layer).native(layer));
  return new (native().NativeNetwork)({ seed: o.seed, layers, rule: nativeRule(o, optimizer) });
}

/** The rule of a model's network: its rule and structure settings, trained by `optimizer`. */
export function nativeRule(o: NormalizedModelOptions, optimizer: OptimizerName): NativeRule {
  return nativeRuleOf(o, optimizer);
}

/** The graph indices of the layers with parameter stores. */
function parameterLayers(graph: GraphLayer[]): number[] {
  return graph.flatMap((layer, l) => (layerKindOf(layer).stores ? [l] : []));
}

/** A layer's stores from what a caller passed: a LayerState's `stores`, or a sparse_linear layer's flat arrays. */
function storesOfEntry(entry: LayerArrays | { stores: StoreStates }): NativeLayerState {
  if ("stores" in entry && entry.stores !== null && typeof entry.stores === "object") return entry.stores;
  const l = entry as LayerArrays;
  return { weight: { positions: l.positions, theta: l.theta, sign: l.sign, velocity: l.velocity }, bias: { value: l.bias, velocity: l.biasVelocity } };
}

/**
 * The addon's per-layer store layout over the arrays of `layers` (the same typed arrays, so an
 * export fills them), one entry per layer with parameters. Anything that is not a layer object
 * passes through for the addon to refuse by name.
 */
function nativeStates(graph: GraphLayer[], layers: (LayerArrays | { stores: StoreStates })[]): NativeLayerState[] {
  const states: NativeLayerState[] = graph.map(() => ({}));
  parameterLayers(graph).forEach((l, n) => {
    const entry = layers[n];
    states[l] = entry !== null && typeof entry === "object" ? storesOfEntry(entry) : (entry as unknown as NativeLayerState);
  });
  return states;
}

/**
 * The names in an addon error (`layers[2].weight.theta`) as the caller's arrays name them: by the
 * index among the layers with parameters, and a sparse_linear layer's flat arrays by their own
 * names (`layers[1].theta`, `layers[1].bias`) when the caller passed those.
 */
function callerNames(error: unknown, graph: GraphLayer[], layers: unknown[]): unknown {
  if (!(error instanceof Error)) return error;
  const indices = parameterLayers(graph);
  error.message = error.message.replace(/layers\[(\d+)\](?:\.(\w+)(?:\.(\w+))?)?/g, (match, l: string, store?: string, field?: string) => {
    const n = indices.indexOf(Number(l));
    if (n < 0) return match;
    const at = `layers[${n}]`;
    const entry = layers[n];
    if (entry !== null && typeof entry === "object" && "stores" in entry) return `${at}${store ? `.stores.${store}` : ""}${field ? `.${field}` : ""}`;
    if (store === undefined) return at;
    if (store === "weight") return field ? `${at}.${field}` : at;
    return `${at}.${field === "velocity" ? "biasVelocity" : "bias"}`;
  });
  return error;
}

/** A copy of every layer's stores (parameters, and the state of the `optimizer` the network trains with), with each kind's view of them. */
export async function exportState(network: NativeNetwork, options: NormalizedModelOptions, optimizer: OptimizerName): Promise<LayerState[]> {
  const graph = graphOf(options, optimizer);
  // The addon lists the sparse stores in id order, which is graph order.
  const sparse = network.info().layers.values();
  const layers = graph.flatMap((layer) => {
    const kind = layerKindOf(layer);
    if (!kind.stores) return [];
    const stores: StoreStates = {};
    for (const [name, store] of Object.entries(declaredStores(layer)))
      stores[name] = allocateStore(store, store.kind === "sparse" ? sparse.next().value!.active : 0);
    return [kind.stores.state(layer, stores)];
  });
  await network.exportState(nativeStates(graph, layers));
  return layers;
}

/** Replaces every layer's parameters (optimiser state left out starts at zero); checked, nothing changes on error. */
export async function importState(
  network: NativeNetwork,
  options: NormalizedModelOptions,
  layers: (LayerArrays | { stores: StoreStates })[],
  step: number,
): Promise<void> {
  if (!Array.isArray(layers)) throw new TypeError("layers must be an array");
  const graph = graphOf(options, "sgd");
  const count = parameterLayers(graph).length;
  if (layers.length !== count) throw new RangeError(`layers must have ${count} entries, got ${layers.length}`);
  try {
    await network.importState(nativeStates(graph, layers), step);
  } catch (error) {
    throw callerNames(error, graph, layers);
  }
}
