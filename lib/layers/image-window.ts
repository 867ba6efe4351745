// The window geometry sparse_conv2d, dense_conv2d and max_pool2d share (the core's
// conv_geometry.hpp): an image input [channels, height, width] from the layer below, a kernel
// [height, width], one stride for both axes and zero padding on every side. A sample's features are
// channel-major, feature (c * height + y) * width + x, so the layers around need no reshape; the
// ONNX export reshapes the flat [batch, features] tensor to images and back.
import { describe, integer, MAX_SIZE } from "../checks.js";
import { INT64, node, tensor } from "../export/onnx-nodes.js";
import type { ProtoMessage } from "../export/protobuf.js";

export interface ImageWindow {
  /** The input image, [channels, height, width]. */
  input: number[];
  /** [height, width]. */
  kernel: number[];
  stride: number;
  padding: number;
}

/** The input shape as an image, or an error naming the layer `at` of kind `kind`. */
export function imageInput(inputShape: readonly number[], at: string, kind: string): number[] {
  if (inputShape.length !== 3)
    throw new RangeError(`${at} (${kind}) reads images [channels, height, width]; its input is [${inputShape.join(", ")}] (give options.inputShape as [channels, height, width])`);
  return [...inputShape];
}

/** A kernel given as its side or as [height, width]. */
export function kernelOf(name: string, value: unknown): number[] {
  if (value === undefined) throw new TypeError(`${name} is required: the window's side, or [height, width]`);
  if (typeof value === "number") {
    const side = integer(name, value, 1, MAX_SIZE);
    return [side, side];
  }
  if (!Array.isArray(value) || value.length !== 2) throw new TypeError(`${name} must be an integer or [height, width], got ${describe(value)}`);
  return value.map((side, axis) => integer(`${name}[${axis}]`, side, 1, MAX_SIZE));
}

/** Checks that the window fits the (padded) image; `at` names the layer. */
export function checkWindow({ input, kernel, padding }: ImageWindow, at: string): void {
  const [, height, width] = input;
  if (kernel[0] > height + 2 * padding || kernel[1] > width + 2 * padding)
    throw new RangeError(
      `${at}.kernel (${kernel.join(" x ")}) is larger than the ${padding > 0 ? "padded " : ""}input image (${height + 2 * padding} x ${width + 2 * padding})`,
    );
}

/** The output [height, width] of the window slid over the padded image. */
export function outputSize({ input, kernel, stride, padding }: ImageWindow): number[] {
  return [0, 1].map((axis) => Math.floor((input[axis + 1] + 2 * padding - kernel[axis]) / stride) + 1);
}

/** The core's geometry fields of a window (cpp/layer_registry.hpp), the input channels under `channels`. */
export function nativeWindow({ input, kernel, stride }: ImageWindow, channels: string): Record<string, number> {
  return { [channels]: input[0], height: input[1], width: input[2], kernel_height: kernel[0], kernel_width: kernel[1], stride };
}

/** `[1 x 8 x 8] -> [4 x 8 x 8], kernel 3 x 3, stride 1, padding 1` for `deepr inspect`. */
export function describeWindow(window: ImageWindow, output: number[]): string {
  return `[${window.input.join(" x ")}] -> [${output.join(" x ")}], kernel ${window.kernel.join(" x ")}, stride ${window.stride}, padding ${window.padding}`;
}

/** ONNX: the flat [batch, features] input `input` as images [batch, channels, height, width]. */
export function onnxImages(graph: ProtoMessage, input: string, prefix: string, image: readonly number[]): string {
  const shape = `${prefix}.image_shape`;
  const dims = new Uint8Array(32);
  const view = new DataView(dims.buffer);
  [-1, ...image].forEach((d, n) => view.setBigInt64(8 * n, BigInt(d), true));
  graph.message(5, tensor(shape, [4], INT64, dims));  // GraphProto.initializer
  const images = `${prefix}.images`;
  graph.message(1, node("Reshape", `${prefix}/Reshape`, [input, shape], images));  // node
  return images;
}

/** ONNX: images `images` flattened back to [batch, features], named `output` when given. */
export function onnxFlatten(graph: ProtoMessage, images: string, prefix: string, output?: string): string {
  const flat = output ?? `${prefix}.flat`;
  graph.message(1, node("Flatten", `${prefix}/Flatten`, [images], flat));  // node; axis 1 by default
  return flat;
}

/** What keeps a stored layer's window from being read back into a spec (specOf), if anything. */
export function malformedWindow(layer: Record<string, unknown>): string | undefined {
  const { input, kernel } = layer;
  if (!Array.isArray(input) || input.length !== 3 || !Array.isArray(kernel) || kernel.length !== 2)
    return "has no input [channels, height, width] and kernel [height, width]";
  return undefined;
}
