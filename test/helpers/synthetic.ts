// Small generated data sets for tests: learnable, deterministic, independent of the library.
import type { Dataset } from "../../lib/data/dataset.js";

/** A stream of uniform values in [0, 1) from a 32-bit xorshift generator (13, 17, 5) seeded with `seed` (0 counts as 1). */
export function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

/** `count` samples of `features` values; the class is which of `classes` feature groups is brightest. */
export function blobs(count: number, features: number, classes: number, seed = 1): Dataset {
  const random = xorshift(seed);
  const inputs = new Float32Array(count * features);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    const label = n % classes;
    labels[n] = label;
    for (let i = 0; i < features; i++) inputs[n * features + i] = random() * 0.5 + (i % classes === label ? 0.6 : 0);
  }
  return { inputs, labels, count, features, classes };
}
