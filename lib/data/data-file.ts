import { join } from "node:path";
import { loadCsv, type CsvOptions } from "./csv.js";
import type { Dataset, DatasetSplits } from "./dataset.js";
import { DataFormatError } from "./idx.js";
import { checkNormalization, normalized, type Normalization } from "./normalize.js";
import { classCount, labelledDataset, pythonTuple, readNpyPair } from "./npy.js";
import { entry } from "./paths.js";
import { checkSplitOptions, splitDataset } from "./split.js";
import { describe, integer, MAX_SIZE, nonEmptyString, object, rejectUnknown } from "../options.js";

/** How `loadDataFile` reads, splits and normalises the user's data. */
export interface DataFileOptions extends CsvOptions {
  /** For a .npy inputs file: the .npy file of its labels. Required there, not allowed otherwise. */
  labels?: string;
  /** Rescaling, with statistics from the training part only (see `Normalization`). Default "none". */
  normalize?: Normalization;
  /** The fraction of samples held out for testing when the data has no test part, in (0, 1). Default 0.2. */
  testFraction?: number;
  /** Seeds the choice of test samples when the data has no test part. Default 1. */
  seed?: number;
}

const KEYS = ["labels", "normalize", "testFraction", "seed", "header", "labelColumn", "delimiter", "classes"];
const CSV_ONLY = ["header", "labelColumn", "delimiter"] as const;
const NPY_DIR = { trainX: "x_train.npy", trainY: "y_train.npy", testX: "x_test.npy", testY: "y_test.npy" };
const KINDS = "a .csv or .tsv file, a .npy inputs file (with options.labels), or a directory holding x_train.npy and y_train.npy (and optionally x_test.npy and y_test.npy)";

/**
 * Loads the user's own data as training and test sets:
 * - `data.csv` / `data.tsv`: see `loadCsv` for the label column, header and delimiter;
 * - `x.npy` with `{ labels: "y.npy" }`: see `loadNpy`;
 * - a directory with `x_train.npy` and `y_train.npy`, and `x_test.npy` and `y_test.npy` when it has a test part.
 * Data without a test part is split with `Dataset.split` (`testFraction`, `seed`); then `normalize`
 * rescales both parts with the training part's statistics. The class count is shared by both parts.
 */
export async function loadDataFile(path: string, options: DataFileOptions = {}): Promise<DatasetSplits> {
  nonEmptyString("path", path);
  rejectUnknown("options", object("options", options), KEYS, "loadDataFile");
  const { labels, normalize = "none", testFraction, seed, classes, ...csv } = options;
  // Checked before a large file is read, not after.
  if (classes !== undefined) integer("options.classes", classes, 2, MAX_SIZE);
  checkNormalization(normalize);
  checkSplitOptions({ testFraction, seed });
  const found = await entry(path);
  if (!found) throw new DataFormatError(`${path}: no such file or directory; give ${KINDS}.`);
  const lower = path.toLowerCase();
  const kind = found.isDirectory() ? "directory" : lower.endsWith(".npy") ? "npy" : lower.endsWith(".csv") || lower.endsWith(".tsv") ? "csv" : undefined;
  if (kind === undefined) throw new DataFormatError(`${path}: cannot tell the format from the name; give ${KINDS}.`);
  if (kind !== "npy" && labels !== undefined)
    throw new TypeError(`options.labels names the labels file of a .npy inputs file, but ${path} is ${kind === "csv" ? "a CSV file (its labels are a column: use options.labelColumn)" : "a directory (its labels are y_train.npy and y_test.npy)"}`);
  if (kind !== "csv") for (const key of CSV_ONLY) if (csv[key] !== undefined) throw new TypeError(`options.${key} applies to CSV files only, and ${path} is not one`);

  let splits: DatasetSplits;
  if (kind === "directory") splits = await loadNpyDirectory(path, classes, testFraction, seed);
  else {
    let whole: Dataset;
    if (kind === "csv") whole = await loadCsv(path, { ...csv, classes });
    else {
      if (typeof labels !== "string" || labels === "")
        throw new TypeError(`${path} holds inputs only: give the .npy file of its labels as options.labels (a path), got ${describe(labels)}`);
      const arrays = await readNpyPair(path, labels);
      whole = labelledDataset(arrays, classes ?? classCount(arrays.labels, labels), labels);
    }
    splits = splitDataset(whole, { testFraction, seed });
  }
  // The split's arrays are fresh copies, or arrays just read for this call: rescaling them in place saves a copy.
  return normalized(splits, normalize, true);
}

async function loadNpyDirectory(dir: string, classes: number | undefined, testFraction: number | undefined, seed: number | undefined): Promise<DatasetSplits> {
  const paths = Object.fromEntries(Object.entries(NPY_DIR).map(([key, name]) => [key, join(dir, name)])) as typeof NPY_DIR;
  const present = async (file: string) => (await entry(file))?.isFile() === true;
  for (const key of ["trainX", "trainY"] as const)
    if (!(await present(paths[key]))) throw new DataFormatError(`${dir}: has no ${NPY_DIR[key]}; a data directory holds x_train.npy and y_train.npy (and optionally x_test.npy and y_test.npy).`);
  const [hasTestX, hasTestY] = await Promise.all([present(paths.testX), present(paths.testY)]);
  if (hasTestX !== hasTestY)
    throw new DataFormatError(`${dir}: has ${hasTestX ? NPY_DIR.testX : NPY_DIR.testY} but not ${hasTestX ? NPY_DIR.testY : NPY_DIR.testX}; give both test files or neither.`);
  const train = await readNpyPair(paths.trainX, paths.trainY);
  if (!hasTestX) return splitDataset(labelledDataset(train, classes ?? classCount(train.labels, paths.trainY), paths.trainY), { testFraction, seed });
  if (testFraction !== undefined || seed !== undefined)
    throw new TypeError(`${dir} has its own test files, so options.testFraction and options.seed do not apply; leave them out`);
  const test = await readNpyPair(paths.testX, paths.testY);
  if (test.shape.join() !== train.shape.join())
    throw new DataFormatError(`${paths.testX}: samples have shape ${pythonTuple(test.shape)} but those of ${paths.trainX} have ${pythonTuple(train.shape)}; both must match.`);
  // A test label the training set never shows still needs an output unit.
  let count = classes ?? classCount(train.labels, paths.trainY);
  if (classes === undefined) for (const label of test.labels) count = Math.max(count, label + 1);
  return { train: labelledDataset(train, count, paths.trainY), test: labelledDataset(test, count, paths.testY) };
}
