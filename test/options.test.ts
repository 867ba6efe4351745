// Every hyper-parameter conversion and every option check of lib/options.ts, against values
// written out here (not recomputed with the library's formulas), and the presets.
import { describe as group, expect, it } from "vitest";
import {
  describe,
  integer,
  learningRate,
  noiseStd,
  normalizeModelOptions,
  normalizeTrainOptions,
  real,
  referenceTrainOptions,
  type NormalizedTrainOptions,
} from "../lib/options.js";
import { presets } from "../lib/presets.js";
import { throwsExactly } from "./helpers/throws.js";

const reference = referenceTrainOptions;
const train = (input: unknown, base: NormalizedTrainOptions = reference) => normalizeTrainOptions(input, base);

/** Relative closeness for values computed along different float paths (0.8 ** e against a product). */
function expectRelativelyClose(actual: number, expected: number): void {
  expect(Math.abs(actual - expected)).toBeLessThanOrEqual(Math.abs(expected) * 4 * Number.EPSILON);
}

group("learning-rate schedules", () => {
  it("exponential: lr * decay^epoch at every epoch of the reference run", () => {
    const o = train({ lr: 0.5, lrDecay: 0.8, epochs: 10 });
    const expected = [0.5, 0.4, 0.32, 0.256, 0.2048, 0.16384, 0.131072, 0.1048576, 0.08388608, 0.067108864];
    expected.forEach((lr, e) => expectRelativelyClose(learningRate(o, e), lr));
  });

  it("exponential: lrDecay 1 keeps the learning rate, and the decay does not depend on epochs", () => {
    const constant = train({ lr: 0.3, lrDecay: 1, epochs: 5 });
    for (let e = 0; e < 5; e++) expect(learningRate(constant, e)).toBe(0.3);
    const short = train({ lr: 1, lrDecay: 0.5, epochs: 2 });
    const long = train({ lr: 1, lrDecay: 0.5, epochs: 40 });
    expect([0, 1, 2, 3].map((e) => learningRate(short, e))).toEqual([1, 0.5, 0.25, 0.125]);
    expect([0, 1, 2, 3].map((e) => learningRate(long, e))).toEqual([1, 0.5, 0.25, 0.125]);
  });

  it("cosine: lr (1 + cos(pi e / E)) / 2 at every epoch e = 0..E-1, for E = 2, 3, 4 and 6", () => {
    const lr = 0.8;
    const half = Math.SQRT1_2, root3 = Math.sqrt(3) / 2;
    const cases: [number, number[]][] = [
      [2, [1, 0.5]],
      [3, [1, 0.75, 0.25]],
      [4, [1, (1 + half) / 2, 0.5, (1 - half) / 2]],
      [6, [1, (1 + root3) / 2, 0.75, 0.5, 0.25, (1 - root3) / 2]],
    ];
    for (const [epochs, factors] of cases) {
      const o = train({ lr, lrSchedule: "cosine", epochs });
      const got = factors.map((_, e) => learningRate(o, e));
      got.forEach((value, e) => expect(value, `E = ${epochs}, epoch ${e}`).toBeCloseTo(lr * factors[e], 15));
      // The last epoch trains with a small but non-zero rate: the schedule reaches 0 only at e = E.
      expect(got[epochs - 1]).toBeGreaterThan(0);
    }
  });

  it("cosine ignores lrDecay and, with no epochs to train, starts at lr", () => {
    const o = train({ lr: 0.5, lrSchedule: "cosine", lrDecay: 0.1, epochs: 3 });
    expect(learningRate(o, 1)).toBeCloseTo(0.375, 15);
    expect(learningRate(train({ lr: 0.5, lrSchedule: "cosine", epochs: 0 }), 0)).toBe(0.5);
  });
});

