import type { Dataset, DatasetSplits } from "./dataset.js";
import { shapedDataset } from "./arrays.js";
import { loadMnist, loadMnistTest } from "./mnist.js";

/**
 * Sequential MNIST: each image read row by row as a sequence of 28 time steps of 28 pixels
 * (sampleShape [28, 28], [time, features]), the recurrent task of an LSTM. Loaded from `dir` or
 * the bundled copy as {@link loadMnist}; the pixels are the same values in the same order, only
 * the shape differs.
 */
export async function loadSequentialMnist(dir?: string): Promise<DatasetSplits> {
  const { train, test } = await loadMnist(dir);
  return { train: asSequences(train), test: asSequences(test) };
}

/** Only the test split of {@link loadSequentialMnist} (the two `t10k` files). */
export async function loadSequentialMnistTest(dir?: string): Promise<Dataset> {
  return asSequences(await loadMnistTest(dir));
}

/** An image data set [1, rows, cols] as sequences of its rows: [rows, cols], sharing the buffers. */
function asSequences(images: Dataset): Dataset {
  const [, rows, cols] = images.sampleShape;
  return shapedDataset({ inputs: images.inputs, labels: images.labels, sampleShape: [rows, cols], classes: images.classes });
}
