import { sampleShapeOf, shapedDataset } from "./arrays.js";
import type { Dataset, DatasetSplits, FlatDataset } from "./dataset.js";
import { shuffledIndices } from "./splitmix64.js";
import { describe, object, rejectUnknown, seedOption } from "../options.js";

/** How `Dataset.split` divides a data set. */
export interface SplitOptions {
  /** The fraction of samples that goes to the test set, in (0, 1). Default 0.2. */
  testFraction?: number;
  /** Seeds the shuffle that picks the test samples: the same seed gives the same split. An integer in [0, 2^53). Default 1. */
  seed?: number;
}

const SPLIT_KEYS = ["testFraction", "seed"];

/**
 * Splits `data` into training and test sets: a Fisher–Yates shuffle driven by SplitMix64(seed)
 * picks round(count × testFraction) test samples; both parts keep the samples in their original order.
 * The split is not stratified: with few samples per class, a class may be missing from one part.
 */
export function splitDataset(data: Dataset | FlatDataset, options: SplitOptions = {}): DatasetSplits {
  checkDataset(data);
  const { train, test } = splitIndices(data.count, options);
  return { train: subset(data, train), test: subset(data, test) };
}

/** The sample indices of each part of a split of `count` samples (see splitDataset), each in increasing order. */
export function splitIndices(count: number, options: SplitOptions = {}): { train: Uint32Array; test: Uint32Array } {
  const { testFraction: fraction, seed } = checkSplitOptions(options);
  const testCount = Math.round(count * fraction);
  if (testCount < 1 || testCount >= count)
    throw new RangeError(
      `options.testFraction ${fraction} of ${count} samples gives ${testCount} test and ${count - testCount} training samples; both parts need at least one`,
    );
  const order = shuffledIndices(count, seed);
  return { train: order.subarray(testCount).sort(), test: order.subarray(0, testCount).sort() };
}

/** Validated split options with their defaults. */
export function checkSplitOptions(options: unknown): Required<SplitOptions> {
  const o = object("options", options) as SplitOptions;
  rejectUnknown("options", o, SPLIT_KEYS, "Dataset.split");
  const testFraction = o.testFraction === undefined ? 0.2 : o.testFraction;
  if (typeof testFraction !== "number") throw new TypeError(`options.testFraction must be a number, got ${describe(testFraction)}`);
  if (!(testFraction > 0 && testFraction < 1))
    throw new RangeError(`options.testFraction must be in (0, 1) so that both parts get samples, got ${describe(testFraction)}`);
  const seed = o.seed === undefined ? 1 : seedOption("options.seed", o.seed);
  return { testFraction, seed };
}

/** The samples of `data` at `indices`, in that order, with the same sample shape and classes. */
function subset(data: Dataset | FlatDataset, indices: Uint32Array): Dataset {
  const { features } = data;
  const inputs = new Float32Array(indices.length * features);
  const labels = new Int32Array(indices.length);
  indices.forEach((from, to) => {
    inputs.set(data.inputs.subarray(from * features, (from + 1) * features), to * features);
    labels[to] = data.labels[from];
  });
  return shapedDataset({ inputs, labels, sampleShape: sampleShapeOf(data), classes: data.classes, classNames: data.classNames });
}

export function checkDataset(data: unknown, name = "data"): asserts data is Dataset | FlatDataset {
  if (data === null || typeof data !== "object") throw new TypeError(`${name} must be a Dataset, got ${describe(data)}`);
  const { inputs, labels, count, features } = data as Dataset;
  if (!(inputs instanceof Float32Array)) throw new TypeError(`${name}.inputs must be a Float32Array, got ${describe(inputs)}`);
  if (!(labels instanceof Int32Array)) throw new TypeError(`${name}.labels must be an Int32Array, got ${describe(labels)}`);
  if (labels.length !== count) throw new RangeError(`${name}.labels has ${labels.length} entries for ${describe(count)} samples`);
  if (!Number.isInteger(features) || features < 1 || inputs.length !== count * features)
    throw new RangeError(`${name}.inputs has ${inputs.length} values; ${count} samples x ${describe(features)} features need ${count * features}`);
}
