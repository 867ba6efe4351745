// Class probabilities from a native network's logits, for Model.predict() and Snapshot.predict().
import { describe } from "./options.js";

/** Checks that `inputs` holds whole samples of `features` values and returns their logits array. */
export function logitsFor(inputs: Float32Array, features: number, classes: number): Float32Array {
  if (!(inputs instanceof Float32Array)) throw new TypeError(`inputs must be a Float32Array, got ${describe(inputs)}`);
  if (inputs.length === 0 || inputs.length % features !== 0)
    throw new RangeError(`inputs must hold a whole number of samples of ${features} values, got ${inputs.length} values`);
  return new Float32Array((inputs.length / features) * classes);
}

/** Replaces each row of `classes` logits by its softmax, subtracting the row's maximum first. */
export function softmaxRows(values: Float32Array, classes: number): Float32Array {
  for (let row = 0; row < values.length; row += classes) {
    let top = -Infinity, sum = 0;
    for (let c = 0; c < classes; c++) top = Math.max(top, values[row + c]);
    for (let c = 0; c < classes; c++) sum += values[row + c] = Math.exp(values[row + c] - top);
    for (let c = 0; c < classes; c++) values[row + c] /= sum;
  }
  return values;
}
