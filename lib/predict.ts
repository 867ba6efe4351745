// Prediction, for Model.predict() and Snapshot.predict(): the samples checked against the model's
// input size, the native network's outputs for them, and each row's softmax for a classifier (a
// regression model's outputs are its predictions as they are).
import type { Samples } from "./data/dataset.js";
import { describe, sampleShapeOption, shapeSize } from "./options.js";

/** What predict() takes: row-major float32 inputs of whole samples, or samples with their shape (any Dataset). */
export type PredictInputs = Float32Array | Samples;

/**
 * Row-major `count x outputs` for `given` samples of `features` values each: class probabilities
 * (softmax) for a network trained on `"labels"`, its outputs themselves for one trained on
 * `"values"`; `run(inputs, out)` has the native network write its outputs (the logits) into `out`.
 */
export async function predictOutputs(
  given: PredictInputs, features: number, outputs: number, targets: "labels" | "values",
  run: (inputs: Float32Array, out: Float32Array) => Promise<void>,
): Promise<Float32Array> {
  const inputs = sampleInputs(given, features);
  const out = new Float32Array((inputs.length / features) * outputs);
  await run(inputs, out);
  return targets === "values" ? out : softmaxRows(out, outputs);
}

/** The inputs of `given`, checked to hold a whole number of samples of `features` values. */
function sampleInputs(given: PredictInputs, features: number): Float32Array {
  if (given instanceof Float32Array) {
    if (given.length === 0 || given.length % features !== 0)
      throw new RangeError(`inputs must hold a whole number of samples of ${features} values, got ${given.length} values`);
    return given;
  }
  if (given === null || typeof given !== "object" || !(given.inputs instanceof Float32Array))
    throw new TypeError(`inputs must be a Float32Array or samples { inputs: Float32Array, sampleShape }, got ${describe(given)}`);
  const shape = sampleShapeOption("inputs.sampleShape", given.sampleShape);
  const size = shapeSize(shape);
  if (size !== features)
    throw new RangeError(`inputs.sampleShape [${shape.join(", ")}] has ${size} values per sample but the model's input layer has ${features} units`);
  if (given.inputs.length === 0 || given.inputs.length % size !== 0)
    throw new RangeError(`inputs.inputs must hold a whole number of samples of shape [${shape.join(", ")}], got ${given.inputs.length} values`);
  return given.inputs;
}

/** Replaces each row of `classes` logits by its softmax, subtracting the row's maximum first. */
function softmaxRows(values: Float32Array, classes: number): Float32Array {
  for (let row = 0; row < values.length; row += classes) {
    let top = -Infinity, sum = 0;
    for (let c = 0; c < classes; c++) top = Math.max(top, values[row + c]);
    for (let c = 0; c < classes; c++) sum += values[row + c] = Math.exp(values[row + c] - top);
    for (let c = 0; c < classes; c++) values[row + c] /= sum;
  }
  return values;
}