group("noise", () => {
  it("noise: the standard deviation is lr * noise", () => {
    expect(noiseStd(train({ noise: 1e-5 }), 0.5)).toBe(5e-6);
    expect(noiseStd(train({ noise: 0.25 }), 0.5)).toBe(0.125);
    expect(noiseStd(train({ noise: 0 }), 0.5)).toBe(0);
  });

  it("temperature: the standard deviation is sqrt(2 lr T), not sqrt(lr T)", () => {
    // Powers of two, so that the expected values are exact.
    expect(noiseStd(train({ temperature: 2 ** -12 }), 0.125)).toBe(2 ** -7);
    expect(noiseStd(train({ temperature: 1 }), 0.5)).toBe(1);
    expect(noiseStd(train({ temperature: 8 }), 4)).toBe(8);
    expect(noiseStd(train({ temperature: 0 }), 0.5)).toBe(0);
  });

  it("the README's equivalence: noise n at rate lr is temperature lr n^2 / 2", () => {
    const lr = 0.125, n = 0.0625;
    expect(noiseStd(train({ temperature: (lr * n * n) / 2 }), lr)).toBe(noiseStd(train({ noise: n }), lr));
  });
});

group("normalizeTrainOptions", () => {
  it("fills the reference code's defaults", () => {
    expect(train(undefined)).toEqual({
      epochs: 10, lr: 0.5, lrSchedule: "exponential", lrDecay: 0.8, batchSize: 10, alpha: 1e-5, noise: 1e-5, weightDecay: 1e-4, momentum: 0,
      beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipNorm: 0, crop: 0, flip: false, checkInvariants: false,
    });
    expect(train({})).toEqual(train(undefined));
  });

  it("keeps the base's values for options not given, and replaces those given", () => {
    const base = train({ epochs: 3, lr: 0.1, lrSchedule: "cosine", lrDecay: 0.5, batchSize: 7, alpha: 0.01, noise: 0.2, momentum: 0.9, checkInvariants: true });
    expect(train({}, base)).toEqual(base);
    expect(train({ lr: 0.2, batchSize: 1 }, base)).toEqual({ ...base, lr: 0.2, batchSize: 1 });
  });

  it("noise and temperature replace each other; the base's one is kept when neither is given", () => {
    const withNoise = train({ noise: 0.3 });
    const withTemperature = train({ temperature: 0.01 });
    expect(withTemperature.temperature).toBe(0.01);
    expect("noise" in withTemperature).toBe(false);
    expect(train({ lr: 0.1 }, withTemperature)).toMatchObject({ temperature: 0.01, lr: 0.1 });
    expect("noise" in train({ lr: 0.1 }, withTemperature)).toBe(false);
    expect(train({}, withNoise)).toMatchObject({ noise: 0.3 });
    expect("temperature" in train({}, withNoise)).toBe(false);
    expect(train({ noise: 0.1 }, withTemperature)).toMatchObject({ noise: 0.1 });
    expect("temperature" in train({ noise: 0.1 }, withTemperature)).toBe(false);
    expect(train({ temperature: 0.2 }, withNoise)).toMatchObject({ temperature: 0.2 });
    expect("noise" in train({ temperature: 0.2 }, withNoise)).toBe(false);
    throwsExactly(() => train({ noise: 1, temperature: 1 }), TypeError, "options.noise and options.temperature both set the noise; give only one");
  });

  it("accepts every bound and rejects just outside it, naming the option, the range and the value", () => {
    const f = "a finite number in";
    const cases: [string, number[], number, string][] = [
      // option, accepted values, rejected value, message after "options.<name> must be "
      ["epochs", [0, 1_000_000], 1_000_001, "an integer in [0, 1000000], got 1000001"],
      ["epochs", [], -1, "an integer in [0, 1000000], got -1"],
      ["epochs", [], 1.5, "an integer in [0, 1000000], got 1.5"],
      ["lr", [Number.MIN_VALUE, 1e6], 0, `${f} (0, 1000000], got 0`],
      ["lr", [], 1e6 + 1, `${f} (0, 1000000], got 1000001`],
      ["lr", [], NaN, `${f} (0, 1000000], got NaN`],
      ["lrDecay", [1, 1e-9], 0, `${f} (0, 1], got 0`],
      ["lrDecay", [], 1.01, `${f} (0, 1], got 1.01`],
      ["batchSize", [1, 1 << 20], 0, "an integer in [1, 1048576], got 0"],
      ["batchSize", [], (1 << 20) + 1, "an integer in [1, 1048576], got 1048577"],
      ["alpha", [0, 1e6], -1e-9, `${f} [0, 1000000], got -1e-9`],
      ["alpha", [], Infinity, `${f} [0, 1000000], got Infinity`],
      ["momentum", [0, 0.9999], 1, `${f} [0, 0.9999], got 1`],
      ["momentum", [], -0.5, `${f} [0, 0.9999], got -0.5`],
      ["noise", [0, 1e6], -1, `${f} [0, 1000000], got -1`],
      ["noise", [], 2e6, `${f} [0, 1000000], got 2000000`],
      ["temperature", [0, 1e6], -1, `${f} [0, 1000000], got -1`],
      ["temperature", [], 2e6, `${f} [0, 1000000], got 2000000`],
    ];
    for (const [name, accepted, rejected, message] of cases) {
      for (const value of accepted) expect(train({ [name]: value })[name as keyof NormalizedTrainOptions], `${name} = ${value}`).toBe(value);
      throwsExactly(() => train({ [name]: rejected }), RangeError, `options.${name} must be ${message}`);
    }
  });

  it("rejects values of the wrong type, unknown schedules and unknown options", () => {
    throwsExactly(() => train({ lr: "0.5" }), TypeError, 'options.lr must be a number, got "0.5"');
    throwsExactly(() => train({ epochs: 2n }), TypeError, "options.epochs must be a number, got 2n");
    throwsExactly(() => train({ checkInvariants: 1 }), TypeError, "options.checkInvariants must be true or false, got 1");
    expect(train({ checkInvariants: true }).checkInvariants).toBe(true);
    throwsExactly(() => train({ lrSchedule: "linear" }), RangeError, 'options.lrSchedule must be one of "exponential", "cosine", got "linear"');
    expect(train({ lrSchedule: "cosine" }).lrSchedule).toBe("cosine");
    throwsExactly(() => train(null), TypeError, "options must be an object, got null");
    throwsExactly(() => train([1]), TypeError, "options must be an object, got an array of 1");
    throwsExactly(() => train(3), TypeError, "options must be an object, got 3");
    throwsExactly(
      () => train({ learningRate: 1 }),
      TypeError,
      "options.learningRate is not an option; the options are epochs, lr, lrSchedule, lrDecay, batchSize, alpha, noise, temperature, weightDecay, momentum, beta1, beta2, epsilon, clipNorm, crop, flip, checkInvariants",
    );
    // fit() passes its own keys as extras: they are allowed, and named in the list.
    expect(normalizeTrainOptions({ validation: 1 }, reference, ["validation"])).toEqual(reference);
    expect(() => normalizeTrainOptions({ signal: 1 }, reference, ["validation"])).toThrow(/the options are .*checkInvariants, validation$/);
  });
});

