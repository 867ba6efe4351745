// max_pool2d: the maximum of each window of each channel (no padding). No parameters.
import { integer, MAX_SIZE, rejectUnknown } from "../checks.js";
import { intsAttribute, node } from "../export/onnx-nodes.js";
import type { LayerKind } from "./layer-kind.js";
import { checkWindow, describeWindow, imageInput, kernelOf, malformedWindow, nativeWindow, onnxFlatten, onnxImages, outputSize, type ImageWindow } from "./image-window.js";

export interface MaxPool2dLayer extends ImageWindow {
  kind: "max_pool2d";
}

export const maxPool2d: LayerKind<MaxPool2dLayer> = {
  kind: "max_pool2d",

  // The stride defaults to a square kernel's side: windows that tile the image.
  plan(spec, inputShape, at) {
    rejectUnknown(at, spec, ["kind", "kernel", "stride"], "a max_pool2d layer");
    const input = imageInput(inputShape, at, "max_pool2d");
    const kernel = kernelOf(`${at}.kernel`, spec.kernel);
    if (spec.stride === undefined && kernel[0] !== kernel[1])
      throw new TypeError(`${at}.stride is required with a kernel of ${kernel.join(" x ")}: the default is the side of a square kernel`);
    const stride = spec.stride === undefined ? kernel[0] : integer(`${at}.stride`, spec.stride, 1, MAX_SIZE);
    const layer: MaxPool2dLayer = { kind: "max_pool2d", input, kernel, stride, padding: 0 };
    checkWindow(layer, at);
    return { layer, outputShape: [input[0], ...outputSize(layer)] };
  },

  specOf: ({ kernel, stride }) => ({ kind: "max_pool2d", kernel: [...kernel], stride }),

  native: (layer) => ({ kind: "max_pool2d", ...nativeWindow(layer, "channels") }),

  malformed: malformedWindow,

  describe: (layer) => `max_pool2d ${describeWindow(layer, [layer.input[0], ...outputSize(layer)])}`,

  onnx(layer, { graph, input, prefix, output }) {
    const images = onnxImages(graph, input, `${prefix}.pool`, layer.input);
    const pooled = `${prefix}.pool.max`;
    const pool = node("MaxPool", `${prefix}/MaxPool`, [images], pooled)
      .message(5, intsAttribute("kernel_shape", layer.kernel))  // NodeProto.attribute
      .message(5, intsAttribute("strides", [layer.stride, layer.stride]));
    graph.message(1, pool);  // GraphProto.node
    return onnxFlatten(graph, pooled, `${prefix}.pool`, output);
  },
};
