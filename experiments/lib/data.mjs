// The experiments' data: MNIST as images (the mlp and the cnn), MNIST read row by row (the lstm),
// CIFAR-10 or the user's own sequences, each from `dir` or the copy bundled with deepr, cut to the
// first samples for the quick runs.
import { existsSync } from "node:fs";
import { basename, join } from "node:path";
import { loadCifar10, loadDataFile, loadMnist, loadSequentialMnist } from "../../dist/index.js";

/** MNIST images from `dir` (or the bundled copy), cut to the first `trainCount` and `testCount` samples when given. */
export async function mnist({ dir, trainCount, testCount } = {}) {
  return firstOfEach(await loadMnist(dir), trainCount, testCount);
}

/**
 * Sequences for the lstm: the user's own when `dir` holds x_train.npy, y_train.npy, x_test.npy and
 * y_test.npy (inputs of shape [samples, time steps, features]), else MNIST as 28 time steps of 28 pixels; cut as mnist().
 */
export async function sequencesFor({ dir, trainCount, testCount } = {}) {
  if (dir !== undefined && existsSync(join(dir, "x_train.npy"))) return { name: basename(dir), ...firstOfEach(await loadDataFile(dir), trainCount, testCount) };
  return { name: "sequential MNIST", ...firstOfEach(await loadSequentialMnist(dir), trainCount, testCount) };
}

/** CIFAR-10 when `dir` holds its binary batches (data_batch_1.bin ...), else MNIST images; cut as mnist(). */
export async function imagesFor({ dir, trainCount, testCount } = {}) {
  if (dir !== undefined && existsSync(join(dir, "data_batch_1.bin"))) return { name: "CIFAR-10", ...firstOfEach(await loadCifar10(dir), trainCount, testCount) };
  return { name: "MNIST", ...(await mnist({ dir, trainCount, testCount })) };
}

function firstOfEach({ train, test }, trainCount, testCount) {
  return { train: firstSamples(train, trainCount), test: firstSamples(test, testCount) };
}

/** The first `n` samples of `split` (all of them when n is undefined or not smaller). */
export function firstSamples(split, n) {
  if (n === undefined || n >= split.count) return split;
  return { ...split, count: n, inputs: split.inputs.subarray(0, n * split.features), labels: split.labels.subarray(0, n) };
}