group("normalizeModelOptions", () => {
  it("broadcasts one connectivity to every layer and computes K_l = floor(in * out * p)", () => {
    expect(normalizeModelOptions({ layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3] })).toEqual({
      layers: [784, 300, 100, 10], inputShape: [784], connectivity: [0.01, 0.03, 0.3], budgets: [2352, 900, 300],
      budget: "layer", globalShare: "budget", bias: false, rule: "deep-r", seed: 1,
    });
    // 7 * 3 * 0.5 = 10.5 and 3 * 2 * 0.5 = 3.
    expect(normalizeModelOptions({ layers: [7, 3, 2], connectivity: 0.5 }).budgets).toEqual([10, 3]);
    expect(normalizeModelOptions({ layers: [7, 3, 2], connectivity: 0.5 }).connectivity).toEqual([0.5, 0.5]);
  });

  it("takes the budget mode, share, biases and seed as given", () => {
    const o = normalizeModelOptions({ layers: [4, 2], connectivity: 1, budget: "global", globalShare: "dormant", bias: true, seed: 0 });
    expect(o).toMatchObject({ budget: "global", globalShare: "dormant", bias: true, seed: 0, budgets: [8] });
    expect(normalizeModelOptions({ layers: [4, 2], connectivity: 1, seed: 2 ** 53 - 1 }).seed).toBe(2 ** 53 - 1);
    throwsExactly(() => normalizeModelOptions({ layers: [4, 2], connectivity: 1, seed: 2 ** 53 }), RangeError,
      "options.seed must be an integer in [0, 9007199254740991], got 9007199254740992");
    throwsExactly(() => normalizeModelOptions({ layers: [4, 2], connectivity: 1, seed: -1 }), RangeError,
      "options.seed must be an integer in [0, 9007199254740991], got -1");
    throwsExactly(() => normalizeModelOptions({ layers: [4, 2], connectivity: 1, budget: "net" }), RangeError,
      'options.budget must be one of "layer", "global", got "net"');
    throwsExactly(() => normalizeModelOptions({ layers: [4, 2], connectivity: 1, globalShare: "even" }), RangeError,
      'options.globalShare must be one of "budget", "dormant", got "even"');
    throwsExactly(() => normalizeModelOptions({ layers: [4, 2], connectivity: 1, bias: "yes" }), TypeError,
      'options.bias must be true or false, got "yes"');
  });

  it("accepts the smallest and the largest budgets and rejects one connection beyond", () => {
    // 10 * 10 * 0.01 is exactly one connection.
    expect(normalizeModelOptions({ layers: [10, 10], connectivity: 0.01 }).budgets).toEqual([1]);
    throwsExactly(() => normalizeModelOptions({ layers: [10, 10], connectivity: 0.005 }), RangeError,
      "options.connectivity[0] = 0.005 leaves no connection in the 10 x 10 layer; it needs at least 0.01");
    const max = 2 ** 31 - 1;
    expect(normalizeModelOptions({ layers: [max, 1, 2], connectivity: 1 }).budgets).toEqual([max, 2]);
    throwsExactly(() => normalizeModelOptions({ layers: [2 ** 16, 2 ** 15, 2], connectivity: 1 }), RangeError,
      `options.connectivity[0] = 1 gives layer 0 ${2 ** 31} active connections; the limit is ${max} per layer`);
  });

  it("rejects malformed layers and connectivity, naming the option and the value", () => {
    const cases: [unknown, typeof TypeError | typeof RangeError, string][] = [
      [undefined, TypeError, "options must be an object, got undefined"],
      [{ layers: [2, 2], connectivity: 1, seeds: 1 }, TypeError, "options.seeds is not an option; the options are layers, inputShape, connectivity, budget, globalShare, bias, rule, seed, distributed, backend, device, pruneStart, pruneEvery, pruneTimes, quality, beta"],
      [{ layers: "784,10", connectivity: 1 }, TypeError, 'options.layers must be an array of layer widths or of layer specs ({ kind, ... }), got "784,10"'],
      [{ layers: [10], connectivity: 1 }, RangeError, "options.layers needs at least an input and an output width, got 1"],
      [{ layers: [10, 0, 2], connectivity: 1 }, RangeError, "options.layers[1] must be an integer in [1, 2147483647], got 0"],
      [{ layers: [2 ** 31, 2], connectivity: 1 }, RangeError, "options.layers[0] must be an integer in [1, 2147483647], got 2147483648"],
      [{ layers: [10, 1], connectivity: 1 }, RangeError, "options.layers: the output layer needs at least 2 classes, got 1"],
      [{ layers: [10, 2] }, TypeError, "options.connectivity is required: a fraction in (0, 1], or one per layer"],
      [{ layers: [10, 5, 2], connectivity: [0.5] }, RangeError, "options.connectivity must have one value per layer (2), got 1"],
      [{ layers: [10, 2], connectivity: [0] }, RangeError, "options.connectivity[0] must be a finite number in (0, 1], got 0"],
      [{ layers: [10, 2], connectivity: 1.5 }, RangeError, "options.connectivity[0] must be a finite number in (0, 1], got 1.5"],
      [{ layers: [10, 2], connectivity: ["1"] }, TypeError, 'options.connectivity[0] must be a number, got "1"'],
    ];
    for (const [input, type, message] of cases) throwsExactly(() => normalizeModelOptions(input), type, message);
    // The smallest valid output layer, and a full layer.
    expect(normalizeModelOptions({ layers: [1, 2], connectivity: 1 }).budgets).toEqual([2]);
  });
});

