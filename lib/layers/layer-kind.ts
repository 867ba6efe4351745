// What a layer kind says about itself, so that the graph metadata, the checkpoint tensors,
// `deepr inspect` and the ONNX export look a layer up by its kind instead of switching on it.
// lib/layers/registry.ts lists the kinds; adding one is a file here and an entry there.
import type { ProtoMessage } from "../export/protobuf.js";
import type { LayerInfo, LayerState } from "./layer-state.js";
import type { NativeLayerSpec } from "../native.js";
import type { StoreStates } from "./stores.js";

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
  /** The layer's state with its stores' arrays (by the stores and fields `layer` declares), and the kind's own view of them. */
  state(layer: L, stores: StoreStates): LayerState;
  /** The bytes of its ONNX initializers. */
  onnxBytes(state: LayerState, weights: OnnxLayer["weights"]): number;
}

/** A layer as a user lists it in `options.layers`: its kind and that kind's own fields. */
export type LayerSpec = { kind: string } & Record<string, unknown>;

/** What a kind makes of a user's spec: its graph entry (stores without training state) and the shape it outputs. */
export interface PlannedLayer<L> {
  layer: L;
  outputShape: number[];
}

export interface LayerKind<L extends { kind: string }> {
  readonly kind: L["kind"];
  /** Whether it is a loss head, which ends the list (and only there). */
  readonly head?: boolean;
  /**
   * Validates the user's spec `spec`, named `at` (`options.layers[2]`) in errors, on an input of
   * shape `inputShape`; throws a TypeError or RangeError naming `at.field` and what is allowed.
   */
  plan(spec: Record<string, unknown>, inputShape: readonly number[], at: string): PlannedLayer<L>;
  /** The user's spec of a graph entry: plan(specOf(layer)) gives the layer back. */
  specOf(layer: L): LayerSpec;
  /** The record the core's layer registry builds the layer from. */
  native(layer: L): NativeLayerSpec;
  /** Present when the layer keeps parameters: then it holds one of the model's LayerStates, in graph order. */
  readonly stores?: LayerStores<L>;
  /** What is wrong with a stored layer of this kind that later checks cannot name, if anything. */
  malformed?(layer: Record<string, unknown>): string | undefined;
  /** `deepr inspect`'s description, after `layer l: `; `counts` holds the model's counts of each of its sparse stores, in store order. */
  describe(layer: L, counts: readonly LayerInfo[]): string;
  /** The fixed name its ONNX input must have (the head reads `logits`), if any. */
  readonly onnxInput?: string;
  /** The ONNX graph outputs it makes, each [batch, classes]. */
  readonly onnxOutputs?: readonly string[];
  /** Adds the layer's ONNX nodes and initializers; returns the name of its result. */
  onnx(layer: L, to: OnnxLayer): string;
}
