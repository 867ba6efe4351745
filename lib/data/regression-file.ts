// The user's own regression data: .npy inputs with float targets of shape (N,) or (N, outputs),
// what a model with a mean_squared_error head trains on, as training and test parts.
import { join } from "node:path";
import type { RegressionData } from "../model-types.js";
import { DataFormatError } from "./idx.js";
import { checkNormalization, featureScaling, type Normalization } from "./normalize.js";
import { npyToFloat32, pythonTuple, readNpyFile } from "./npy.js";
import { entry } from "./paths.js";
import { checkSplitOptions, splitIndices } from "./split.js";
import { allInOrder } from "./all-in-order.js";
import { describe, nonEmptyString, object, rejectUnknown, shapeSize } from "../options.js";

/** Regression samples held in memory, with their sizes. */
export interface RegressionSamples extends RegressionData {
  readonly count: number;
  /** Values per sample: the product of `sampleShape`. */
  readonly features: number;
  /** Targets per sample. */
  readonly outputs: number;
}

export interface RegressionSplits {
  readonly train: RegressionSamples;
  readonly test: RegressionSamples;
}

/** How `loadRegressionFile` reads, splits and normalises the data. */
export interface RegressionFileOptions {
  /** For a .npy inputs file: the .npy file of its targets. Required there, not allowed for a directory. */
  targets?: string;
  /** Rescaling of the inputs (not the targets), with statistics from the training part only. Default "none". */
  normalize?: Normalization;
  /** The fraction of samples held out for testing when the data has no test part, in (0, 1). Default 0.2. */
  testFraction?: number;
  /** Seeds the choice of test samples when the data has no test part. Default 1. */
  seed?: number;
}

const KEYS = ["targets", "normalize", "testFraction", "seed"];
const KINDS = "a .npy inputs file (with options.targets) or a directory holding x_train.npy and y_train.npy (and optionally x_test.npy and y_test.npy)";

/**
 * Loads regression data as training and test parts: `x.npy` with `{ targets: "y.npy" }`, or a
 * directory of `x_train.npy` and `y_train.npy` (and `x_test.npy` and `y_test.npy` when it has a
 * test part). Inputs keep their sample shape as `loadNpy` keeps it; targets are floats of shape
 * (N,) (one output) or (N, outputs). Data without a test part is split as `Dataset.split` splits
 * (`testFraction`, `seed`: the same samples for the same count); then `normalize` rescales the inputs.
 */
export async function loadRegressionFile(path: string, options: RegressionFileOptions = {}): Promise<RegressionSplits> {
  nonEmptyString("path", path);
  rejectUnknown("options", object("options", options), KEYS, "loadRegressionFile");
  const { targets, normalize = "none", testFraction, seed } = options;
  checkNormalization(normalize);
  checkSplitOptions({ testFraction, seed });
  const found = await entry(path);
  if (!found) throw new DataFormatError(`${path}: no such file or directory; give ${KINDS}.`);
  let splits: RegressionSplits;
  if (found.isDirectory()) {
    if (targets !== undefined) throw new TypeError(`options.targets names the targets of a .npy inputs file, but ${path} is a directory (its targets are y_train.npy and y_test.npy)`);
    splits = await loadDirectory(path, testFraction, seed);
  } else {
    if (!path.toLowerCase().endsWith(".npy")) throw new DataFormatError(`${path}: regression data is read from .npy files; give ${KINDS}.`);
    if (typeof targets !== "string" || targets === "")
      throw new TypeError(`${path} holds inputs only: give the .npy file of its targets as options.targets (a path), got ${describe(targets)}`);
    splits = split(await readPair(path, targets), testFraction, seed);
  }
  if (normalize === "none") return splits;
  // The parts' inputs are fresh copies or arrays just read for this call: they are rescaled in place.
  const scaling = featureScaling(splits.train.inputs, splits.train.count, splits.train.features, normalize);
  for (const part of [splits.train, splits.test]) scaling.apply(part.inputs, part.inputs);
  return splits;
}

