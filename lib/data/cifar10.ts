import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { entry } from "./paths.js";
import { shapedDataset } from "./arrays.js";
import type { Dataset, DatasetSplits } from "./dataset.js";
import { DataFormatError } from "./idx.js";
import { nonEmptyString } from "../options.js";
import { allInOrder } from "./all-in-order.js";

// One image: 3 channels (red, green, blue) of 32 x 32 pixels, channel-major.
const IMAGE_SHAPE = [3, 32, 32];
const PIXELS = IMAGE_SHAPE.reduce((a, b) => a * b);
const RECORD = 1 + PIXELS;
const CLASSES = 10;
const TRAIN_FILES = [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`);
const TEST_FILE = "test_batch.bin";
// The binary archive (cifar-10-binary.tar.gz) extracts into this folder.
const SUBFOLDER = "cifar-10-batches-bin";
const DOWNLOAD_HINT = "download cifar-10-binary.tar.gz (the binary version) from https://www.cs.toronto.edu/~kriz/cifar.html and extract it there";

/** The samples of one CIFAR-10 batch file, laid out as in `Dataset`. */
export interface Cifar10Batch {
  readonly inputs: Float32Array;
  readonly labels: Int32Array;
  readonly count: number;
}

/**
 * Parses one CIFAR-10 binary batch: records of 1 label byte then 3072 pixel bytes
 * (1024 red, 1024 green, 1024 blue, each 32×32 row-major). Features keep that channel-major order.
 */
export function parseCifar10Batch(bytes: Uint8Array, source: string): Cifar10Batch {
  const count = checkBatch(bytes, source);
  const inputs = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  decodeInto(bytes, inputs, labels, 0);
  return { inputs, labels, count };
}

/** Loads the CIFAR-10 binary version from `dir` or from its `cifar-10-batches-bin` subfolder. Pixels are scaled to [0, 1]. */
export async function loadCifar10(dir: string): Promise<DatasetSplits> {
  const root = await cifar10Root(dir);
  const [train, test] = await allInOrder([loadSplit(root, TRAIN_FILES), loadSplit(root, [TEST_FILE])]);
  return { train, test };
}

/** Loads only the CIFAR-10 test split (`test_batch.bin`), from `dir` as {@link loadCifar10}. */
export async function loadCifar10Test(dir: string): Promise<Dataset> {
  return loadSplit(await cifar10Root(dir), [TEST_FILE]);
}

async function cifar10Root(dir: string): Promise<string> {
  nonEmptyString("dir", dir);
  return (await entry(join(dir, SUBFOLDER)))?.isDirectory() ? join(dir, SUBFOLDER) : dir;
}

// Validates every file before allocating, and decodes straight into the split's arrays so the
// 600 MB training inputs exist once rather than once per batch plus once concatenated.
async function loadSplit(root: string, names: string[]): Promise<Dataset> {
  const files = await allInOrder(names.map((name) => readBatchFile(root, name)));
  const counts = files.map(({ path, bytes }) => checkBatch(bytes, path));
  const count = counts.reduce((a, b) => a + b, 0);
  const inputs = new Float32Array(count * PIXELS);
  const labels = new Int32Array(count);
  let first = 0;
  files.forEach(({ bytes }, i) => {
    decodeInto(bytes, inputs, labels, first);
    first += counts[i];
  });
  return shapedDataset({ inputs, labels, sampleShape: IMAGE_SHAPE, classes: CLASSES });
}

/** Returns the number of records after checking the length and every label. */
function checkBatch(bytes: Uint8Array, source: string): number {
  if (bytes.length === 0 || bytes.length % RECORD !== 0) {
    throw new DataFormatError(
      `${source}: ${bytes.length} bytes is not a positive multiple of the ${RECORD}-byte CIFAR-10 record (1 label byte + ${PIXELS} pixel bytes); the file is truncated or is not a CIFAR-10 binary batch (the Python and CIFAR-100 versions differ).`,
    );
  }
  const count = bytes.length / RECORD;
  for (let r = 0; r < count; r++) {
    const label = bytes[r * RECORD];
    if (label >= CLASSES) {
      throw new DataFormatError(`${source}: record ${r} has label ${label}, outside 0..${CLASSES - 1}; the file is corrupt or is not CIFAR-10.`);
    }
  }
  return count;
}

function decodeInto(bytes: Uint8Array, inputs: Float32Array, labels: Int32Array, first: number): void {
  const count = bytes.length / RECORD;
  for (let r = 0; r < count; r++) {
    const from = r * RECORD;
    const to = (first + r) * PIXELS;
    labels[first + r] = bytes[from];
    for (let p = 0; p < PIXELS; p++) inputs[to + p] = bytes[from + 1 + p] / 255;
  }
}

async function readBatchFile(root: string, name: string): Promise<{ path: string; bytes: Uint8Array }> {
  const path = join(root, name);
  try {
    return { path, bytes: await readFile(path) };
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT")
      throw new DataFormatError(`CIFAR-10 file ${name} not found in ${root}; ${DOWNLOAD_HINT}.`, { cause });
    // Node's message for some of these (EISDIR) does not say which file.
    throw new DataFormatError(`${path}: cannot read the file (${(cause as Error).message})`, { cause });
  }
}
