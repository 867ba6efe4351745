// mean_squared_error: the regression head. Training minimises each sample's half squared error
// summed over the outputs, sum_j (y_j - t_j)^2 / 2, against float targets; the prediction is its
// input itself (no softmax). No parameters.
import { rejectUnknown, shapeSize } from "../checks.js";
import type { LayerKind } from "./layer-kind.js";

export interface MeanSquaredErrorLayer {
  kind: "mean_squared_error";
}

export const meanSquaredError: LayerKind<MeanSquaredErrorLayer> = {
  kind: "mean_squared_error",
  head: true,
  // Its input is one value per regression output.
  plan(spec, inputShape, at) {
    rejectUnknown(at, spec, ["kind"], "a mean_squared_error layer");
    const outputs = shapeSize(inputShape);
    if (inputShape.length !== 1 || outputs < 1)
      throw new RangeError(`${at} (mean_squared_error) needs one value per regression output as its input, a flat shape; the layer before it outputs [${inputShape.join(", ")}]`);
    return { layer: { kind: "mean_squared_error" }, outputShape: [outputs] };
  },
  specOf: () => ({ kind: "mean_squared_error" }),
  native: () => ({ kind: "mean_squared_error" }),
  describe: () => "mean_squared_error",
  // The layer before it writes "predictions", the graph's output; the head adds no node.
  onnxInput: "predictions",
  onnxOutputs: ["predictions"],
  onnx: (_layer, { input }) => input,
};
