import { describe, expect, it } from "vitest";
import { loadCsv, parseCsv } from "../lib/data/csv.js";
import { loadDataFile } from "../lib/data/data-file.js";
import { Dataset } from "../lib/data/dataset.js";
import { DataFormatError } from "../lib/data/idx.js";
import { Scaling } from "../lib/data/normalize.js";
import { loadNpy } from "../lib/data/npy.js";
import { SplitMix64, shuffledIndices } from "../lib/data/splitmix64.js";

/** `count` samples of 3 features whose first feature is the sample's index, so a sample can be traced through a split. */
function traced(count: number): Dataset {
  const inputs = Array.from({ length: count }, (_, n) => [n, n % 7, (n * 13) % 5]);
  return Dataset.fromArrays({ inputs, labels: inputs.map((_, n) => n % 3) });
}

describe("Dataset.fromArrays", () => {
  it("builds a data set from one array per sample", () => {
    const data = Dataset.fromArrays({ inputs: [[1, 2, 3], [4.5, -5, 6]], labels: [2, 0] });
    expect(Array.from(data.inputs)).toEqual([1, 2, 3, 4.5, -5, 6]);
    expect(Array.from(data.labels)).toEqual([2, 0]);
    expect(data).toMatchObject({ count: 2, features: 3, classes: 3, shape: [3] });
  });

  it("builds from flat values with a sample shape, and from rows of typed arrays", () => {
    const flat = Dataset.fromArrays({ inputs: Array.from({ length: 24 }, (_, i) => i), labels: [0, 1], shape: [3, 2, 2] });
    expect(flat).toMatchObject({ count: 2, features: 12, shape: [3, 2, 2] });
    expect(flat.inputs[13]).toBe(13);
    const rows = Dataset.fromArrays({ inputs: [Float64Array.of(0.5, 1), Uint8Array.of(7, 255)], labels: Uint8Array.of(1, 0) });
    expect(Array.from(rows.inputs)).toEqual([0.5, 1, 7, 255]);
  });

  it("converts every typed array kind to float32 values, rounding float64 as Math.fround does", () => {
    const values = [0, 1, 2, 100, 127];
    for (const Kind of [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, Float64Array]) {
      const data = Dataset.fromArrays({ inputs: Kind.from(values), labels: [0, 1, 0, 1, 1] });
      expect(Array.from(data.inputs)).toEqual(values);
      expect(data.features).toBe(1);
    }
    const third = Dataset.fromArrays({ inputs: Float64Array.of(1 / 3, 2 / 3), labels: [0, 1] });
    expect(Array.from(third.inputs)).toEqual([Math.fround(1 / 3), Math.fround(2 / 3)]);
  });

  it("uses a Float32Array and an Int32Array as they are, without copying", () => {
    const inputs = Float32Array.of(1, 2, 3, 4);
    const labels = Int32Array.of(0, 1);
    const data = Dataset.fromArrays({ inputs, labels, classes: 5 });
    expect(data.inputs).toBe(inputs);
    expect(data.labels).toBe(labels);
    expect(data.classes).toBe(5);
  });

  it.each([
    [{ inputs: [[1], [2]], labels: "ab" }, TypeError, /labels must be an array/],
    [{ inputs: [[1], [2]], labels: [0, 1.5] }, RangeError, /labels\[1\] is 1\.5/],
    [{ inputs: [[1], [2]], labels: [0, -1] }, RangeError, /labels\[1\] is -1/],
    [{ inputs: [[1], [2]], labels: [0, "1"] }, TypeError, /labels\[1\] must be a number, got "1"/],
    [{ inputs: [], labels: [] }, RangeError, /labels is empty/],
    [{ inputs: [[1], [2]], labels: [0, 0] }, RangeError, /every label is 0/],
    [{ inputs: [[1], [2]], labels: [0, 3], classes: 3 }, RangeError, /labels\[1\] is 3 but classes is 3/],
    [{ inputs: [[1], [2]], labels: [0, 1], classes: 1 }, RangeError, /classes must be an integer in \[2,/],
    [{ inputs: [[1, 2], [3]], labels: [0, 1] }, RangeError, /inputs\[1\] has 1 values but inputs\[0\] has 2/],
    [{ inputs: [[1, 2], [3, NaN]], labels: [0, 1] }, RangeError, /inputs\[1\]\[1\] is NaN; inputs must be finite/],
    [{ inputs: [[1, 2], [3, "4"]], labels: [0, 1] }, TypeError, /inputs\[1\]\[1\] must be a number, got "4"/],
    [{ inputs: [[1, 2], 5], labels: [0, 1] }, TypeError, /inputs\[1\] must be an array of numbers, got 5/],
    [{ inputs: [[1], [2], [3]], labels: [0, 1] }, RangeError, /inputs has 3 samples but labels has 2/],
    [{ inputs: [1, 2, 3], labels: [0, 1] }, RangeError, /inputs has 3 values, not a whole number of features for the 2 samples/],
    [{ inputs: [1, 2, 3, 4], labels: [0, 1], shape: [3] }, RangeError, /shape \[3\] has 3 features but inputs has 2 values per sample/],
    [{ inputs: [1, 2, 3, 4], labels: [0, 1], shape: [2, 0] }, RangeError, /shape\[1\] must be an integer in \[1,/],
    [{ inputs: [1, 2, 3, 4], labels: [0, 1], shape: 2 }, TypeError, /shape must be an array/],
    [{ inputs: Float64Array.of(1, 2, 1e39, 4), labels: [0, 1] }, RangeError, /inputs\[2\] is 1e\+39, outside the float32 range/],
    [{ inputs: Float32Array.of(1, 2, Infinity, 4), labels: [0, 1] }, RangeError, /inputs\[2\] is Infinity/],
    [{ inputs: [[1], [2]], labels: [0, 1], normalise: "minmax" }, TypeError, /normalise is not an option of Dataset.fromArrays/],
    [{ inputs: "12", labels: [0, 1] }, TypeError, /inputs must be an array of samples or a flat \(typed\) array/],
  ])("rejects %o", (arrays, Kind, message) => {
    expect(() => Dataset.fromArrays(arrays as never)).toThrow(Kind);
    expect(() => Dataset.fromArrays(arrays as never)).toThrow(message);
  });
});

describe("SplitMix64", () => {
  it("gives the reference outputs of SplitMix64 seeded with 0", () => {
    // The first outputs of the published splitmix64.c (Vigna) with x = 0.
    const random = new SplitMix64(0);
    expect([random.next(), random.next(), random.next()]).toEqual([0xe220a8397b1dcdafn, 0x6e789e6aa1b965f4n, 0x06c45d188009454fn]);
  });

  it("shuffles every position evenly", () => {
    // Over 3000 seeds, each of 6 indices lands in each position about 500 times (binomial sd ~20).
    const counts = Array.from({ length: 6 }, () => new Array<number>(6).fill(0));
    for (let seed = 0; seed < 3000; seed++) shuffledIndices(6, seed).forEach((index, position) => counts[index][position]++);
    for (const row of counts) for (const count of row) expect(Math.abs(count - 500)).toBeLessThan(100);
  });
});

describe("Dataset.split", () => {
  it("splits into disjoint parts that together hold every sample once, in their original order", () => {
    const data = traced(50);
    const { train, test } = Dataset.split(data, { testFraction: 0.3, seed: 7 });
    expect([train.count, test.count]).toEqual([35, 15]);
    const ids = (d: Dataset) => Array.from({ length: d.count }, (_, n) => d.inputs[n * d.features]);
    const all = [...ids(train), ...ids(test)].sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 50 }, (_, n) => n));
    for (const part of [train, test]) {
      expect(ids(part)).toEqual([...ids(part)].sort((a, b) => a - b));
      for (let n = 0; n < part.count; n++) {
        const id = part.inputs[n * 3];
        expect([part.inputs[n * 3 + 1], part.inputs[n * 3 + 2], part.labels[n]]).toEqual([id % 7, (id * 13) % 5, id % 3]);
      }
      expect(part).toMatchObject({ features: 3, classes: 3, shape: [3] });
    }
  });

  it("gives the same split for the same seed and another for another seed", () => {
    const data = traced(40);
    const first = Dataset.split(data, { seed: 3 });
    const again = Dataset.split(data, { seed: 3 });
    const other = Dataset.split(data, { seed: 4 });
    expect(first.test.count).toBe(8); // default testFraction 0.2
    expect(Array.from(again.test.inputs)).toEqual(Array.from(first.test.inputs));
    expect(Array.from(other.test.inputs)).not.toEqual(Array.from(first.test.inputs));
    expect(Array.from(Dataset.split(data).test.inputs)).toEqual(Array.from(Dataset.split(data, { seed: 1 }).test.inputs));
  });

  it("rejects fractions that leave a part empty and bad options", () => {
    expect(() => Dataset.split(traced(10), { testFraction: 0.01 })).toThrow(/gives 0 test and 10 training samples/);
    expect(() => Dataset.split(traced(10), { testFraction: 0.97 })).toThrow(/gives 10 test and 0 training/);
    expect(() => Dataset.split(traced(10), { testFraction: 1 })).toThrow(/testFraction must be in \(0, 1\) so that both parts get samples, got 1/);
    expect(() => Dataset.split(traced(10), { testFraction: 0 })).toThrow(/testFraction must be in \(0, 1\) so that both parts get samples, got 0/);
    expect(() => Dataset.split(traced(10), { seed: -1 })).toThrow(/seed must be an integer/);
    expect(() => Dataset.split(traced(10), { testFraction: null } as never)).toThrow(/options\.testFraction must be a number, got null/);
    expect(() => Dataset.split(traced(10), { fraction: 0.5 } as never)).toThrow(/fraction is not an option of Dataset.split/);
    expect(() => Dataset.split({ inputs: [1], labels: [0] } as never)).toThrow(/data.inputs must be a Float32Array/);
  });
});

