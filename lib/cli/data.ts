// The data set a command reads, from --dataset and --data: both splits to train, the test split to evaluate.
// --data names a bundled format's files (MNIST IDX, CIFAR-10 batches) or the user's own data: a
// .csv/.tsv file, a .npy inputs file with --labels, or a directory of x_train.npy and y_train.npy;
// for a regression model (a mean_squared_error head), a .npy inputs file with --targets or such a
// directory with float targets.
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Dataset, DatasetSplits } from "../data/dataset.js";
import { loadCifar10, loadCifar10Test } from "../data/cifar10.js";
import { loadDataFile, type DataFileOptions } from "../data/data-file.js";
import { loadMnist, loadMnistTest } from "../data/mnist.js";
import type { Normalization } from "../data/normalize.js";
import { loadRegressionFile, type RegressionFileOptions, type RegressionSamples, type RegressionSplits } from "../data/regression-file.js";
import type { NormalizedModelOptions } from "../options.js";
import { flagError } from "./api-errors.js";
import type { Flags } from "./args.js";
import type { FlagName } from "./flags.js";
import { status } from "./progress.js";
import { UsageError } from "./usage-error.js";

/** What every sample of a data set has, as far as it is known before loading. */
export interface SampleShape {
  /** Where the format fixes it (MNIST images may come in any size; own files are read first). */
  features?: number;
  classes?: number;
}

/** Flags that describe the user's own files, meaningless for the bundled formats. */
const FILE_FLAGS = ["labels", "targets", "label-column", "normalize", "test-fraction"] as const satisfies readonly FlagName[];

interface Source {
  name: string;
  /** Not bundled: needs --data. */
  needsDir: boolean;
  shape: SampleShape;
  all(dir: string | undefined): Promise<DatasetSplits>;
  test(dir: string | undefined): Promise<Dataset>;
}

/** The formats deepr reads by name (--dataset). */
const bundled: Record<string, Source> = {
  mnist: { name: "MNIST", needsDir: false, shape: { classes: 10 }, all: loadMnist, test: loadMnistTest },
  cifar10: {
    name: "CIFAR-10",
    needsDir: true,
    shape: { features: 3 * 32 * 32, classes: 10 },
    all: (dir) => loadCifar10(dir!),
    test: (dir) => loadCifar10Test(dir!),
  },
};

/** --dataset as given, else "file" when --data names the user's own files, else "mnist". */
function sourceName(flags: Flags): string {
  const chosen = flags.choice<string>("dataset");
  if (chosen !== undefined) return chosen;
  const data = flags.text("data");
  return data !== undefined && isOwnData(data) ? "file" : "mnist";
}

/** A .csv, .tsv or .npy file, or a directory holding x_train.npy. */
function isOwnData(path: string): boolean {
  if (/\.(csv|tsv|npy)$/i.test(path)) return true;
  return existsSync(path) && statSync(path).isDirectory() && existsSync(join(path, "x_train.npy"));
}

function source(flags: Flags): Source {
  const name = sourceName(flags);
  if (name === "file") {
    if (!flags.has("data"))
      throw new UsageError("--dataset file needs --data PATH: a .csv or .tsv file, a .npy inputs file with --labels, or a directory of x_train.npy and y_train.npy");
    const data = flags.text("data")!;
    if (/\.npy$/i.test(data) && !flags.has("labels") && !flags.has("targets"))
      throw new UsageError(`--data ${data} holds inputs only; give the .npy file of its labels with --labels FILE (or its float targets with --targets FILE)`);
    const options = fileOptions(flags);
    const load = async () => {
      try {
        return await loadDataFile(data, options);
      } catch (e) {
        throw flagError(e, { flags, origin: "the default", values: { ...options } });
      }
    };
    return { name: "data", needsDir: true, shape: {}, all: load, test: async () => (await load()).test };
  }
  const given = FILE_FLAGS.find((flag) => flags.has(flag));
  if (given) throw new UsageError(`--${given} applies to your own data files (--data FILE.csv, FILE.npy or a directory of .npy files), not to --dataset ${name}`);
  const chosen = bundled[name];
  if (chosen.needsDir && !flags.has("data"))
    throw new UsageError(`--dataset ${name} needs --data DIR: ${chosen.name} is not bundled; download the binary version and point at it`);
  return chosen;
}

/** The source of a classifier's data set: --targets belongs to regression models. */
function classifierSource(flags: Flags): Source {
  if (flags.has("targets"))
    throw new UsageError(
      "--targets gives a regression model's float targets, but this model is a classifier; give class labels with --labels, " +
        "or train a --model FILE.json whose head is mean_squared_error",
    );
  return source(flags);
}

