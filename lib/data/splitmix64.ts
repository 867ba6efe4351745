// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", OOPSLA 2014):
// a 64-bit state advanced by a fixed odd increment, each output a bijective mix of the state. It is
// small, fully specified and the same on every platform, so a seed names one data split everywhere.

const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;
const MASK = (1n << 64n) - 1n;

/** A SplitMix64 generator seeded with `seed` (an integer in [0, 2^64)). */
export class SplitMix64 {
  #state: bigint;

  constructor(seed: number | bigint) {
    this.#state = BigInt(seed) & MASK;
  }

  /** The next 64-bit output. */
  next(): bigint {
    this.#state = (this.#state + GOLDEN_GAMMA) & MASK;
    let z = this.#state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    return z ^ (z >> 31n);
  }

  /** A uniform integer in [0, bound), bound <= 2^32, by rejection so that no value is favoured. */
  below(bound: number): number {
    const range = BigInt(bound);
    // The largest multiple of `range` that fits in 64 bits: outputs at or past it would bias the modulo.
    const limit = (MASK + 1n) - ((MASK + 1n) % range);
    for (;;) {
      const x = this.next();
      if (x < limit) return Number(x % range);
    }
  }
}

/** The permutation of 0..count-1 drawn by a Fisher–Yates shuffle with SplitMix64(seed). */
export function shuffledIndices(count: number, seed: number): Uint32Array {
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const random = new SplitMix64(seed);
  for (let i = count - 1; i > 0; i--) {
    const j = random.below(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
