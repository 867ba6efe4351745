// sparse_lstm: a long short-term memory layer over an input of shape [time, features] whose input
// and recurrent weight matrices are sparse stores rewired by DEEP R (Bellec et al. 2018, sec. 3),
// each with its own budget, and a dense bias. The core keeps the gates in the order input, forget,
// cell, output (`units` each): store position out * n_in + in joins input `in` to gate row `out`.
// Output: h of the last step [units], or with `sequence` h of every step [time, units].
import { FLOAT, INT64, floatBytes, intAttribute, node, tensor } from "../export/onnx-nodes.js";
import { ProtoMessage } from "../export/protobuf.js";
import type { LayerInfo } from "./layer-state.js";
import type { LayerKind } from "./layer-kind.js";
import { boolean, integer, MAX_SIZE, real, rejectUnknown } from "../checks.js";
import { describeStore, storeFields, type DenseStore, type SparseStore, type StoreArrays } from "./stores.js";

export interface SparseLstmLayer {
  kind: "sparse_lstm";
  steps: number;
  features: number;
  units: number;
  sequence: boolean;
  stores: { input_weight: SparseStore; recurrent_weight: SparseStore; bias: DenseStore };
}

const FIELDS = ["kind", "units", "connectivity", "inputConnectivity", "recurrentConnectivity", "sequence"];

/** A sparse store of `inputs` x 4 units gate rows keeping `connectivity` of them, checked as `field`. */
function gateStore(field: string, connectivity: unknown, inputs: number, units: number): SparseStore {
  const p = real(field, connectivity, 0, 1, true);
  const positions = inputs * 4 * units;
  const budget = Math.floor(positions * p);
  if (budget < 1) throw new RangeError(`${field} = ${p} leaves no connection in the ${inputs} x ${4 * units} weights; it needs at least ${1 / positions}`);
  if (budget > MAX_SIZE) throw new RangeError(`${field} = ${p} gives the weights ${budget} active connections; the limit is ${MAX_SIZE} per store`);
  return { kind: "sparse", shape: [inputs, 4 * units], budget, connectivity: p, fields: storeFields("sparse", []) };
}

/** The two connectivities of a spec: one for both matrices, or one each. */
function connectivities(spec: Record<string, unknown>, at: string): [unknown, unknown] {
  const pair = spec.inputConnectivity !== undefined || spec.recurrentConnectivity !== undefined;
  if (spec.connectivity !== undefined && pair)
    throw new TypeError(`${at} takes connectivity (both weight matrices) or inputConnectivity and recurrentConnectivity, not both forms`);
  if (spec.connectivity !== undefined) return [spec.connectivity, spec.connectivity];
  if (!pair) throw new TypeError(`${at}.connectivity is required: the fraction of the input and recurrent connections kept active, in (0, 1]`);
  for (const name of ["inputConnectivity", "recurrentConnectivity"])
    if (spec[name] === undefined) throw new TypeError(`${at}.${name} is required with ${name === "inputConnectivity" ? "recurrentConnectivity" : "inputConnectivity"}`);
  return [spec.inputConnectivity, spec.recurrentConnectivity];
}