/** loadDataFile's options from the flags. The split's seed stays the default, so eval sees train's test part. */
function fileOptions(flags: Flags): DataFileOptions {
  const options: DataFileOptions = {};
  const labels = flags.text("labels"), column = flags.text("label-column"), normalize = flags.text("normalize");
  if (labels !== undefined) options.labels = labels;
  if (column !== undefined) options.labelColumn = /^\d+$/.test(column) ? Number(column) : column;
  if (normalize !== undefined) options.normalize = normalization(normalize);
  const fraction = flags.number("test-fraction");
  if (fraction !== undefined) options.testFraction = fraction;
  return options;
}

function normalization(text: string): Normalization {
  if (text === "none" || text === "minmax" || text === "standard") return text;
  const range = text.split(",").map(Number);
  if (range.length === 2 && range.every(Number.isFinite) && range[0] < range[1]) return [range[0], range[1]];
  throw new UsageError(`--normalize must be none, minmax, standard or LOW,HIGH (a known range such as 0,255), got ${JSON.stringify(text)}`);
}

/** How the data was chosen, for messages: "--dataset mnist" or "--data PATH". */
export function dataFlags(flags: Flags): string {
  return sourceName(flags) === "file" ? `--data ${flags.text("data")}` : `--dataset ${sourceName(flags)}`;
}

/** Whether --data names the user's own files (then the network's default widths come from them). */
export function ownData(flags: Flags): boolean {
  return sourceName(flags) === "file";
}

/** The shape of the samples, as far as it is known before loading them. */
export function sampleShape(flags: Flags): SampleShape {
  return source(flags).shape;
}

/** "MNIST (bundled)", "CIFAR-10 from DIR" or "data from FILE", for messages. */
export function dataName(flags: Flags): string {
  const dir = flags.text("data");
  return `${source(flags).name} ${dir === undefined ? "(bundled)" : `from ${dir}`}`;
}

/** Training and test split; says on a terminal that it is loading, which takes a second or two. */
export async function loadSplits(flags: Flags): Promise<DatasetSplits> {
  const { all } = classifierSource(flags);
  const done = status(process.stderr, `loading ${dataName(flags)} ...`);
  try {
    return await all(flags.text("data"));
  } finally {
    done();
  }
}

/** The test split alone (eval needs nothing else). */
export async function loadTestSplit(flags: Flags): Promise<Dataset> {
  const { test } = classifierSource(flags);
  const done = status(process.stderr, `loading the ${dataName(flags)} test split ...`);
  try {
    return await test(flags.text("data"));
  } finally {
    done();
  }
}

/** Whether the model's head is mean_squared_error: it trains on float targets, not labels. */
export function regressionModel(options: NormalizedModelOptions): boolean {
  const last = options.layers.at(-1);
  return typeof last === "object" && last.kind === "mean_squared_error";
}

/** Training and test split of the user's own files for a regression model: float targets, no classes. */
export async function loadRegressionSplits(flags: Flags): Promise<RegressionSplits> {
  const data = flags.text("data");
  if (sourceName(flags) !== "file" || data === undefined)
    throw new UsageError(
      `a regression model (a mean_squared_error head) trains on your own .npy files, not on ${dataFlags(flags)}: ` +
        "give --data FILE.npy --targets FILE.npy, or --data DIR of x_train.npy and y_train.npy with float targets",
    );
  for (const flag of ["labels", "label-column"] as const)
    if (flags.has(flag)) throw new UsageError(`--${flag} names class labels, but a regression model (a mean_squared_error head) trains on float targets; give them with --targets FILE.npy`);
  if (/\.npy$/i.test(data) && !flags.has("targets"))
    throw new UsageError(`--data ${data} holds inputs only; give the .npy file of its float targets with --targets FILE`);
  const options: RegressionFileOptions = {};
  const targets = flags.text("targets"), normalize = flags.text("normalize"), fraction = flags.number("test-fraction");
  if (targets !== undefined) options.targets = targets;
  if (normalize !== undefined) options.normalize = normalization(normalize);
  if (fraction !== undefined) options.testFraction = fraction;
  const done = status(process.stderr, `loading ${dataName(flags)} ...`);
  try {
    return await loadRegressionFile(data, options);
  } catch (e) {
    throw flagError(e, { flags, origin: "the default", values: { ...options } });
  } finally {
    done();
  }
}

/** The test split of the user's regression data (eval needs nothing else). */
export async function loadRegressionTestSplit(flags: Flags): Promise<RegressionSamples> {
  return (await loadRegressionSplits(flags)).test;
}
