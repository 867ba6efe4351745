// sparse_linear: y = x W + b with W [inputs, outputs] held sparsely (the K active connections of
// its weight store, W[i, j] = sign·θ) and an optional dense bias store.
import { ExportError } from "../export/export-error.js";
import { FLOAT, floatBytes, node, sparseTensor, tensor } from "../export/onnx-nodes.js";
import { ProtoMessage } from "../export/protobuf.js";
import { sparseWeightState, type LayerState } from "./layer-state.js";
import type { LayerKind } from "./layer-kind.js";
import { boolean, integer, MAX_SIZE, real, rejectUnknown, shapeSize } from "../checks.js";
import { describeStore, storeFields, type DenseStore, type SparseStore } from "./stores.js";

export interface SparseLinearLayer {
  kind: "sparse_linear";
  inputs: number;
  outputs: number;
  stores: { weight: SparseStore; bias?: DenseStore };
}

/** How the graph metadata describes a layer of K = `budget` connections, its stores without training state (graphOf adds that). */
function sparseLinearLayer(spec: { inputs: number; outputs: number; budget: number; connectivity: number; bias: boolean }): SparseLinearLayer {
  const { inputs, outputs, budget, connectivity, bias } = spec;
  const weight: SparseStore = { kind: "sparse", shape: [inputs, outputs], budget, connectivity, fields: storeFields("sparse", []) };
  const stores = bias ? { weight, bias: { kind: "dense", shape: [outputs], fields: storeFields("dense", []) } as DenseStore } : { weight };
  return { kind: "sparse_linear", inputs, outputs, stores };
}

const FIELDS = ["kind", "outputs", "connectivity", "bias"];

export const sparseLinear: LayerKind<SparseLinearLayer> = {
  kind: "sparse_linear",

  // Reads its input flattened: `inputs` is the input shape's size.
  plan(spec, inputShape, at) {
    rejectUnknown(at, spec, FIELDS, "a sparse_linear layer");
    const inputs = shapeSize(inputShape);
    const outputs = integer(`${at}.outputs`, spec.outputs, 1, MAX_SIZE);
    if (spec.connectivity === undefined) throw new TypeError(`${at}.connectivity is required: the fraction of the ${inputs} x ${outputs} connections kept active, in (0, 1]`);
    const connectivity = real(`${at}.connectivity`, spec.connectivity, 0, 1, true);
    const budget = Math.floor(inputs * outputs * connectivity);
    if (budget < 1)
      throw new RangeError(`${at}.connectivity = ${connectivity} leaves no connection in the ${inputs} x ${outputs} layer; it needs at least ${1 / (inputs * outputs)}`);
    if (budget > MAX_SIZE)
      throw new RangeError(`${at}.connectivity = ${connectivity} gives the layer ${budget} active connections; the limit is ${MAX_SIZE} per layer`);
    const bias = spec.bias === undefined ? false : boolean(`${at}.bias`, spec.bias);
    return { layer: sparseLinearLayer({ inputs, outputs, budget, connectivity, bias }), outputShape: [outputs] };
  },

  specOf: ({ outputs, stores }) => ({ kind: "sparse_linear", outputs, connectivity: stores.weight.connectivity, bias: stores.bias !== undefined }),

  native: ({ inputs, outputs, stores }) => ({ kind: "sparse_linear", inputs, outputs, budget: stores.weight.budget, bias: stores.bias !== undefined }),

  stores: {
    state: ({ inputs, outputs }, stores) => sparseWeightState(stores, inputs, outputs),

    onnxBytes: (layer, weights) =>
      (weights === "dense" ? 4 * layer.inputs * layer.outputs : 12 * layer.theta.length) + 4 * (layer.bias?.length ?? 0),
  },

  malformed(layer) {
    const weight = (layer.stores as { weight?: unknown } | undefined)?.weight;
    return weight === null || typeof weight !== "object" ? "has no weight store" : undefined;
  },

  describe({ inputs, outputs, stores }, [info]) {
    const active = info?.active ?? 0;
    const counts = `, K ${stores.weight.budget}, active ${active} (${((100 * active) / (inputs * outputs)).toFixed(3)} %)`;
    const described = [describeStore("weight", stores.weight, counts), ...(stores.bias ? [describeStore("bias", stores.bias)] : [])];
    return `sparse_linear ${inputs} -> ${outputs}; ${described.join("; ")}`;
  },

  onnx(_layer, { graph, input, prefix, output, state, weights }) {
    const layer = state!;
    const weight = `${prefix}.weight`;
    if (weights === "sparse") graph.message(15, sparseWeight(weight, layer));  // GraphProto.sparse_initializer
    else graph.message(5, denseWeight(weight, layer));  // initializer
    let y = output !== undefined && !layer.bias ? output : `${prefix}.matmul`;
    graph.message(1, node("MatMul", `${prefix}/MatMul`, [input, weight], y));  // node
    if (layer.bias) {
      const name = `${prefix}.bias`;
      graph.message(5, tensor(name, [layer.outputs], FLOAT, floatBytes(layer.bias)));
      const sum = output ?? `${prefix}.add`;
      graph.message(1, node("Add", `${prefix}/Add`, [y, name], sum));
      y = sum;
    }
    return y;
  },
};

function denseWeight(name: string, layer: LayerState): ProtoMessage {
  const { inputs, outputs, positions, theta, sign } = layer;
  const dense = new Float32Array(inputs * outputs);
  for (let k = 0; k < theta.length; k++) dense[positions[2 * k] * outputs + positions[2 * k + 1]] = sign[k] * theta[k];
  return tensor(name, [inputs, outputs], FLOAT, floatBytes(dense));
}

/** SparseTensorProto of W [inputs, outputs]: values [K] at the linearized indices i * out + j. */
function sparseWeight(name: string, layer: LayerState): ProtoMessage {
  const { inputs, outputs, positions, theta, sign } = layer;
  if (inputs * outputs > Number.MAX_SAFE_INTEGER)
    throw new ExportError(`deepr: a layer of ${inputs} x ${outputs} has more positions than ONNX indices can be computed for here (2^53)`);
  const k = theta.length;
  const index = new Float64Array(k);
  const values = new Float32Array(k);
  for (let n = 0; n < k; n++) {
    index[n] = positions[2 * n] * outputs + positions[2 * n + 1];
    values[n] = sign[n] * theta[n];
  }
  return sparseTensor(name, [inputs, outputs], index, values);
}
