// The network of a format-2 checkpoint as data (metadata deepr.graph): a list of layers, each
// with its kind, its spec and its parameter stores. A store names the tensor fields it keeps;
// layer l's store s keeps field f in tensor `layers.{l}.{s}.{f}`.
//
// The list has room for any network; this build makes one shape of it: sparse_linear layers with
// relu between them and a softmax_cross_entropy head.
import type { NormalizedModelOptions } from "../options.js";

export interface SparseStore {
  kind: "sparse";
  /** The dense matrix the store's connections live in, [inputs, outputs]. */
  shape: number[];
  /** K: connections kept active (with a global budget, the layer's initial share). */
  budget: number;
  connectivity: number;
  /** positions int32 [K, 2], theta float32 [K], sign int8 [K]; velocity float32 [K] with momentum. */
  fields: string[];
}

export interface DenseStore {
  kind: "dense";
  shape: number[];
  /** value float32 [shape]; velocity float32 [shape] with momentum. */
  fields: string[];
}

export interface SparseLinearLayer {
  kind: "sparse_linear";
  inputs: number;
  outputs: number;
  stores: { weight: SparseStore; bias?: DenseStore };
}

export type GraphLayer = SparseLinearLayer | { kind: "relu" } | { kind: "softmax_cross_entropy" };

/** The training rule of deepr.rule. */
export interface Rule {
  name: "deep-r";
  budget: "layer" | "global";
  globalShare: "budget" | "dormant";
}

export const LAYER_KINDS = ["sparse_linear", "relu", "softmax_cross_entropy"] as const;

/** The graph of the network `options` builds; with `momentum`, every store keeps a velocity. */
export function graphOf(options: NormalizedModelOptions, momentum: boolean): GraphLayer[] {
  const { layers: widths, connectivity, budgets, bias } = options;
  const velocity = momentum ? ["velocity"] : [];
  return budgets.flatMap((budget, n): GraphLayer[] => {
    const [inputs, outputs] = [widths[n], widths[n + 1]];
    const weight: SparseStore = { kind: "sparse", shape: [inputs, outputs], budget, connectivity: connectivity[n], fields: ["positions", "theta", "sign", ...velocity] };
    const stores = bias ? { weight, bias: { kind: "dense", shape: [outputs], fields: ["value", ...velocity] } as DenseStore } : { weight };
    return [{ kind: "sparse_linear", inputs, outputs, stores }, { kind: n + 1 < budgets.length ? "relu" : "softmax_cross_entropy" }];
  });
}

/** Where the n-th sparse linear layer sits in the graph (relu layers come between them). */
export const graphIndex = (n: number) => 2 * n;

export function ruleOf(options: NormalizedModelOptions): Rule {
  return { name: "deep-r", budget: options.budget, globalShare: options.globalShare };
}
