// The network of a format-2 checkpoint as data (metadata deepr.graph): a list of layers, each
// with its kind, its spec and its parameter stores (lib/layers/ describes each kind), and the
// training rule (deepr.rule).
//
// The list has room for any network; this build makes one shape of it from the model options:
// sparse_linear layers with relu between them and a softmax_cross_entropy head.
import type { GraphLayer } from "../layers/registry.js";
import { reluLayer } from "../layers/relu.js";
import { softmaxCrossEntropyLayer } from "../layers/softmax-cross-entropy.js";
import { sparseLinearLayer, type SparseLinearLayer } from "../layers/sparse-linear.js";
import type { NormalizedModelOptions } from "../options.js";
import { ruleDescription, type Rule } from "../rules/registry.js";

export type { GraphLayer } from "../layers/registry.js";
export type { SparseLinearLayer } from "../layers/sparse-linear.js";
export type { DenseStore, SparseStore } from "../layers/stores.js";
export type { Rule } from "../rules/registry.js";

/** The graph of the network `options` builds; with `momentum`, every store keeps a velocity. */
export function graphOf(options: NormalizedModelOptions, momentum: boolean): GraphLayer[] {
  const { layers: widths, connectivity, budgets, bias } = options;
  return budgets.flatMap((budget, n): GraphLayer[] => [
    sparseLinearLayer({ inputs: widths[n], outputs: widths[n + 1], budget, connectivity: connectivity[n], bias, momentum }),
    n + 1 < budgets.length ? reluLayer() : softmaxCrossEntropyLayer(),
  ]);
}

/** What is wrong with the order of `kinds` for a network this build makes, if anything. */
export function unbuildableProblem(kinds: readonly string[]): string | undefined {
  for (const [l, kind] of kinds.entries()) {
    const expected = l % 2 === 0 ? "sparse_linear" : l === kinds.length - 1 ? "softmax_cross_entropy" : "relu";
    if (kind !== expected)
      return `layer ${l} is ${kind} where a ${expected} belongs: this deepr builds sparse_linear layers with relu between them and a softmax_cross_entropy head`;
  }
  if (kinds.length % 2 === 1 || kinds.length === 0) return "has no softmax_cross_entropy head after its last sparse_linear layer";
  return undefined;
}

/**
 * The model options a graph of the shape graphOf() makes stands for, as the stored values give
 * them (to be validated): widths, connectivity, budgets, biases; and whether it keeps velocities.
 */
export function modelOfGraph(graph: GraphLayer[]): { model: { layers: number[]; connectivity: unknown[]; budgets: unknown[]; bias: boolean }; momentum: boolean } {
  const sparse = graph.filter((layer): layer is SparseLinearLayer => layer.kind === "sparse_linear");
  const first = sparse[0].stores;
  return {
    model: {
      layers: [sparse[0].inputs, ...sparse.map((layer) => layer.outputs)],
      connectivity: sparse.map((layer) => layer.stores.weight.connectivity),
      budgets: sparse.map((layer) => layer.stores.weight.budget),
      bias: first.bias !== undefined,
    },
    momentum: Array.isArray(first.weight.fields) && first.weight.fields.includes("velocity"),
  };
}

export function ruleOf(options: NormalizedModelOptions): Rule {
  return ruleDescription(options);
}
