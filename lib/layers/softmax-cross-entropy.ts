// softmax_cross_entropy: the head. Training minimises the cross-entropy of the softmax of its
// input (the logits) against the label; the predicted class is the largest logit. No parameters.
import { rejectUnknown, shapeSize } from "../checks.js";
import { intAttribute, node } from "../export/onnx-nodes.js";
import type { LayerKind } from "./layer-kind.js";

export interface SoftmaxCrossEntropyLayer {
  kind: "softmax_cross_entropy";
}

export const softmaxCrossEntropy: LayerKind<SoftmaxCrossEntropyLayer> = {
  kind: "softmax_cross_entropy",
  head: true,
  // Its input is one logit per class.
  plan(spec, inputShape, at) {
    rejectUnknown(at, spec, ["kind"], "a softmax_cross_entropy layer");
    const classes = shapeSize(inputShape);
    if (inputShape.length !== 1 || classes < 2)
      throw new RangeError(`${at} (softmax_cross_entropy) needs one logit per class, at least 2, as its input; the layer before it outputs [${inputShape.join(", ")}]`);
    return { layer: { kind: "softmax_cross_entropy" }, outputShape: [classes] };
  },
  specOf: () => ({ kind: "softmax_cross_entropy" }),
  native: () => ({ kind: "softmax_cross_entropy" }),
  describe: () => "softmax_cross_entropy",
  onnxInput: "logits",
  onnxOutputs: ["probabilities", "logits"],
  // The probabilities, normalised along the class axis (Softmax of opset 13 takes one axis).
  onnx(_layer, { graph, input }) {
    graph.message(1, node("Softmax", "Softmax", [input], "probabilities").message(5, intAttribute("axis", -1)));  // node, with its attribute
    return "probabilities";
  },
};
