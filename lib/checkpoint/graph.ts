// The network of a format-2 checkpoint as data (metadata deepr.graph): a list of layers, each
// with its kind, its spec and its parameter stores (lib/layers/ describes each kind), and the
// training rule (deepr.rule). Both are made from the model options through the registries.
import type { GraphLayer } from "../layers/registry.js";
import { specsOf } from "../layers/plan.js";
import { stateFields, storeFields, storesOf } from "../layers/stores.js";
import { optimizerKeeping, optimizerStateFields, type OptimizerName } from "../rules/optimiser.js";
import { isLayerList, networkOf, type NormalizedModelOptions } from "../options.js";
import { keepsDormantTheta, ruleDescription, type Rule } from "../rules/registry.js";

export type { GraphLayer } from "../layers/registry.js";
import type { SparseLinearLayer } from "../layers/sparse-linear.js";
export type { SparseLinearLayer } from "../layers/sparse-linear.js";
export type { DenseStore, SparseStore } from "../layers/stores.js";
export type { Rule } from "../rules/registry.js";

/** The graph of the network `options` builds; every store keeps the state arrays of `optimizer` (and under soft-deep-r every sparse store its dormant θ). */
export function graphOf(options: NormalizedModelOptions, optimizer: OptimizerName): GraphLayer[] {
  return networkOf(options).layers.map((layer) => {
    const stores = Object.entries(storesOf(layer));
    if (stores.length === 0) return layer;
    const dormantTheta = keepsDormantTheta(options.rule);
    const withState = stores.map(([name, store]) => [name, { ...store, fields: storeFields(store.kind, optimizerStateFields[optimizer], dormantTheta) }]);
    return { ...layer, stores: Object.fromEntries(withState) } as GraphLayer;
  });
}

/** What keeps a graph from being a network of the widths form, if anything: sparse_linear layers with relu between them and a softmax_cross_entropy head. */
function notWidthsForm(kinds: readonly string[]): string | undefined {
  for (const [l, kind] of kinds.entries()) {
    const expected = l % 2 === 0 ? "sparse_linear" : l === kinds.length - 1 ? "softmax_cross_entropy" : "relu";
    if (kind !== expected)
      return `layer ${l} is ${kind} where a ${expected} belongs: a checkpoint without deepr.inputShape holds sparse_linear layers with relu between them and a softmax_cross_entropy head`;
  }
  if (kinds.length % 2 === 1 || kinds.length === 0) return "has no softmax_cross_entropy head after its last sparse_linear layer";
  return undefined;
}

/**
 * The model options a graph stands for, as the stored values give them (to be validated), and
 * whether its stores keep velocities. With the input shape a model made from a layer list stores
 * (deepr.inputShape), the layer list; without, the widths, connectivity, budgets and bias of a
 * model made from widths (throws naming the first layer that such a model does not have), and the
 * optimiser whose state arrays its stores keep (sgd when none).
 */
export function modelOfGraph(graph: GraphLayer[], inputShape: unknown): { model: Record<string, unknown>; optimizer: OptimizerName } {
  const optimizer = graphOptimizer(graph);
  if (inputShape !== undefined) return { model: { layers: specsOf(graph), inputShape }, optimizer };
  const problem = notWidthsForm(graph.map((layer) => layer.kind));
  if (problem) throw new Error(problem);
  const sparse = graph.filter((layer): layer is SparseLinearLayer => layer.kind === "sparse_linear");
  return {
    model: {
      layers: [sparse[0].inputs, ...sparse.map((layer) => layer.outputs)],
      connectivity: sparse.map((layer) => layer.stores.weight.connectivity),
      budgets: sparse.map((layer) => layer.stores.weight.budget),
      bias: sparse[0].stores.bias !== undefined,
    },
    optimizer,
  };
}

/** The optimiser whose state arrays the graph's first store keeps (the graph is later compared with graphOf(), which gives every store the same). */
function graphOptimizer(graph: GraphLayer[]): OptimizerName {
  const store = graph.flatMap((layer) => Object.values(storesOf(layer)))[0];
  const state = store && Array.isArray(store.fields) ? stateFields(store.kind, store.fields) : [];
  const optimizer = optimizerKeeping(state);
  if (!optimizer) throw new Error(`stores keep the state arrays ${JSON.stringify(state)}, which no optimiser of this deepr keeps`);
  return optimizer;
}

export function ruleOf(options: NormalizedModelOptions): Rule {
  return ruleDescription(options);
}

/** The input shape a checkpoint stores for a model made from a layer list (metadata deepr.inputShape), if any. */
export function storedInputShape(options: NormalizedModelOptions): number[] | undefined {
  return isLayerList(options.layers) ? options.inputShape : undefined;
}
