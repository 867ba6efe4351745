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
}

/** Training and test split of one data set, as the loaders return it. */
export interface DatasetSplits {
  readonly train: Dataset;
  readonly test: Dataset;
}
