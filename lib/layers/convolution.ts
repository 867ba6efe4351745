// What sparse_conv2d and dense_conv2d share: their spec's geometry (outChannels, kernel, stride,
// padding on an image input), the core's record fields, and the ONNX Conv over the kernel
// [outChannels, inChannels, kernelHeight, kernelWidth] that both store (entry (ic * kh + ky) * kw
// + kx of an output channel's fan-in).
import { boolean, integer, MAX_SIZE, shapeSize } from "../checks.js";
import { intsAttribute, node } from "../export/onnx-nodes.js";
import type { ProtoMessage } from "../export/protobuf.js";
import { checkWindow, imageInput, kernelOf, malformedWindow, nativeWindow, onnxFlatten, onnxImages, outputSize, type ImageWindow } from "./image-window.js";

export interface Convolution extends ImageWindow {
  outChannels: number;
}

/** A convolution's spec fields besides its stores' own (connectivity). */
export const CONVOLUTION_FIELDS = ["kind", "outChannels", "kernel", "stride", "padding", "bias"];

/** The convolution a spec describes on `inputShape`, whether it has a bias, and its output shape; errors name `at.field`. */
export function planConvolution(
  spec: Record<string, unknown>, inputShape: readonly number[], at: string, kind: string,
): { convolution: Convolution; bias: boolean; outputShape: number[] } {
  const input = imageInput(inputShape, at, kind);
  const outChannels = integer(`${at}.outChannels`, spec.outChannels, 1, MAX_SIZE);
  const kernel = kernelOf(`${at}.kernel`, spec.kernel);
  const stride = spec.stride === undefined ? 1 : integer(`${at}.stride`, spec.stride, 1, MAX_SIZE);
  // The core pads by less than the kernel on each axis: a window of padding only is never useful.
  const padding = spec.padding === undefined ? 0 : integer(`${at}.padding`, spec.padding, 0, Math.min(...kernel) - 1);
  const convolution = { input, kernel, stride, padding, outChannels };
  checkWindow(convolution, at);
  const outputShape = [outChannels, ...outputSize(convolution)];
  if (kernelEntries(convolution) * outChannels > MAX_SIZE)
    throw new RangeError(`${at}'s kernel has ${kernelEntries(convolution) * outChannels} entries (outChannels x channels x kernel); the limit is ${MAX_SIZE}`);
  if (shapeSize(outputShape) > MAX_SIZE)
    throw new RangeError(`${at} outputs [${outputShape.join(", ")}], more than ${MAX_SIZE} features`);
  const bias = spec.bias === undefined ? false : boolean(`${at}.bias`, spec.bias);
  return { convolution, bias, outputShape };
}

/** The fan-in of one output: in channels x kernel height x kernel width. */
export function kernelEntries({ input, kernel }: ImageWindow): number {
  return input[0] * kernel[0] * kernel[1];
}

/** The spec fields of a convolution, as planConvolution reads them. */
export function convolutionSpec({ outChannels, kernel, stride, padding }: Convolution): Record<string, unknown> {
  return { outChannels, kernel: [...kernel], stride, padding };
}

/** The core's record fields of a convolution (cpp/layer_registry.hpp). */
export function nativeConvolution(c: Convolution): Record<string, number> {
  return { ...nativeWindow(c, "in_channels"), out_channels: c.outChannels, padding: c.padding };
}

/** ONNX: Conv of the flat input with `weight` [outChannels, inChannels, kh, kw] (and `bias`), flattened back. */
export function onnxConvolution(
  c: Convolution, graph: ProtoMessage, input: string, prefix: string, weight: string, bias: string | undefined, output: string | undefined,
): string {
  const images = onnxImages(graph, input, prefix, c.input);
  const conv = node("Conv", `${prefix}/Conv`, [images, weight, ...(bias ? [bias] : [])], `${prefix}.conv`)
    .message(5, intsAttribute("kernel_shape", c.kernel))  // NodeProto.attribute
    .message(5, intsAttribute("pads", [c.padding, c.padding, c.padding, c.padding]))
    .message(5, intsAttribute("strides", [c.stride, c.stride]));
  graph.message(1, conv);  // GraphProto.node
  return onnxFlatten(graph, `${prefix}.conv`, prefix, output);
}

/** What is wrong with a stored convolution that specOf cannot read, if anything: its window, or its weight store missing. */
export function malformedConvolution(layer: Record<string, unknown>): string | undefined {
  const weight = (layer.stores as { weight?: unknown } | undefined)?.weight;
  return malformedWindow(layer) ?? (weight === null || typeof weight !== "object" ? "has no weight store" : undefined);
}
