import { sampleShapeOf } from "./arrays.js";
import type { Dataset, DatasetSplits, FlatDataset } from "./dataset.js";
import { checkDataset } from "./split.js";
import { describe } from "../options.js";

/**
 * How inputs are rescaled:
 * - `"none"`: left as they are.
 * - `"minmax"`: each feature from its [min, max] over the data to [0, 1] (a constant feature becomes 0).
 * - `"standard"`: each feature to mean 0 and standard deviation 1 (a constant feature becomes 0).
 * - `[low, high]`: every value from the known range [low, high] to [0, 1], e.g. `[0, 255]` for 8-bit pixels.
 */
export type Normalization = "none" | "minmax" | "standard" | readonly [number, number];

/** A per-feature affine map `x' = (x - offset[i]) * scale[i]`, to apply the training set's normalisation to new inputs. */
export class Scaling {
  readonly offset: Float64Array;
  readonly scale: Float64Array;

  constructor(offset: Float64Array, scale: Float64Array) {
    this.offset = offset;
    this.scale = scale;
  }

  /** Row-major `count × features` inputs, rescaled into `into` (a new array by default; `inputs` itself rescales in place). */
  apply(inputs: Float32Array, into?: Float32Array): Float32Array {
    const features = this.offset.length;
    if (!(inputs instanceof Float32Array)) throw new TypeError(`inputs must be a Float32Array, got ${describe(inputs)}`);
    if (inputs.length % features !== 0)
      throw new RangeError(`inputs has ${inputs.length} values, not a whole number of samples of ${features} features`);
    const out = into ?? new Float32Array(inputs.length);
    if (!(out instanceof Float32Array) || out.length !== inputs.length)
      throw new TypeError(`into must be a Float32Array of ${inputs.length} values like inputs, got ${describe(out)}`);
    for (let i = 0; i < inputs.length; i++) {
      const f = i % features;
      out[i] = (inputs[i] - this.offset[f]) * this.scale[f];
    }
    return out;
  }
}

/** The scaling that `method` derives from `data` (statistics in float64, over every sample). */
export function scalingOf(data: Dataset | FlatDataset, method: Normalization): Scaling {
  checkNormalization(method);
  checkDataset(data);
  return featureScaling(data.inputs, data.count, data.features, method);
}

/** The map `method` makes of row-major `count × features` inputs (see scalingOf). */
export function featureScaling(inputs: Float32Array, count: number, features: number, method: Normalization): Scaling {
  const offset = new Float64Array(features);
  const scale = new Float64Array(features).fill(1);
  if (method === "none") return new Scaling(offset, scale);
  if (Array.isArray(method)) {
    const [low, high] = method;
    return new Scaling(offset.fill(low), scale.fill(1 / (high - low)));
  }
  if (method === "minmax") {
    const high = new Float64Array(features).fill(-Infinity);
    offset.fill(Infinity);
    for (let i = 0; i < inputs.length; i++) {
      const f = i % features;
      offset[f] = Math.min(offset[f], inputs[i]);
      high[f] = Math.max(high[f], inputs[i]);
    }
    for (let f = 0; f < features; f++) if (high[f] > offset[f]) scale[f] = 1 / (high[f] - offset[f]);
    return new Scaling(offset, scale);
  }
  // "standard". Two passes: the sum of squared deviations does not cancel the way E[x²] - E[x]² does.
  for (let i = 0; i < inputs.length; i++) offset[i % features] += inputs[i];
  for (let f = 0; f < features; f++) offset[f] /= count;
  const squares = new Float64Array(features);
  for (let i = 0; i < inputs.length; i++) squares[i % features] += (inputs[i] - offset[i % features]) ** 2;
  for (let f = 0; f < features; f++) if (squares[f] > 0) scale[f] = 1 / Math.sqrt(squares[f] / count);
  return new Scaling(offset, scale);
}

/** Throws a RangeError naming `method` unless it is one of the `Normalization` forms. */
export function checkNormalization(method: unknown): asserts method is Normalization {
  if (Array.isArray(method)) {
    const [low, high] = method;
    if (method.length !== 2 || typeof low !== "number" || typeof high !== "number" || !Number.isFinite(low) || !Number.isFinite(high) || !(high > low))
      throw new RangeError(`a normalize range must be [low, high] with finite low < high, got [${method.map(describe).join(", ")}]`);
  } else if (method !== "none" && method !== "minmax" && method !== "standard")
    throw new RangeError(`normalize must be "none", "minmax", "standard" or a [low, high] range, got ${describe(method)}`);
}

/**
 * Normalises a data set, or both parts of a split with the statistics of the training part only
 * (so nothing about the test samples leaks into training). Returns new data sets; `"none"` returns the input.
 */
export function normalizeData(data: Dataset | FlatDataset, method: Normalization): Dataset;
export function normalizeData(splits: DatasetSplits, method: Normalization): DatasetSplits;
export function normalizeData(data: Dataset | FlatDataset | DatasetSplits, method: Normalization): Dataset | DatasetSplits {
  return normalized(data, method, false);
}

/** As `Dataset.normalize`; with `inPlace`, for loaders whose arrays nobody else holds, rescales them without a copy. */
export function normalized<T extends Dataset | DatasetSplits>(data: T, method: Normalization, inPlace: boolean): T;
export function normalized(data: Dataset | FlatDataset | DatasetSplits, method: Normalization, inPlace: boolean): Dataset | DatasetSplits;
export function normalized(data: Dataset | FlatDataset | DatasetSplits, method: Normalization, inPlace: boolean): Dataset | DatasetSplits {
  const rescaled = (part: Dataset | FlatDataset, scaling: Scaling): Dataset =>
    ({ ...part, sampleShape: sampleShapeOf(part), inputs: scaling.apply(part.inputs, inPlace ? part.inputs : undefined) });
  if (data !== null && typeof data === "object" && "train" in data && "test" in data) {
    const scaling = scalingOf(data.train, method);
    checkDataset(data.test, "test");
    if (data.test.features !== data.train.features)
      throw new RangeError(`test has ${data.test.features} features but train has ${data.train.features}`);
    if (method === "none") return data;
    return { train: rescaled(data.train, scaling), test: rescaled(data.test, scaling) };
  }
  const single = data as Dataset | FlatDataset;
  const scaling = scalingOf(single, method);
  if (method !== "none") return rescaled(single, scaling);
  return "sampleShape" in single ? single : { ...single, sampleShape: sampleShapeOf(single) };
}
