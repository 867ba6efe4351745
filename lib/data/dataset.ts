import { datasetFromArrays, type DatasetArrays } from "./arrays.js";
import { normalizeData, scalingOf, type Normalization, type Scaling } from "./normalize.js";
import { splitDataset, type SplitOptions } from "./split.js";

/**
 * A labelled classification data set held in memory.
 *
 * Inputs are row-major: sample `n` occupies `inputs[n * features .. (n + 1) * features)`.
 * The native core reads these buffers directly, so they must stay float32 / int32.
 */
export interface Dataset {
  /** `count × features` float32 values, row-major. */
  readonly inputs: Float32Array;
  /** One class index per sample, each in `[0, classes)`. */
  readonly labels: Int32Array;
  readonly count: number;
  readonly features: number;
  readonly classes: number;
  /**
   * The shape of one sample, row-major, e.g. `[features]` for flat data or `[channels, height, width]`
   * for images; its product is `features`. Absent means `[features]`.
   */
  readonly shape?: readonly number[];
  /** The name of each class when the source labelled samples by name (a CSV file): class i is `classNames[i]`. */
  readonly classNames?: readonly string[];
}

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
  split(data: Dataset, options?: SplitOptions): DatasetSplits;
  /** Rescaled copies; a split is rescaled with its training part's statistics. */
  normalize(data: Dataset, method: Normalization): Dataset;
  normalize(splits: DatasetSplits, method: Normalization): DatasetSplits;
  /** The map `normalize` applies, for inputs given to predict() later. */
  scaling(data: Dataset, method: Normalization): Scaling;
}

export const Dataset: DatasetHelpers = {
  fromArrays: datasetFromArrays,
  split: splitDataset,
  normalize: normalizeData,
  scaling: scalingOf,
};
