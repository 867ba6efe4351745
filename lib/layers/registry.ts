// Every layer kind this deepr knows, by the name the graph metadata (deepr.graph) gives it.
// Adding a kind: its file in lib/layers/ (its spec planned on its input shape, graph entry, native
// record, stores, inspect line, ONNX nodes), an entry
// in LAYER_KINDS and in GraphLayer, and a test that saves, loads, inspects and exports it.
import type { LayerKind } from "./layer-kind.js";
import { meanSquaredError, type MeanSquaredErrorLayer } from "./mean-squared-error.js";
import { relu, type ReluLayer } from "./relu.js";
import { softmaxCrossEntropy, type SoftmaxCrossEntropyLayer } from "./softmax-cross-entropy.js";
import { sparseLinear, type SparseLinearLayer } from "./sparse-linear.js";
import { sparseConv2d, type SparseConv2dLayer } from "./sparse-conv2d.js";
import { denseConv2d, type DenseConv2dLayer } from "./dense-conv2d.js";
import { maxPool2d, type MaxPool2dLayer } from "./max-pool2d.js";
import { sparseLstm, type SparseLstmLayer } from "./sparse-lstm.js";
import { denseLinear, type DenseLinearLayer } from "./dense-linear.js";

/** A layer of the graph metadata. */
export type GraphLayer =
  | SparseLinearLayer
  | ReluLayer
  | SoftmaxCrossEntropyLayer
  | SparseConv2dLayer
  | DenseConv2dLayer
  | MaxPool2dLayer
  | SparseLstmLayer
  | DenseLinearLayer
  | MeanSquaredErrorLayer;

const LAYER_KINDS: readonly LayerKind<GraphLayer>[] = [
  sparseLinear, relu, softmaxCrossEntropy, sparseConv2d, denseConv2d, maxPool2d, sparseLstm, denseLinear, meanSquaredError,
];

/** The kinds' names, in the order errors list them. */
export const layerKindNames: readonly string[] = LAYER_KINDS.map((k) => k.kind);

/** The kind named `kind`, or undefined when this deepr does not know it. */
export function findLayerKind(kind: unknown): LayerKind<GraphLayer> | undefined {
  return LAYER_KINDS.find((k) => k.kind === kind);
}

/** The kind of a layer of a checked graph. */
export function layerKindOf(layer: GraphLayer): LayerKind<GraphLayer> {
  const found = findLayerKind(layer.kind);
  if (!found) throw new Error(`deepr: layer kind ${JSON.stringify(layer.kind)} is not registered`);
  return found;
}
