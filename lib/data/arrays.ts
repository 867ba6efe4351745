import type { Dataset, FlatDataset } from "./dataset.js";
import { describe, integer, MAX_SIZE, rejectUnknown, sampleShapeOption, shapeSize } from "../options.js";

/** Any typed array of numbers (not BigInt64Array / BigUint64Array). */
export type NumericArray =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array;

/** What `Dataset.fromArrays` builds a data set from. */
export interface DatasetArrays {
  /**
   * The samples: one array per sample (`number[][]`, or an array of typed arrays), or every value
   * in one flat row-major array (`number[]` or any typed array) with `count × features` values.
   * A Float32Array is used as it is, not copied; anything else is converted to float32.
   */
  inputs: ArrayLike<ArrayLike<number>> | ArrayLike<number>;
  /** One class index per sample: integers in `[0, classes)`. An Int32Array is used as it is, not copied. */
  labels: ArrayLike<number>;
  /**
   * The shape of one sample, e.g. `[28, 28]`; its product is the number of features.
   * Default: `[row length]` for one array per sample, `[inputs.length / labels.length]` for flat inputs.
   */
  shape?: readonly number[];
  /** The number of classes. Default: the largest label + 1. */
  classes?: number;
}

const FLOAT32_MAX = 3.4028234663852886e38;
const ARRAYS_KEYS = ["inputs", "labels", "shape", "classes"];

/**
 * Builds a Dataset from plain or typed arrays, checking every value: a TypeError or RangeError
 * names the field and the index of the first bad one.
 */
export function datasetFromArrays(arrays: DatasetArrays): Dataset {
  if (arrays === null || typeof arrays !== "object" || Array.isArray(arrays))
    throw new TypeError(`Dataset.fromArrays needs an object { inputs, labels, shape?, classes? }, got ${describe(arrays)}`);
  rejectUnknown("", arrays, ARRAYS_KEYS, "Dataset.fromArrays");
  const labels = toLabels(arrays.labels);
  const count = labels.length;
  if (count === 0) throw new RangeError("labels is empty; a data set needs at least one sample");
  const shape = arrays.shape === undefined ? undefined : sampleShapeOption("shape", arrays.shape);
  const { inputs, features } = toInputs(arrays.inputs, count, shape);
  const sampleShape = shape ?? [features];
  const classes = arrays.classes === undefined ? inferClasses(labels) : integer("classes", arrays.classes, 2, MAX_SIZE);
  const outside = labels.findIndex((label) => label >= classes);
  if (outside >= 0) throw new RangeError(`labels[${outside}] is ${labels[outside]} but classes is ${classes}; labels must be in [0, ${classes})`);
  return shapedDataset({ inputs, labels, sampleShape, classes });
}

/** What every loader and Dataset helper makes a Dataset from: its arrays, one sample's shape and the classes. */
export interface DatasetParts {
  inputs: Float32Array;
  labels: Int32Array;
  sampleShape: readonly number[];
  classes: number;
  classNames?: readonly string[];
}

/** The shape of one sample of `data`; a data set of the form before sample shapes has flat samples. */
export function sampleShapeOf(data: Dataset | FlatDataset): readonly number[] {
  return ("sampleShape" in data ? data.sampleShape : undefined) ?? data.shape ?? [data.features];
}

/** A Dataset of `labels.length` samples of `sampleShape`, with the sizes that follow from them filled in. */
export function shapedDataset({ inputs, labels, sampleShape, classes, classNames }: DatasetParts): Dataset {
  const shape = Object.freeze([...sampleShape]);
  const features = shapeSize(shape);
  return {
    inputs, labels, count: labels.length, features, classes, sampleShape: shape, shape,
    ...(classNames && { classNames: Object.freeze([...classNames]) }),
  };
}

function isArrayLike(value: unknown): value is ArrayLike<unknown> {
  return Array.isArray(value) || (ArrayBuffer.isView(value) && !(value instanceof DataView));
}

