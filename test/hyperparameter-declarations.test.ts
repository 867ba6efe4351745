// The training hyper-parameters gathered in lib/hyperparameters.ts (declared by the rule parts in
// lib/rules/ and the loop in lib/fit-loop-settings.ts) against values written out here (the
// reference code's defaults, the documented ranges), and the three things derived from them:
// option validation, the CLI's flags and the `--help` block.
import { describe, expect, it } from "vitest";
import { parseCommandLine } from "../lib/cli/args.js";
import { flagOf, flags, type FlagSpec } from "../lib/cli/flags.js";
import { HELP } from "../lib/cli/help.js";
import { hyperparameters } from "../lib/hyperparameters.js";
import { normalizeTrainOptions, referenceTrainOptions } from "../lib/options.js";
import { optimizer } from "../lib/rules/optimiser.js";

/** The documented ranges, as `[min, max]` or `(min, max]`, and each part of the update. */
const expected = {
  epochs: { part: "loop", range: "[0, 1000000]", flag: "epochs" },
  lr: { part: "optimiser", range: "(0, 1000000]", flag: "lr" },
  lrSchedule: { part: "loop", choices: ["exponential", "cosine"], flag: "lr-schedule" },
  lrDecay: { part: "loop", range: "(0, 1]", flag: "lr-decay" },
  batchSize: { part: "loop", range: "[1, 1048576]", flag: "batch-size" },
  alpha: { part: "prior", range: "[0, 1000000]", flag: "alpha" },
  noise: { part: "prior", range: "[0, 1000000]", flag: "noise" },
  temperature: { part: "prior", range: "[0, 1000000]", flag: "temperature" },
  weightDecay: { part: "prior", range: "[0, 1000000]", flag: "weight-decay" },
  momentum: { part: "optimiser", range: "[0, 0.9999]", flag: "momentum" },
  beta1: { part: "optimiser", range: "[0, 0.9999999403953552]", flag: "beta1" },
  beta2: { part: "optimiser", range: "[0, 0.9999999403953552]", flag: "beta2" },
  epsilon: { part: "optimiser", range: "[1e-30, 1000000]", flag: "epsilon" },
  clipNorm: { part: "loop", range: "[0, 1000000]", flag: "clip-norm" },
  crop: { part: "loop", range: "[0, 1024]", flag: "crop" },
  flip: { part: "loop", flag: "flip" },
  checkInvariants: { part: "loop", flag: "check-invariants" },
} as const;

const rangeError = (call: () => unknown): string => {
  try {
    call();
  } catch (e) {
    expect(e).toBeInstanceOf(RangeError);
    return (e as Error).message;
  }
  throw new Error("no error");
};

describe("hyper-parameter declarations", () => {
  it("declare every training option once, in its part of the update", () => {
    expect(hyperparameters.map((d) => d.option)).toEqual(Object.keys(expected));
    for (const d of hyperparameters) expect([d.part, d.flag], d.option).toEqual([expected[d.option].part, expected[d.option].flag]);
    for (const d of hyperparameters) expect(d.help.length, d.option).toBeGreaterThan(10);
  });

  it("give the reference code's defaults, with the noise (not the temperature) set", () => {
    expect(referenceTrainOptions).toEqual({
      epochs: 10, lr: 0.5, lrSchedule: "exponential", lrDecay: 0.8, batchSize: 10, alpha: 1e-5, noise: 1e-5, weightDecay: 1e-4, momentum: 0,
      beta1: 0.9, beta2: 0.999, epsilon: 1e-8, clipNorm: 0, crop: 0, flip: false, checkInvariants: false,
    });
    expect("temperature" in referenceTrainOptions).toBe(false);
  });

  it("are the ranges validation enforces: each bound accepted when closed, rejected when open, and just past it rejected", () => {
    const train = (option: string, value: unknown) => normalizeTrainOptions({ [option]: value }, referenceTrainOptions);
    for (const d of hyperparameters) {
      if (d.type !== "integer" && d.type !== "real") continue;
      const range = expected[d.option] as { range: string };
      const kind = d.type === "integer" ? "an integer" : "a finite number";
      const message = (v: number) => `options.${d.option} must be ${kind} in ${range.range}, got ${v}`;
      if (range.range.startsWith("(")) expect(rangeError(() => train(d.option, d.min))).toBe(message(d.min));
      else expect((train(d.option, d.min) as Record<string, unknown>)[d.option]).toBe(d.min);
      expect((train(d.option, d.max) as Record<string, unknown>)[d.option]).toBe(d.max);
      const below = d.min - (d.type === "integer" ? 1 : 1e-9), above = d.max + (d.type === "integer" ? 1 : d.max * 1e-9);
      expect(rangeError(() => train(d.option, below))).toBe(message(below));
      expect(rangeError(() => train(d.option, above))).toBe(message(above));
      if (d.type === "integer") expect(rangeError(() => train(d.option, d.min + 0.5))).toBe(message(d.min + 0.5));
    }
    expect(rangeError(() => train("lrSchedule", "linear"))).toBe('options.lrSchedule must be one of "exponential", "cosine", got "linear"');
  });

  it("are the CLI's flags: each sets its option, parses as its type and maps back for error messages", () => {
    for (const d of hyperparameters) {
      const spec = (flags as Record<string, FlagSpec>)[d.flag];
      expect(spec, d.flag).toBeDefined();
      expect(spec.option).toBe(d.option);
      expect(flagOf(d.option)).toBe(d.flag);
    }
    const line = parseCommandLine(["train", "--lr", "0.25", "--lr-schedule", "cosine", "--batch-size", "7", "--check-invariants", "--temperature", "1e-6"]);
    expect(line.flags.number("lr")).toBe(0.25);
    expect(line.flags.choice("lr-schedule")).toBe("cosine");
    expect(line.flags.number("batch-size")).toBe(7);
    expect(line.flags.boolean("check-invariants")).toBe(true);
    expect(line.flags.number("temperature")).toBe(1e-6);
    expect(() => parseCommandLine(["train", "--lr-schedule", "linear"])).toThrow(/--lr-schedule/);
  });

  it("are the --help block 'Algorithm 1 and training', in order, with each default as the reference gives it", () => {
    const block = HELP.slice(HELP.indexOf("Algorithm 1 and training"), HELP.indexOf("Run and output:"));
    // The optimiser's choice, a fit option rather than a stored hyper-parameter, ends the block.
    expect([...block.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1])).toEqual([...hyperparameters.map((d) => d.flag), optimizer.flag]);
    expect(block).toContain("  --lr X                         learning rate eta (0.5)\n");
    expect(block).toContain("  --alpha X                      l1 pull: theta -= lr * alpha each step (1e-5)\n");
    expect(block).toContain("  --momentum X                   momentum of the gradient step (0: plain SGD)\n");
    expect(block).toContain("  --temperature T                or give T directly: noise std = sqrt(2 * lr * T)\n");
    expect(block).toContain("  --check-invariants             verify exactly K active, no duplicates, indices in range after every step\n");
    // A usage wider than the flag column puts its help on the next line, at the column.
    expect(block).toMatch(/ {2}--lr-schedule exponential\|cosine\n {33}exponential: .* \(exponential\)\n/);
  });
});
