// What a layer kind says about itself, so that the graph metadata, the checkpoint tensors,
// `deepr inspect` and the ONNX export look a layer up by its kind instead of switching on it.
// lib/layers/registry.ts lists the kinds; adding one is a file here and an entry there.
import type { Tensor } from "../checkpoint/safetensors.js";
import type { ProtoMessage } from "../export/protobuf.js";
import type { LayerInfo, LayerState } from "../model-types.js";

/** A checkpoint's tensors, read with a CheckpointError naming the file when one is missing or of another dtype or shape. */
export interface TensorReader {
  read(name: string, dtype: Tensor["dtype"], shape: number[]): Tensor["data"];
  /** The first dimension of tensor `name`, 0 when there is none. */
  length(name: string): number;
}

/** Where a layer's ONNX nodes go and what they read. */
export interface OnnxLayer {
  graph: ProtoMessage;
  /** The tensor the layer reads. */
  input: string;
  /**
   * Its nodes' and initializers' names start with `layers.{n}`, n counting the layers with
   * parameters (the last one up to this layer), as the ONNX files have always named them.
   */
  prefix: string;
  /** The name its result must have, when the next layer reads a fixed name (the head reads `logits`). */
  output?: string;
  /** The layer's parameters, for a kind with parameter stores. */
  state?: LayerState;
  weights: "sparse" | "dense";
}

/** A layer kind's parameter stores: what the model's LayerState of such a layer holds. */
export interface LayerStores<L> {
  /** The format-2 tensors of the layer's stores, named `{prefix}.{store}.{field}` (prefix `layers.{l}`). */
  tensors(prefix: string, state: LayerState): Record<string, Tensor>;
  /** The layer's parameters from those tensors, for the stores and fields that `layer` declares. */
  read(prefix: string, layer: L, tensors: TensorReader): LayerState;
  /** The bytes of its ONNX initializers. */
  onnxBytes(state: LayerState, weights: OnnxLayer["weights"]): number;
}

export interface LayerKind<L extends { kind: string }> {
  readonly kind: L["kind"];
  /** Present when the layer keeps parameters: then it holds one of the model's LayerStates, in graph order. */
  readonly stores?: LayerStores<L>;
  /** What is wrong with a stored layer of this kind that later checks cannot name, if anything. */
  malformed?(layer: Record<string, unknown>): string | undefined;
  /** `deepr inspect`'s description, after `layer l: `; `info` holds a parameter layer's counts. */
  describe(layer: L, info: LayerInfo | undefined): string;
  /** The fixed name its ONNX input must have (the head reads `logits`), if any. */
  readonly onnxInput?: string;
  /** The ONNX graph outputs it makes, each [batch, classes]. */
  readonly onnxOutputs?: readonly string[];
  /** Adds the layer's ONNX nodes and initializers; returns the name of its result. */
  onnx(layer: L, to: OnnxLayer): string;
}