export const sparseLstm: LayerKind<SparseLstmLayer> = {
  kind: "sparse_lstm",

  plan(spec, inputShape, at) {
    rejectUnknown(at, spec, FIELDS, "a sparse_lstm layer");
    if (inputShape.length !== 2)
      throw new RangeError(`${at} (sparse_lstm) reads a sequence of shape [time, features], but its input has shape [${inputShape.join(", ")}]`);
    const [steps, features] = inputShape;
    const units = integer(`${at}.units`, spec.units, 1, Math.floor(MAX_SIZE / 4));
    const sequence = spec.sequence === undefined ? false : boolean(`${at}.sequence`, spec.sequence);
    if (sequence && steps * units > MAX_SIZE) throw new RangeError(`${at}.sequence gives ${steps * units} outputs, more than the ${MAX_SIZE} a layer can have`);
    const [input, recurrent] = connectivities(spec, at);
    const single = spec.connectivity !== undefined;
    const stores = {
      input_weight: gateStore(`${at}.${single ? "connectivity" : "inputConnectivity"}`, input, features, units),
      recurrent_weight: gateStore(`${at}.${single ? "connectivity" : "recurrentConnectivity"}`, recurrent, units, units),
      bias: { kind: "dense", shape: [4 * units], fields: storeFields("dense", []) } as DenseStore,
    };
    return { layer: { kind: "sparse_lstm", steps, features, units, sequence, stores }, outputShape: sequence ? [steps, units] : [units] };
  },

  specOf({ units, sequence, stores }) {
    const [input, recurrent] = [stores.input_weight.connectivity, stores.recurrent_weight.connectivity];
    const connectivity = input === recurrent ? { connectivity: input } : { inputConnectivity: input, recurrentConnectivity: recurrent };
    return { kind: "sparse_lstm", units, ...connectivity, sequence };
  },

  native: ({ steps, features, units, sequence, stores }) => ({
    kind: "sparse_lstm", steps, features, units, inputBudget: stores.input_weight.budget, recurrentBudget: stores.recurrent_weight.budget, sequence,
  }),

  stores: {
    // No sparse_linear view: the flat sparse fields are empty, the arrays are in `stores`.
    state({ steps, features, units, sequence }, stores) {
      const outputs = sequence ? steps * units : units;
      return { stores, inputs: steps * features, outputs, positions: new Int32Array(0), theta: new Float32Array(0), sign: new Int8Array(0) };
    },
    // W [4U, F], R [4U, U] and B [8U], dense whatever `weights` says (the LSTM operator takes no
    // sparse tensors); at most, as the state knows the input width T x F, not F.
    onnxBytes: ({ inputs, stores }) => {
      const units = stores.bias.value.length / 4;
      return 4 * 4 * units * (inputs + units + 2);
    },
  },

  malformed(layer) {
    const stores = layer.stores as Record<string, unknown> | undefined;
    for (const name of ["input_weight", "recurrent_weight", "bias"])
      if (stores?.[name] === null || typeof stores?.[name] !== "object") return `has no ${name} store`;
    return undefined;
  },

  // The model's layers() counts the input store, then the recurrent one.
  describe({ steps, features, units, sequence, stores }, [input, recurrent]) {
    const counts = (store: SparseStore, info: LayerInfo | undefined) => {
      const active = info?.active ?? 0;
      return `, K ${store.budget}, active ${active} (${((100 * active) / (store.shape[0] * store.shape[1])).toFixed(3)} %)`;
    };
    return (
      `sparse_lstm [${steps} x ${features}] -> ${sequence ? `[${steps} x ${units}]` : units}; ` +
      `${describeStore("input_weight", stores.input_weight, counts(stores.input_weight, input))}; ` +
      `${describeStore("recurrent_weight", stores.recurrent_weight, counts(stores.recurrent_weight, recurrent))}; ${describeStore("bias", stores.bias)}`
    );
  },

  // The ONNX LSTM operator (gates i, o, f, c) on the input as [time, batch, features].
  onnx({ steps, features, units, sequence }, { graph, input, prefix, output, state }) {
    const { input_weight, recurrent_weight, bias } = state!.stores;
    const name = (what: string) => `${prefix}.${what}`;
    const shape = (what: string, dims: number[]) => graph.message(5, tensor(name(what), [dims.length], INT64, int64Bytes(dims)));
    shape("input_shape", [0, steps, features]);
    graph.message(1, node("Reshape", `${prefix}/Reshape`, [input, name("input_shape")], name("sequence")));
    graph.message(1, transpose(`${prefix}/Transpose`, name("sequence"), name("time_major"), [1, 0, 2]));
    graph.message(5, tensor(name("W"), [1, 4 * units, features], FLOAT, floatBytes(onnxGates(input_weight, features, units))));
    graph.message(5, tensor(name("R"), [1, 4 * units, units], FLOAT, floatBytes(onnxGates(recurrent_weight, units, units))));
    const b = new Float32Array(8 * units);
    for (let row = 0; row < 4 * units; row++) b[onnxRow(row, units)] = (bias.value as Float32Array)[row];
    graph.message(5, tensor(name("B"), [1, 8 * units], FLOAT, floatBytes(b)));
    const lstm = new ProtoMessage();
    for (const x of [name("time_major"), name("W"), name("R"), name("B")]) lstm.string(1, x);  // NodeProto.input
    // Outputs Y [time, 1, batch, U] and Y_h [1, batch, U]; an empty name leaves Y out.
    if (sequence) lstm.string(2, name("Y"));
    else lstm.string(2, "").string(2, name("Y_h"));
    graph.message(1, lstm.string(3, `${prefix}/LSTM`).string(4, "LSTM").message(5, intAttribute("hidden_size", units)));  // name, op_type, attribute
    const y = output ?? name("h");
    if (sequence) {
      graph.message(1, transpose(`${prefix}/TransposeY`, name("Y"), name("batch_major"), [2, 0, 1, 3]));
      shape("output_shape", [0, steps * units]);
      graph.message(1, node("Reshape", `${prefix}/ReshapeY`, [name("batch_major"), name("output_shape")], y));
    } else {
      shape("output_shape", [-1, units]);
      graph.message(1, node("Reshape", `${prefix}/ReshapeY`, [name("Y_h"), name("output_shape")], y));
    }
    return y;
  },
};

/** The ONNX row of the core's gate row `row`: the core's gates i, f, c, o are ONNX's 0, 2, 3, 1. */
function onnxRow(row: number, units: number): number {
  return [0, 2, 3, 1][Math.floor(row / units)] * units + (row % units);
}

/** A gate store as ONNX's dense [4U, inputs] matrix, rows in ONNX's gate order. */
function onnxGates(store: StoreArrays, inputs: number, units: number): Float32Array {
  const dense = new Float32Array(4 * units * inputs);
  const { positions, theta, sign } = store as { positions: Int32Array; theta: Float32Array; sign: Int8Array };
  for (let k = 0; k < theta.length; k++) dense[onnxRow(positions[2 * k + 1], units) * inputs + positions[2 * k]] = sign[k] * theta[k];
  return dense;
}

function transpose(nodeName: string, input: string, output: string, perm: number[]): ProtoMessage {
  // AttributeProto: name, type INTS (7), ints
  const attribute = new ProtoMessage().string(1, "perm").varint(20, 7).packedVarints(8, perm);
  return node("Transpose", nodeName, [input], output).message(5, attribute);
}

function int64Bytes(values: number[]): Uint8Array {
  const bytes = new Uint8Array(8 * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((v, n) => view.setBigInt64(8 * n, BigInt(v), true));
  return bytes;
}
