import { datasetFromArrays, type DatasetArrays } from "./arrays.js";
import { normalizeData, scalingOf, type Normalization, type Scaling } from "./normalize.js";
import { splitDataset, type SplitOptions } from "./split.js";

/** Samples held in memory, without labels: what predict() takes besides a bare Float32Array. */
export interface Samples {
  /** Row-major: sample `n` occupies `inputs[n * size .. (n + 1) * size)`, size the product of `sampleShape`. */
  readonly inputs: Float32Array;
  /**
   * The shape of one sample, row-major: `[features]` for flat data, `[channels, height, width]`
   * for images, `[time, features]` for sequences. Its product is the values per sample, which a
   * model's input size must equal.
   */
  readonly sampleShape: readonly number[];
}

/** Samples with one class index each: what Model.fit() and evaluate() take. */
export interface LabelledSamples extends Samples {
  /** One class index per sample, each in `[0, classes)`. */
  readonly labels: Int32Array;
}

/**
 * A labelled classification data set held in memory, as the loaders and the Dataset helpers
 * return it. The native core reads these buffers directly, so they must stay float32 / int32.
 */
export interface Dataset extends LabelledSamples {
  readonly count: number;
  /** Values per sample: the product of `sampleShape`. */
  readonly features: number;
  readonly classes: number;
  /** @deprecated `sampleShape`, under the name it had before models took it. */
  readonly shape?: readonly number[];
  /** The name of each class when the source labelled samples by name (a CSV file): class i is `classNames[i]`. */
  readonly classNames?: readonly string[];
}

/**
 * A data set in the form it had before sample shapes: flat samples of `features` values.
 * Model.fit() and evaluate() still take it.
 */
export type FlatDataset = Omit<Dataset, "sampleShape">;

/** What Model.fit() and evaluate() take: labelled samples with their shape, such as any Dataset, or a FlatDataset. */
export type LabelledData = LabelledSamples | FlatDataset;

/** Training and test split of one data set, as the loaders return it. */
export interface DatasetSplits {
  readonly train: Dataset;
  readonly test: Dataset;
}

/** Building, splitting and normalising data sets from the user's own arrays (the value `Dataset`). */
export interface DatasetHelpers {
  /** A data set from plain or typed arrays; every value is checked (see README, "Your own data"). */
  fromArrays(arrays: DatasetArrays): Dataset;
  /** A seeded split into training and test parts, each in the original sample order. */
  split(data: Dataset | FlatDataset, options?: SplitOptions): DatasetSplits;
  /** Rescaled copies; a split is rescaled with its training part's statistics. */
  normalize(data: Dataset | FlatDataset, method: Normalization): Dataset;
  normalize(splits: DatasetSplits, method: Normalization): DatasetSplits;
  /** The map `normalize` applies, for inputs given to predict() later. */
  scaling(data: Dataset | FlatDataset, method: Normalization): Scaling;
}

export const Dataset: DatasetHelpers = {
  fromArrays: datasetFromArrays,
  split: splitDataset,
  normalize: normalizeData,
  scaling: scalingOf,
};