function toLabels(given: unknown): Int32Array {
  if (!isArrayLike(given)) throw new TypeError(`labels must be an array or typed array of class indices, got ${describe(given)}`);
  if (given instanceof BigInt64Array || given instanceof BigUint64Array)
    throw new TypeError("labels must hold numbers, not BigInts; convert them with Int32Array.from(labels, Number)");
  const labels = given instanceof Int32Array ? given : new Int32Array(given.length);
  for (let n = 0; n < given.length; n++) {
    const label = given[n];
    if (typeof label !== "number") throw new TypeError(`labels[${n}] must be a number, got ${describe(label)}`);
    if (!Number.isInteger(label) || label < 0 || label > MAX_SIZE)
      throw new RangeError(`labels[${n}] is ${describe(label)}; labels must be class indices, integers from 0`);
    labels[n] = label;
  }
  return labels;
}


function inferClasses(labels: Int32Array): number {
  let top = 0;
  for (const label of labels) top = Math.max(top, label);
  if (top === 0) throw new RangeError("every label is 0; a classifier needs at least 2 classes (give classes to set the count)");
  return top + 1;
}

function toInputs(given: unknown, count: number, shape: number[] | undefined): { inputs: Float32Array; features: number } {
  if (!isArrayLike(given)) throw new TypeError(`inputs must be an array of samples or a flat (typed) array of values, got ${describe(given)}`);
  if (given instanceof BigInt64Array || given instanceof BigUint64Array)
    throw new TypeError("inputs must hold numbers, not BigInts; convert them with Float64Array.from(inputs, Number)");
  const declared = shape && shapeSize(shape);
  if (given.length > 0 && isArrayLike(given[0])) return fromRows(given as ArrayLike<unknown>, count, declared);
  if (given.length % count !== 0)
    throw new RangeError(`inputs has ${given.length} values, not a whole number of features for the ${count} samples in labels`);
  const features = given.length / count;
  if (features === 0) throw new RangeError("inputs is empty; each sample needs at least one feature");
  if (declared !== undefined && declared !== features)
    throw new RangeError(`shape [${shape!.join(", ")}] has ${declared} features but inputs has ${features} values per sample (${given.length} for ${count} labels)`);
  if (given instanceof Float32Array) {
    const bad = given.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) throw new RangeError(`inputs[${bad}] is ${given[bad]}; inputs must be finite numbers`);
    return { inputs: given, features };
  }
  const inputs = new Float32Array(given.length);
  for (let i = 0; i < given.length; i++) inputs[i] = finite(given[i], () => `inputs[${i}]`);
  return { inputs, features };
}

function fromRows(rows: ArrayLike<unknown>, count: number, declared: number | undefined): { inputs: Float32Array; features: number } {
  if (rows.length !== count) throw new RangeError(`inputs has ${rows.length} samples but labels has ${count}; give one label per sample`);
  const first = rows[0] as ArrayLike<unknown>;
  const features = first.length;
  if (features === 0) throw new RangeError("inputs[0] is empty; each sample needs at least one feature");
  if (declared !== undefined && declared !== features)
    throw new RangeError(`shape has ${declared} features but inputs[0] has ${features} values`);
  const inputs = new Float32Array(count * features);
  for (let n = 0; n < count; n++) {
    const row = rows[n];
    if (!isArrayLike(row)) throw new TypeError(`inputs[${n}] must be an array of numbers, got ${describe(row)}`);
    if (row.length !== features) throw new RangeError(`inputs[${n}] has ${row.length} values but inputs[0] has ${features}; every sample needs the same number`);
    for (let i = 0; i < features; i++) inputs[n * features + i] = finite(row[i], () => `inputs[${n}][${i}]`);
  }
  return { inputs, features };
}

function finite(value: unknown, where: () => string): number {
  if (typeof value !== "number") throw new TypeError(`${where()} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value)) throw new RangeError(`${where()} is ${value}; inputs must be finite numbers`);
  if (Math.abs(value) > FLOAT32_MAX) throw new RangeError(`${where()} is ${value}, outside the float32 range (about ±3.4e38)`);
  return value;
}
