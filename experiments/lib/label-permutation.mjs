// The label permutations of the transfer experiment (Bellec et al. 2018, sec. 4): every task after
// the first assigns the classes to the output units by a new uniformly random permutation, drawn
// from a stream seeded by (seed, task) so that a run is reproducible and tasks are independent.

/** The permutation of `classes` labels for task `task` (1, 2, ...) of the run seeded `seed`: task 1 is the identity. */
export function labelPermutation(seed, task, classes = 10) {
  const permutation = Int32Array.from({ length: classes }, (_, c) => c);
  if (task === 1) return permutation;
  const next = uniformStream(seed, task);
  // Fisher-Yates: each of the classes! orders equally likely.
  for (let i = classes - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [permutation[i], permutation[j]] = [permutation[j], permutation[i]];
  }
  return permutation;
}

/** `labels` with every class c replaced by permutation[c], as a new array. */
export function permuteLabels(labels, permutation) {
  return labels.map((c) => permutation[c]);
}

// Uniform numbers in [0, 1) from a 64-bit state stepped by the golden-ratio increment and mixed
// by two multiply-xorshift rounds (a counter-based generator: the state only counts).
function uniformStream(seed, task) {
  const MASK = (1n << 64n) - 1n;
  let state = (BigInt(seed) * 0x9e3779b97f4a7c15n + BigInt(task) * 0xbf58476d1ce4e5b9n) & MASK;
  return () => {
    state = (state + 0x9e3779b97f4a7c15n) & MASK;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    z ^= z >> 31n;
    return Number(z >> 11n) / 2 ** 53;
  };
}