describe("Dataset.normalize", () => {
  // Features: a ramp, a constant, and large values with a small spread (where float32 sums would lose digits).
  const rows = Array.from({ length: 20 }, (_, n) => [n * 0.5 - 3, 4, 1e6 + (n % 5) * 0.25]);
  const data = Dataset.fromArrays({ inputs: rows, labels: rows.map((_, n) => n % 2) });
  const column = (f: number) => rows.map((row) => Math.fround(row[f]));

  it("minmax maps each feature's range to [0, 1] and a constant feature to 0", () => {
    const out = Dataset.normalize(data, "minmax");
    for (let f = 0; f < 3; f++) {
      const values = column(f);
      const [low, high] = [Math.min(...values), Math.max(...values)];
      rows.forEach((_, n) => expect(out.inputs[n * 3 + f]).toBeCloseTo(high > low ? (values[n] - low) / (high - low) : 0, 6));
    }
    expect(out.labels).toBe(data.labels);
    expect(Array.from(data.inputs)).toEqual(rows.flat().map(Math.fround)); // the input is left as it was
  });

  it("standard gives each feature mean 0 and standard deviation 1, against a float64 reference", () => {
    const out = Dataset.normalize(data, "standard");
    for (let f = 0; f < 3; f++) {
      const values = column(f);
      const mean = values.reduce((a, b) => a + b, 0) / values.length;
      const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
      rows.forEach((_, n) => expect(out.inputs[n * 3 + f]).toBeCloseTo(sd > 0 ? (values[n] - mean) / sd : 0, 5));
    }
  });

  it("a [low, high] range maps that range to [0, 1] for every feature", () => {
    const pixels = Dataset.fromArrays({ inputs: Uint8Array.of(0, 51, 255, 102), labels: [0, 1], shape: [2] });
    expect(Array.from(Dataset.normalize(pixels, [0, 255]).inputs)).toEqual([0, 0.2, 1, 0.4].map(Math.fround));
    expect(Dataset.normalize(pixels, "none")).toBe(pixels);
  });

  it("normalises a split with the training part's statistics only, and the scaling applies to new inputs", () => {
    const splits = Dataset.split(data, { testFraction: 0.25, seed: 2 });
    const out = Dataset.normalize(splits, "minmax");
    const scaling = Dataset.scaling(splits.train, "minmax");
    expect(scaling).toBeInstanceOf(Scaling);
    for (const part of ["train", "test"] as const) {
      const { inputs } = splits[part];
      for (let i = 0; i < inputs.length; i++) {
        const f = i % 3;
        let [low, high] = [Infinity, -Infinity];
        for (let n = 0; n < splits.train.count; n++) [low, high] = [Math.min(low, splits.train.inputs[n * 3 + f]), Math.max(high, splits.train.inputs[n * 3 + f])];
        expect(out[part].inputs[i]).toBeCloseTo(high > low ? (inputs[i] - low) / (high - low) : inputs[i] - low, 6);
      }
      expect(Array.from(scaling.apply(splits[part].inputs))).toEqual(Array.from(out[part].inputs));
      const copy = splits[part].inputs.slice();
      expect(scaling.apply(copy, copy)).toBe(copy);
      expect(Array.from(copy)).toEqual(Array.from(out[part].inputs));
    }
  });

  it("rejects an unknown method, a bad range and inputs of the wrong width", () => {
    expect(() => Dataset.normalize(data, "zscore" as never)).toThrow(/normalize must be "none", "minmax", "standard" or a \[low, high\] range, got "zscore"/);
    expect(() => Dataset.normalize(data, [1, 1])).toThrow(/must be \[low, high\] with finite low < high, got \[1, 1\]/);
    expect(() => Dataset.scaling(data, "minmax").apply(new Float32Array(4))).toThrow(/4 values, not a whole number of samples of 3 features/);
  });
});

