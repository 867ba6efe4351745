// Training-time augmentation of image samples [channels, height, width] by random crops and
// horizontal flips (options crop and flip of fit()): each epoch trains on a copy of the inputs in
// which every image is padded with `crop` zeros on each side and cut back to its size at a random
// offset, then mirrored left-right with probability 1/2. The draws come from a SplitMix64 stream
// of the model's seed and the epoch, taken sample by sample in data set order, so a seeded run
// draws the same images every time and a run resumed mid-epoch rebuilds that epoch's images
// exactly. One buffer serves every epoch of a fit(), filled in time slices between which the
// event loop runs.
import type { CheckedData } from "./data-checks.js";
import { SplitMix64 } from "./data/splitmix64.js";

/** The augmentation settings of a fit(): pad-and-crop margin (0: none) and whether to flip. */
export interface AugmentationSettings {
  readonly crop: number;
  readonly flip: boolean;
}

/** The transformation drawn for each sample of one epoch. */
export interface AugmentationDraws {
  /** Row and column of the crop window in the padded image, each in [0, 2 * crop]; crop at (crop, crop) is the image itself. */
  readonly top: Uint16Array;
  readonly left: Uint16Array;
  /** 1 where the sample is mirrored left-right. */
  readonly flipped: Uint8Array;
}

// Keeps the augmentation's stream apart from the other uses of the seed (the data split's shuffle).
const STREAM_SALT = 0x6175676d656e74n;  // "augment"
// Filling yields to the event loop after about this long.
const SLICE_MS = 2;

/** The stream of epoch `epoch` under model seed `seed`: a SplitMix64 started at a mix of both. */
function epochStream(seed: number, epoch: number): SplitMix64 {
  const base = new SplitMix64(BigInt(seed) ^ STREAM_SALT).next();
  return new SplitMix64(new SplitMix64(base ^ BigInt(epoch)).next());
}

/** Draws one sample's transformation from `stream`: the crop's row, then its column, then the flip. */
function drawOne(stream: SplitMix64, { crop, flip }: AugmentationSettings): [number, number, number] {
  const top = crop > 0 ? stream.below(2 * crop + 1) : 0;
  const left = crop > 0 ? stream.below(2 * crop + 1) : 0;
  return [top, left, flip ? stream.below(2) : 0];
}

/** The transformations of the `count` samples of epoch `epoch`, in data set order. */
export function augmentationDraws(seed: number, epoch: number, count: number, settings: AugmentationSettings): AugmentationDraws {
  const stream = epochStream(seed, epoch);
  const draws = { top: new Uint16Array(count), left: new Uint16Array(count), flipped: new Uint8Array(count) };
  for (let n = 0; n < count; n++) [draws.top[n], draws.left[n], draws.flipped[n]] = drawOne(stream, settings);
  return draws;
}

/**
 * Writes sample `n` of `source` into `target`, cropped at (top, left) of the image padded by
 * `crop` zeros and, when `flipped`, mirrored: out[c][y][x] = in[c][y + top - crop][x' + left - crop]
 * with x' = width - 1 - x when flipped, else x, and 0 outside the image.
 */
function augmentSample(
  source: Float32Array, target: Float32Array, n: number, [channels, height, width]: readonly number[], crop: number, top: number, left: number, flipped: number,
): void {
  const size = channels * height * width;
  for (let c = 0; c < channels; c++) {
    const plane = n * size + c * height * width;
    for (let y = 0; y < height; y++) {
      const out = plane + y * width;
      const sy = y + top - crop;
      if (sy < 0 || sy >= height) {
        target.fill(0, out, out + width);
        continue;
      }
      const row = plane + sy * width;
      for (let x = 0; x < width; x++) {
        const sx = (flipped ? width - 1 - x : x) + left - crop;
        target[out + x] = sx >= 0 && sx < width ? source[row + sx] : 0;
      }
    }
  }
}

/**
 * The image shape [channels, height, width] `sampleShape` must be for `settings`; a RangeError
 * naming the option when the samples are not images or `crop` is not smaller than the image.
 */
export function imageShape(sampleShape: readonly number[], settings: AugmentationSettings): readonly number[] {
  const option = settings.crop > 0 ? "crop" : "flip";
  if (sampleShape.length !== 3)
    throw new RangeError(
      `options.${option} augments images, but the samples have shape [${sampleShape.join(", ")}]; ` +
        "give image data with a sample shape [channels, height, width] (e.g. loadCifar10, or Dataset.fromArrays with shape), or leave crop and flip out",
    );
  const [, height, width] = sampleShape;
  if (settings.crop >= Math.min(height, width))
    throw new RangeError(`options.crop is ${settings.crop}, but the images are ${height} x ${width}; give a margin smaller than their height and width`);
  return sampleShape;
}

/**
 * Returns the augmented inputs of each epoch of a fit() on `data`, whose samples have image shape
 * `shape`: `data` with its inputs replaced by one buffer, allocated at the first epoch and refilled for each.
 */
export function epochAugmenter(
  data: CheckedData, shape: readonly number[], settings: AugmentationSettings, seed: number,
): (epoch: number, signal?: AbortSignal) => Promise<CheckedData> {
  let augmented: CheckedData | undefined;
  return async (epoch, signal) => {
    augmented ??= { ...data, inputs: new Float32Array(data.inputs.length) };
    const { inputs } = augmented;
    const stream = epochStream(seed, epoch);
    let deadline = performance.now() + SLICE_MS;
    for (let n = 0; n < data.count; n++) {
      if (performance.now() >= deadline) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        signal?.throwIfAborted();
        deadline = performance.now() + SLICE_MS;
      }
      const [top, left, flipped] = drawOne(stream, settings);
      augmentSample(data.inputs, inputs, n, shape, settings.crop, top, left, flipped);
    }
    return augmented;
  };
}
