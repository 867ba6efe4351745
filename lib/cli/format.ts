// Number formats shared by the commands' human-readable output.

/** 0.9683 -> "96.83 %"; "-" when there is no value (no test split evaluated). */
export function percent(x: number | undefined): string {
  return x === undefined ? "-" : `${(100 * x).toFixed(2)} %`;
}
