// dense_linear: y = x W + b with W [inputs, outputs] a dense store (value i * outputs + j joins
// input i to output j, as the core keeps it) and an optional dense bias store. It trains with the
// rule's optimiser only: no rewiring, no prior (those act on sparse θ).
import { FLOAT, floatBytes, node, tensor } from "../export/onnx-nodes.js";
import type { LayerKind } from "./layer-kind.js";
import { boolean, integer, MAX_SIZE, rejectUnknown, shapeSize } from "../checks.js";
import { describeStore, storeFields, type DenseStore } from "./stores.js";

export interface DenseLinearLayer {
  kind: "dense_linear";
  inputs: number;
  outputs: number;
  stores: { weight: DenseStore; bias?: DenseStore };
}

const FIELDS = ["kind", "outputs", "bias"];

export const denseLinear: LayerKind<DenseLinearLayer> = {
  kind: "dense_linear",

  // Reads its input flattened: `inputs` is the input shape's size.
  plan(spec, inputShape, at) {
    rejectUnknown(at, spec, FIELDS, "a dense_linear layer");
    const inputs = shapeSize(inputShape);
    const outputs = integer(`${at}.outputs`, spec.outputs, 1, MAX_SIZE);
    if (inputs * outputs > MAX_SIZE)
      throw new RangeError(`${at}.outputs = ${outputs} gives the ${inputs}-input layer ${inputs * outputs} weights; the limit is ${MAX_SIZE} per dense store`);
    const bias = spec.bias === undefined ? false : boolean(`${at}.bias`, spec.bias);
    const weight: DenseStore = { kind: "dense", shape: [inputs, outputs], fields: storeFields("dense", []) };
    const stores = bias ? { weight, bias: { kind: "dense", shape: [outputs], fields: storeFields("dense", []) } as DenseStore } : { weight };
    return { layer: { kind: "dense_linear", inputs, outputs, stores }, outputShape: [outputs] };
  },

  specOf: ({ outputs, stores }) => ({ kind: "dense_linear", outputs, bias: stores.bias !== undefined }),

  native: ({ inputs, outputs, stores }) => ({ kind: "dense_linear", inputs, outputs, bias: stores.bias !== undefined }),

  stores: {
    // No sparse_linear view: the flat sparse fields are empty, the arrays are in `stores`.
    state({ inputs, outputs }, stores) {
      return { stores, inputs, outputs, positions: new Int32Array(0), theta: new Float32Array(0), sign: new Int8Array(0) };
    },
    onnxBytes: (layer) => 4 * (layer.stores.weight.value.length + (layer.stores.bias?.value.length ?? 0)),
  },

  malformed(layer) {
    const weight = (layer.stores as { weight?: unknown } | undefined)?.weight;
    return weight === null || typeof weight !== "object" ? "has no weight store" : undefined;
  },

  describe: ({ inputs, outputs, stores }) =>
    `dense_linear ${inputs} -> ${outputs}; ${[describeStore("weight", stores.weight), ...(stores.bias ? [describeStore("bias", stores.bias)] : [])].join("; ")}`,

  // Always a dense initializer: every weight is a parameter.
  onnx({ inputs, outputs }, { graph, input, prefix, output, state }) {
    const { weight, bias } = state!.stores;
    const name = `${prefix}.weight`;
    graph.message(5, tensor(name, [inputs, outputs], FLOAT, floatBytes(weight.value)));  // GraphProto.initializer
    let y = output !== undefined && !bias ? output : `${prefix}.matmul`;
    graph.message(1, node("MatMul", `${prefix}/MatMul`, [input, name], y));  // node
    if (bias) {
      const biasName = `${prefix}.bias`;
      graph.message(5, tensor(biasName, [outputs], FLOAT, floatBytes(bias.value)));
      const sum = output ?? `${prefix}.add`;
      graph.message(1, node("Add", `${prefix}/Add`, [y, biasName], sum));
      y = sum;
    }
    return y;
  },
};
