// relu: y = max(x, 0), between two sparse linear layers. No parameters.
import { rejectUnknown } from "../checks.js";
import { node } from "../export/onnx-nodes.js";
import type { LayerKind } from "./layer-kind.js";

export interface ReluLayer {
  kind: "relu";
}

export const relu: LayerKind<ReluLayer> = {
  kind: "relu",
  plan(spec, inputShape, at) {
    rejectUnknown(at, spec, ["kind"], "a relu layer");
    return { layer: { kind: "relu" }, outputShape: [...inputShape] };
  },
  specOf: () => ({ kind: "relu" }),
  native: () => ({ kind: "relu" }),
  describe: () => "relu",
  onnx(_layer, { graph, input, prefix, output }) {
    const y = output ?? `${prefix}.relu`;
    graph.message(1, node("Relu", `${prefix}/Relu`, [input], y));  // GraphProto.node
    return y;
  },
};
