// What a Model reports of its layers: the counts of a layer with a sparse store (layers()), and
// a layer's parameters and training state (exportLayers(), checkpoints).
import type { StoreStates } from "./stores.js";

export interface LayerInfo {
  inputs: number;
  outputs: number;
  /** The layer's budget K_l (with a global budget: its initial share). */
  budget: number;
  /** Connections active now. */
  active: number;
  connectivity: number;
}

/**
 * A layer's parameters and training state, as saved in checkpoints: `stores` holds every array by
 * the store and field names the graph declares (checkpoint tensor `layers.{l}.{store}.{field}`).
 * The other fields are a sparse_linear layer's view of the same arrays.
 */
export interface LayerState {
  stores: StoreStates;
  inputs: number;
  outputs: number;
  /** K x 2 int32 (input index, output index); W[i][j] = sign * theta, y = x W + b. */
  positions: Int32Array;
  theta: Float32Array;
  sign: Int8Array;
  bias?: Float32Array;
  velocity?: Float32Array;
  biasVelocity?: Float32Array;
}

/** The state of a layer with a sparse `weight` store and a dense `bias`: the stores, and the flat fields as views of the same arrays. */
export function sparseWeightState(stores: StoreStates, inputs: number, outputs: number): LayerState {
  const { weight, bias } = stores;
  return {
    stores,
    inputs,
    outputs,
    positions: weight.positions as Int32Array,
    theta: weight.theta as Float32Array,
    sign: weight.sign as Int8Array,
    velocity: weight.velocity as Float32Array | undefined,
    bias: bias?.value as Float32Array | undefined,
    biasVelocity: bias?.velocity as Float32Array | undefined,
  };
}
