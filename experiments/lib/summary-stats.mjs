// What the experiments' summary tables print: the median and mean over seeds, and a fraction as a percentage.

export function median(values) {
  const s = [...values].sort((a, b) => a - b), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;

export const pct = (x) => `${(100 * x).toPrecision(3)} %`;