describe("junk arguments", () => {
  let state = 77;
  const random = (n: number) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const bareFailure = /Cannot read|Cannot convert|is not a function|is not iterable|undefined \(reading/;

  it("get a TypeError or RangeError that says what is wrong, never a bare JavaScript failure (3000 seeded calls)", () => {
    const values = (): unknown[] => [
      undefined, null, 0, -1, 2, 1.5, NaN, Infinity, "3", "", {}, [], [0, 1], [[1, 2], [3, 4]], [[1], 2], [0, , 1],
      Float32Array.of(1, 2), Int32Array.of(0, 1), Uint8Array.of(1), BigInt64Array.of(1n, 2n), [1, 1], [2, 1], "minmax", "standard",
      { inputs: [[1]], labels: [1] }, { train: 1, test: 2 }, Symbol("x"), () => 1, new Map(), [undefined], [NaN, 1],
    ];
    const pick = () => values()[random(values().length)];
    const good = () => Dataset.fromArrays({ inputs: [[1, 2], [3, 4], [5, 6], [7, 8]], labels: [0, 1, 1, 0] });
    const calls: [string, () => unknown][] = [
      ["fromArrays", () => Dataset.fromArrays(random(4) === 0 ? pick() as never : { inputs: pick(), labels: pick(), ...(random(2) ? { shape: pick() } : {}), ...(random(2) ? { classes: pick() } : {}) } as never)],
      ["split", () => Dataset.split(random(3) === 0 ? pick() as never : good(), (random(3) === 0 ? pick() : { testFraction: pick(), seed: pick() }) as never)],
      ["normalize", () => Dataset.normalize(random(3) === 0 ? pick() as never : random(2) ? good() : Dataset.split(good(), { testFraction: 0.5 }), pick() as never)],
      ["scaling", () => Dataset.scaling(good(), "minmax").apply(pick() as never, random(2) ? undefined : pick() as never)],
    ];
    for (let n = 0; n < 3000; n++) {
      const [name, call] = calls[random(calls.length)];
      try {
        call();
      } catch (error) {
        const message = (error as Error).message;
        expect(error instanceof TypeError || error instanceof RangeError, `${name}: ${String(error)}`).toBe(true);
        expect(message, name).not.toMatch(bareFailure);
      }
    }
  });

  it("to the file loaders get a TypeError, RangeError or DataFormatError, never a bare failure (600 seeded calls)", async () => {
    const values = (): unknown[] => [
      undefined, null, 0, 3, "", "no-such.csv", "no-such.npy", "no-such", import.meta.dirname, {}, [], { labels: 1 }, { labels: "y.npy" },
      { normalize: "z" }, { header: "no" }, { labelColumn: {} }, { delimiter: 5 }, { classes: 1.5 }, { testFraction: "x" }, Symbol("x"), "a,b\n1,2\n",
    ];
    const pick = () => values()[random(values().length)];
    const calls: [string, () => Promise<unknown> | unknown][] = [
      ["loadDataFile", () => loadDataFile(pick() as never, pick() as never)],
      ["loadCsv", () => loadCsv(pick() as never, pick() as never)],
      ["parseCsv", () => parseCsv(pick() as never, "junk.csv", pick() as never)],
      ["loadNpy", () => loadNpy(pick() as never, pick() as never, pick() as never)],
    ];
    for (let n = 0; n < 600; n++) {
      const [name, call] = calls[random(calls.length)];
      try {
        await call();
      } catch (error) {
        const known = error instanceof TypeError || error instanceof RangeError || error instanceof DataFormatError;
        expect(known, `${name}: ${String(error)}`).toBe(true);
        expect((error as Error).message, name).not.toMatch(bareFailure);
      }
    }
  });
});