group("helpers", () => {
  it("describe() names a value of any type briefly", () => {
    expect(describe("a")).toBe('"a"');
    expect(describe(3n)).toBe("3n");
    expect(describe([1, 2, 3])).toBe("an array of 3");
    expect(describe(new Map())).toBe("an object (Map)");
    expect(describe(Object.create(null))).toBe("an object (Object)");
    expect(describe(null)).toBe("null");
    expect(describe(undefined)).toBe("undefined");
    expect(describe(-0.5)).toBe("-0.5");
  });

  it("integer() and real() accept their closed bounds; real() excludes an open minimum", () => {
    expect(integer("n", 2, 2, 5)).toBe(2);
    expect(integer("n", 5, 2, 5)).toBe(5);
    throwsExactly(() => integer("n", 1, 2, 5), RangeError, "n must be an integer in [2, 5], got 1");
    throwsExactly(() => integer("n", 6, 2, 5), RangeError, "n must be an integer in [2, 5], got 6");
    throwsExactly(() => integer("n", null, 2, 5), TypeError, "n must be a number, got null");
    expect(real("x", 0, 0, 1)).toBe(0);
    expect(real("x", 1, 0, 1, true)).toBe(1);
    throwsExactly(() => real("x", 0, 0, 1, true), RangeError, "x must be a finite number in (0, 1], got 0");
    throwsExactly(() => real("x", -Infinity, -Infinity, 1), RangeError, "x must be a finite number in [-Infinity, 1], got -Infinity");
  });
});

