// The break-even density the benchmarks report (bench/common.mjs): where deepr's step time,
// measured over a sweep of connectivities, crosses the fastest dense step.
import { describe, expect, it } from "vitest";
// @ts-expect-error: the benchmark helpers are plain JavaScript modules without declarations
import { breakEvenDensity } from "../bench/common.mjs";

describe("breakEvenDensity", () => {
  it("recovers the crossing of a step time linear in the connectivity, whatever the order of the sweep", () => {
    // t(p) = 40 µs + 900 µs × p crosses a 250 µs dense step at p = 210 / 900.
    const sweep = [0.5, 0.01, 0.2, 0.05, 0.3, 0.1].map((p) => [p, 40 + 900 * p]);
    const r = breakEvenDensity(sweep, 250);
    expect(r.value).toBeCloseTo(210 / 900, 12);
    expect(r.text).toBe("≈ 23.3 % (between 20 % and 30 %)");
    expect(r.below ?? r.above).toBeUndefined();
  });

  it("interpolates between the two densities around the crossing only", () => {
    // Piecewise: the segment from (0.1, 100) to (0.2, 300) holds the 200 µs crossing, at 0.15.
    expect(breakEvenDensity([[0.01, 20], [0.1, 100], [0.2, 300], [0.5, 5000]], 200).value).toBeCloseTo(0.15, 12);
  });

  it("says when deepr is faster or slower than the dense step at every density measured", () => {
    expect(breakEvenDensity([[0.01, 10], [0.5, 90]], 100)).toEqual({ text: "> 50 % (deepr is faster at every density measured)", value: 0.5, above: true });
    expect(breakEvenDensity([[0.2, 150], [0.01, 120]], 100)).toEqual({ text: "< 1 % (deepr is slower at every density measured)", value: 0.01, below: true });
  });

  it("has no value without a dense step or a sweep", () => {
    expect(breakEvenDensity([[0.1, 50]], undefined)).toEqual({ text: "–" });
    expect(breakEvenDensity([], 100)).toEqual({ text: "–" });
  });
});
