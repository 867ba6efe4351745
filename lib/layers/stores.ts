// The parameter stores a layer keeps, as the graph metadata (deepr.graph) describes them: a store
// names the tensor fields it keeps, and layer l's store s keeps field f in tensor `layers.{l}.{s}.{f}`.

export interface SparseStore {
  kind: "sparse";
  /** The dense matrix the store's connections live in, [inputs, outputs]. */
  shape: number[];
  /** K: connections kept active (with a global budget, the layer's initial share). */
  budget: number;
  connectivity: number;
  /** positions int32 [K, 2], theta float32 [K], sign int8 [K]; velocity float32 [K] with momentum. */
  fields: string[];
}

export interface DenseStore {
  kind: "dense";
  shape: number[];
  /** value float32 [shape]; velocity float32 [shape] with momentum. */
  fields: string[];
}

export type Store = SparseStore | DenseStore;

/** The fields every store of a kind keeps; the others (velocity) are per-slot training state. */
const PARAMETER_FIELDS: Record<Store["kind"], readonly string[]> = { sparse: ["positions", "theta", "sign"], dense: ["value"] };

/** The fields a store keeps: its parameters, and a velocity with momentum. */
export function storeFields(kind: Store["kind"], momentum: boolean): string[] {
  return [...PARAMETER_FIELDS[kind], ...(momentum ? ["velocity"] : [])];
}

/** How `deepr inspect` shows a store, `detail` after its shape: `weight sparse [12 x 8], K 24, active 25 (26.042 %) + velocity`. */
export function describeStore(name: string, store: Store, detail = ""): string {
  const state = store.fields.filter((f) => !PARAMETER_FIELDS[store.kind].includes(f));
  return `${name} ${store.kind} [${store.shape.join(" x ")}]${detail}${state.length > 0 ? ` + ${state.join(", ")}` : ""}`;
}
