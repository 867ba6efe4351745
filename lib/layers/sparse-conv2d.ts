// sparse_conv2d: a 2-D convolution whose kernel entries are the potential connections of a sparse
// store rewired by DEEP R like a sparse_linear layer's: the weight store's rows are the kernel
// entries of an output's fan-in, (ic * kh + ky) * kw + kx, its columns the output channels, so a
// position (entry, out channel) is kernel element [out, ic, ky, kx]. Optional per-channel bias.
import { real, rejectUnknown } from "../checks.js";
import { FLOAT, floatBytes, sparseTensor, tensor } from "../export/onnx-nodes.js";
import type { LayerKind } from "./layer-kind.js";
import { sparseWeightState } from "./layer-state.js";
import { describeWindow, outputSize } from "./image-window.js";
import { CONVOLUTION_FIELDS, convolutionSpec, kernelEntries, malformedConvolution, nativeConvolution, onnxConvolution, planConvolution, type Convolution } from "./convolution.js";
import { describeStore, storeFields, type DenseStore, type SparseStore } from "./stores.js";

export interface SparseConv2dLayer extends Convolution {
  kind: "sparse_conv2d";
  stores: { weight: SparseStore; bias?: DenseStore };
}

export const sparseConv2d: LayerKind<SparseConv2dLayer> = {
  kind: "sparse_conv2d",

  plan(spec, inputShape, at) {
    rejectUnknown(at, spec, [...CONVOLUTION_FIELDS, "connectivity"], "a sparse_conv2d layer");
    const { convolution, bias, outputShape } = planConvolution(spec, inputShape, at, "sparse_conv2d");
    const positions = kernelEntries(convolution) * convolution.outChannels;
    if (spec.connectivity === undefined)
      throw new TypeError(`${at}.connectivity is required: the fraction of the kernel's ${positions} entries kept active, in (0, 1]`);
    const connectivity = real(`${at}.connectivity`, spec.connectivity, 0, 1, true);
    const budget = Math.floor(positions * connectivity);
    if (budget < 1) throw new RangeError(`${at}.connectivity = ${connectivity} leaves no entry of the kernel's ${positions}; it needs at least ${1 / positions}`);
    const weight: SparseStore = { kind: "sparse", shape: [kernelEntries(convolution), convolution.outChannels], budget, connectivity, fields: storeFields("sparse", []) };
    const stores = bias ? { weight, bias: { kind: "dense", shape: [convolution.outChannels], fields: storeFields("dense", []) } as DenseStore } : { weight };
    return { layer: { kind: "sparse_conv2d", ...convolution, stores }, outputShape };
  },

  specOf: (layer) => ({ kind: "sparse_conv2d", ...convolutionSpec(layer), connectivity: layer.stores.weight.connectivity, bias: layer.stores.bias !== undefined }),

  native: (layer) => ({ kind: "sparse_conv2d", ...nativeConvolution(layer), budget: layer.stores.weight.budget, bias: layer.stores.bias !== undefined }),

  stores: {
    // The flat view: the weight store as a sparse_linear layer's, (kernel entry, out channel) pairs.
    state: (layer, stores) => sparseWeightState(stores, kernelEntries(layer), layer.outChannels),
    onnxBytes: (layer, weights) => (weights === "dense" ? 4 * layer.inputs * layer.outputs : 12 * layer.theta.length) + 4 * (layer.bias?.length ?? 0),
  },

  malformed: malformedConvolution,

  describe(layer, [info]) {
    const positions = kernelEntries(layer) * layer.outChannels;
    const active = info?.active ?? 0;
    const counts = `, K ${layer.stores.weight.budget}, active ${active} (${((100 * active) / positions).toFixed(3)} %)`;
    const stores = [describeStore("weight", layer.stores.weight, counts), ...(layer.stores.bias ? [describeStore("bias", layer.stores.bias)] : [])];
    return `sparse_conv2d ${describeWindow(layer, [layer.outChannels, ...outputSize(layer)])}; ${stores.join("; ")}`;
  },

  onnx(layer, { graph, input, prefix, output, state, weights }) {
    const weight = `${prefix}.weight`;
    const dims = [layer.outChannels, layer.input[0], ...layer.kernel];
    const { positions, theta, sign } = state!;
    const entries = kernelEntries(layer);
    const index = Float64Array.from(theta, (_, k) => positions[2 * k + 1] * entries + positions[2 * k]);
    const values = Float32Array.from(theta, (t, k) => sign[k] * t);
    if (weights === "sparse") graph.message(15, sparseTensor(weight, dims, index, values));  // GraphProto.sparse_initializer
    else graph.message(5, tensor(weight, dims, FLOAT, floatBytes(denseKernel(entries * layer.outChannels, index, values))));  // initializer
    const bias = state!.bias && `${prefix}.bias`;
    if (bias) graph.message(5, tensor(bias, [layer.outChannels], FLOAT, floatBytes(state!.bias!)));
    return onnxConvolution(layer, graph, input, prefix, weight, bias, output);
  },
};

/** The dense kernel, zero where no connection is active. */
function denseKernel(size: number, index: Float64Array, values: Float32Array): Float32Array {
  const dense = new Float32Array(size);
  index.forEach((i, k) => (dense[i] = values[k]));
  return dense;
}