async function loadDirectory(dir: string, testFraction: number | undefined, seed: number | undefined): Promise<RegressionSplits> {
  const file = (name: string) => join(dir, name);
  const present = async (name: string) => (await entry(file(name)))?.isFile() === true;
  for (const name of ["x_train.npy", "y_train.npy"])
    if (!(await present(name))) throw new DataFormatError(`${dir}: has no ${name}; a data directory holds x_train.npy and y_train.npy (and optionally x_test.npy and y_test.npy).`);
  const [hasTestX, hasTestY] = await Promise.all([present("x_test.npy"), present("y_test.npy")]);
  if (hasTestX !== hasTestY)
    throw new DataFormatError(`${dir}: has ${hasTestX ? "x_test.npy" : "y_test.npy"} but not ${hasTestX ? "y_test.npy" : "x_test.npy"}; give both test files or neither.`);
  const train = await readPair(file("x_train.npy"), file("y_train.npy"));
  if (!hasTestX) return split(train, testFraction, seed);
  if (testFraction !== undefined || seed !== undefined)
    throw new TypeError(`${dir} has its own test files, so options.testFraction and options.seed do not apply; leave them out`);
  const test = await readPair(file("x_test.npy"), file("y_test.npy"));
  if (test.sampleShape.join() !== train.sampleShape.join() || test.outputs !== train.outputs)
    throw new DataFormatError(
      `${dir}: the test samples have shape ${pythonTuple(test.sampleShape)} and ${test.outputs} targets each, the training samples ${pythonTuple(train.sampleShape)} and ${train.outputs}; both must match.`,
    );
  return { train, test };
}

/** Reads an inputs file and its targets file, checking that they agree. */
async function readPair(inputsPath: string, targetsPath: string): Promise<RegressionSamples> {
  const [x, y] = await allInOrder([readNpyFile(inputsPath), readNpyFile(targetsPath)]);
  if (x.shape.length === 0 || x.shape.some((size) => size === 0))
    throw new DataFormatError(`${inputsPath}: shape ${pythonTuple(x.shape)} holds no samples; inputs need shape (samples, ...).`);
  const count = x.shape[0];
  if (!y.dtype.startsWith("float"))
    throw new DataFormatError(
      `${targetsPath} holds ${y.dtype} values, which are class labels: a classifier (a softmax_cross_entropy head) trains on them. ` +
        "A regression model's targets are floats: save them with y.astype(np.float32).",
    );
  if (y.shape.length === 0 || y.shape.length > 2)
    throw new DataFormatError(`${targetsPath}: targets must have shape (${count},) or (${count}, outputs), got ${pythonTuple(y.shape)}.`);
  if (y.shape[0] !== count) throw new DataFormatError(`${targetsPath} has ${y.shape[0]} rows of targets but ${inputsPath} has ${count} samples; give one row per sample.`);
  const sampleShape = x.shape.length === 1 ? [1] : x.shape.slice(1);
  const outputs = y.shape.length === 1 ? 1 : y.shape[1];
  if (outputs === 0) throw new DataFormatError(`${targetsPath}: shape ${pythonTuple(y.shape)} holds no targets.`);
  const inputs = npyToFloat32(x, inputsPath);
  return { inputs, targets: npyToFloat32(y, targetsPath, "targets"), sampleShape, count, features: shapeSize(sampleShape), outputs };
}

function split(data: RegressionSamples, testFraction: number | undefined, seed: number | undefined): RegressionSplits {
  const { train, test } = splitIndices(data.count, { testFraction, seed });
  return { train: subset(data, train), test: subset(data, test) };
}

/** The samples of `data` at `indices`, in that order. */
function subset(data: RegressionSamples, indices: Uint32Array): RegressionSamples {
  const { features, outputs } = data;
  const inputs = new Float32Array(indices.length * features);
  const targets = new Float32Array(indices.length * outputs);
  indices.forEach((from, to) => {
    inputs.set(data.inputs.subarray(from * features, (from + 1) * features), to * features);
    targets.set(data.targets.subarray(from * outputs, (from + 1) * outputs), to * outputs);
  });
  return { ...data, inputs, targets, count: indices.length };
}
