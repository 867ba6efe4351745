// dense_conv2d: a 2-D convolution with every kernel entry a weight of a dense store
// [outChannels, inChannels, kernelHeight, kernelWidth] (the rule's optimiser trains it; the
// DEEP R prior acts on sparse stores only), and an optional per-channel bias.
import { rejectUnknown } from "../checks.js";
import { FLOAT, floatBytes, tensor } from "../export/onnx-nodes.js";
import type { LayerKind } from "./layer-kind.js";
import { describeWindow, outputSize } from "./image-window.js";
import { CONVOLUTION_FIELDS, convolutionSpec, kernelEntries, malformedConvolution, nativeConvolution, onnxConvolution, planConvolution, type Convolution } from "./convolution.js";
import { describeStore, storeFields, type DenseStore } from "./stores.js";

export interface DenseConv2dLayer extends Convolution {
  kind: "dense_conv2d";
  stores: { weight: DenseStore; bias?: DenseStore };
}

export const denseConv2d: LayerKind<DenseConv2dLayer> = {
  kind: "dense_conv2d",

  plan(spec, inputShape, at) {
    rejectUnknown(at, spec, CONVOLUTION_FIELDS, "a dense_conv2d layer");
    const { convolution, bias, outputShape } = planConvolution(spec, inputShape, at, "dense_conv2d");
    const dense = (shape: number[]): DenseStore => ({ kind: "dense", shape, fields: storeFields("dense", []) });
    const weight = dense([convolution.outChannels, convolution.input[0], ...convolution.kernel]);
    const stores = bias ? { weight, bias: dense([convolution.outChannels]) } : { weight };
    return { layer: { kind: "dense_conv2d", ...convolution, stores }, outputShape };
  },

  specOf: (layer) => ({ kind: "dense_conv2d", ...convolutionSpec(layer), bias: layer.stores.bias !== undefined }),

  native: (layer) => ({ kind: "dense_conv2d", ...nativeConvolution(layer), bias: layer.stores.bias !== undefined }),

  stores: {
    // No sparse store: the flat view has no active connections; the kernel is stores.weight.value.
    state(layer, stores) {
      return {
        stores,
        inputs: kernelEntries(layer),
        outputs: layer.outChannels,
        positions: new Int32Array(0),
        theta: new Float32Array(0),
        sign: new Int8Array(0),
        bias: stores.bias?.value as Float32Array | undefined,
        biasVelocity: stores.bias?.velocity as Float32Array | undefined,
      };
    },
    onnxBytes: (layer) => 4 * (layer.inputs * layer.outputs + (layer.bias?.length ?? 0)),
  },

  malformed: malformedConvolution,

  describe(layer) {
    const stores = [describeStore("weight", layer.stores.weight), ...(layer.stores.bias ? [describeStore("bias", layer.stores.bias)] : [])];
    return `dense_conv2d ${describeWindow(layer, [layer.outChannels, ...outputSize(layer)])}; ${stores.join("; ")}`;
  },

  onnx(layer, { graph, input, prefix, output, state }) {
    const weight = `${prefix}.weight`;
    graph.message(5, tensor(weight, layer.stores.weight.shape, FLOAT, floatBytes(state!.stores.weight.value as Float32Array)));  // GraphProto.initializer
    const bias = state!.bias && `${prefix}.bias`;
    if (bias) graph.message(5, tensor(bias, [layer.outChannels], FLOAT, floatBytes(state!.bias!)));
    return onnxConvolution(layer, graph, input, prefix, weight, bias, output);
  },
};
