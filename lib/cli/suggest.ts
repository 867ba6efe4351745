// "Did you mean": the closest known name to a mistyped one, by edit distance.

/**
 * Edit distance counting an insertion, a deletion, a substitution or a swap of two neighbouring
 * characters as 1 each (optimal string alignment), so "trian" is 1 away from "train".
 */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

/**
 * The candidate nearest to `name`, when it is near enough to be a typo: at most a third of the
 * longer word's length away (at least 1, at most 3 edits), so unrelated words are not suggested.
 */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined, bestDistance = Infinity;
  for (const candidate of candidates) {
    const limit = Math.min(3, Math.max(1, Math.floor(Math.max(name.length, candidate.length) / 3)));
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d <= limit && d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

/** "; did you mean X?" for a mistyped name, or "" when nothing is close. */
export function didYouMean(name: string, candidates: readonly string[], show = (c: string) => c): string {
  const match = closest(name, candidates);
  return match === undefined ? "" : `; did you mean ${show(match)}?`;
}
