// The parameter stores a layer keeps, as the graph metadata (deepr.graph) describes them: a store
// names the tensor fields it keeps, and layer l's store s keeps field f in tensor `layers.{l}.{s}.{f}`.
// A layer's state is its stores' arrays by the same names, so a kind with several stores or an
// optimiser with more state arrays needs no new field anywhere.
import type { Tensor } from "../checkpoint/safetensors.js";

export interface SparseStore {
  kind: "sparse";
  /** The dense matrix the store's connections live in, [inputs, outputs]. */
  shape: number[];
  /** K: connections kept active (with a global budget, the layer's initial share). */
  budget: number;
  connectivity: number;
  /** positions int32 [K, 2], theta float32 [K], sign int8 [K]; the optimiser's state (velocity, or m and v) float32 [K]. */
  fields: string[];
}

export interface DenseStore {
  kind: "dense";
  shape: number[];
  /** value float32 [shape]; the optimiser's state (velocity, or m and v) float32 [shape]. */
  fields: string[];
}

export type Store = SparseStore | DenseStore;

/** One store's arrays, by field: a sparse store's positions (K x 2), theta and sign, a dense store's value, and the optimiser's state arrays. */
export type StoreArrays = Record<string, Int32Array | Float32Array | Int8Array>;

/** A layer's parameters and training state, by store and field. */
export type StoreStates = Record<string, StoreArrays>;

/** The fields every store of a kind keeps; the others (the optimiser's) are per-slot training state. */
const PARAMETER_FIELDS: Record<Store["kind"], readonly string[]> = { sparse: ["positions", "theta", "sign"], dense: ["value"] };

/**
 * The θ of every potential connection that a sparse store keeps under soft-deep-r (float32
 * [inputs × outputs], position `out * inputs + in`): a dormant connection's θ, 0 where active.
 */
export const DORMANT_THETA = "dormant_theta";

/** The fields a store keeps: its parameters, soft-deep-r's dormant θ (`dormantTheta`, sparse stores only), and the optimiser's `state` arrays. */
export function storeFields(kind: Store["kind"], state: readonly string[], dormantTheta = false): string[] {
  return [...PARAMETER_FIELDS[kind], ...(dormantTheta && kind === "sparse" ? [DORMANT_THETA] : []), ...state];
}

/** The fields of `fields` that are the optimiser's training state, not parameters. */
export function stateFields(kind: Store["kind"], fields: readonly string[]): string[] {
  return fields.filter((f) => !PARAMETER_FIELDS[kind].includes(f) && f !== DORMANT_THETA);
}

/** The stores of a graph entry (none for a layer without parameters). */
export function storesOf(layer: object): Record<string, Store> {
  return (layer as { stores?: Record<string, Store> }).stores ?? {};
}

/** The dtype and shape of `field` of a store holding `active` connections (a sparse store) or its shape's values (a dense one). */
function fieldTensor(store: Store, field: string, active: number): { dtype: Tensor["dtype"]; shape: number[] } {
  if (store.kind === "dense") return { dtype: "F32", shape: store.shape };
  if (field === "positions") return { dtype: "I32", shape: [active, 2] };
  if (field === DORMANT_THETA) return { dtype: "F32", shape: [store.shape[0] * store.shape[1]] };
  return { dtype: field === "sign" ? "I8" : "F32", shape: [active] };
}

/** Empty arrays for every field of `store`, for `active` connections of a sparse store. */
export function allocateStore(store: Store, active: number): StoreArrays {
  const arrays: StoreArrays = {};
  for (const field of store.fields) {
    const { dtype, shape } = fieldTensor(store, field, active);
    const size = shape.reduce((a, b) => a * b, 1);
    arrays[field] = dtype === "I32" ? new Int32Array(size) : dtype === "I8" ? new Int8Array(size) : new Float32Array(size);
  }
  return arrays;
}

/** The format-2 tensors `{prefix}.{store}.{field}` of a layer's stores. */
export function storeTensors(prefix: string, stores: Record<string, Store>, states: StoreStates): Record<string, Tensor> {
  const tensors: Record<string, Tensor> = {};
  for (const [name, store] of Object.entries(stores)) {
    const arrays = states[name];
    for (const field of store.fields) {
      const { dtype, shape } = fieldTensor(store, field, arrays.theta?.length ?? 0);
      tensors[`${prefix}.${name}.${field}`] = { dtype, shape, data: arrays[field] };
    }
  }
  return tensors;
}

/** A layer's stores read from tensors by `read(name, dtype, shape)`; a sparse store's K is what its theta holds. */
export function readStores(
  prefix: string,
  stores: Record<string, Store>,
  read: (name: string, dtype: Tensor["dtype"], shape: number[]) => Tensor["data"],
  length: (name: string) => number,
): StoreStates {
  const states: StoreStates = {};
  for (const [name, store] of Object.entries(stores)) {
    const active = length(`${prefix}.${name}.theta`);
    states[name] = Object.fromEntries(
      store.fields.map((field) => {
        const { dtype, shape } = fieldTensor(store, field, active);
        return [field, read(`${prefix}.${name}.${field}`, dtype, shape) as StoreArrays[string]];
      }),
    );
  }
  return states;
}

/** How `deepr inspect` shows a store, `detail` after its shape: `weight sparse [12 x 8], K 24, active 25 (26.042 %) + velocity`. */
export function describeStore(name: string, store: Store, detail = ""): string {
  const state = stateFields(store.kind, store.fields);
  return `${name} ${store.kind} [${store.shape.join(" x ")}]${detail}${state.length > 0 ? ` + ${state.join(", ")}` : ""}`;
}

/** The state arrays the first store of these layer states keeps besides its parameters (every store keeps the same). */
export function keptState(states: readonly { stores: StoreStates }[]): string[] {
  const stores = states.flatMap((state) => Object.values(state.stores));
  if (stores.length === 0) return [];
  return stateFields(stores[0].theta !== undefined ? "sparse" : "dense", Object.keys(stores[0]));
}