group("presets", () => {
  it("reference is the reference code's recipe: the defaults, on 1 / 3 / 30 % without biases", () => {
    expect(train(presets.reference.train)).toEqual(referenceTrainOptions);
    const model = normalizeModelOptions({ layers: [784, 300, 100, 10], ...presets.reference.model });
    expect(model.budgets).toEqual([2352, 900, 300]);
    expect(model.bias).toBe(false);
    // 1.33 % overall, as the README says.
    expect((2352 + 900 + 300) / (784 * 300 + 300 * 100 + 100 * 10)).toBeCloseTo(0.0133, 4);
  });

  it("tuned is 4 % overall as 3.04 / 10 / 50 %, with biases and a cosine schedule over 30 epochs", () => {
    const model = normalizeModelOptions({ layers: [784, 300, 100, 10], ...presets.tuned.model });
    // floor(235200 * 0.0304) = 7150, 30000 * 0.1 = 3000, 1000 * 0.5 = 500.
    expect(model.budgets).toEqual([7150, 3000, 500]);
    expect((7150 + 3000 + 500) / 266200).toBeCloseTo(0.04, 3);
    expect(model.bias).toBe(true);
    const o = train(presets.tuned.train);
    expect(o).toEqual({ ...referenceTrainOptions, epochs: 30, lrSchedule: "cosine" });
    expect(learningRate(o, 0)).toBe(0.5);
    expect(learningRate(o, 15)).toBeCloseTo(0.25, 15);
    expect(learningRate(o, 29)).toBeCloseTo(0.25 * (1 - Math.cos(Math.PI / 30)), 15);
  });

  it("each description states the recipe's numbers", () => {
    expect(presets.reference.description).toMatch(/1\/3\/30 %.*lr 0\.5 x0\.8.*batch 10, 10 epochs/);
    expect(presets.tuned.description).toMatch(/4 % overall \(3\.04 \/ 10 \/ 50 %.*cosine.*30 epochs/);
  });
});
