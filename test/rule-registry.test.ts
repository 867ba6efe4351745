// The update rules' registry (lib/rules/): every part declares its hyper-parameters once, and each
// declaration reaches validation, the CLI's flags and `deepr --help`; deepr.rule follows from it.
import { describe, expect, it } from "vitest";
import { flagOf, flags, type FlagSpec } from "../lib/cli/flags.js";
import { HELP } from "../lib/cli/help.js";
import * as loop from "../lib/fit-loop-settings.js";
import { hyperparameters, structureSettings } from "../lib/hyperparameters.js";
import { normalizeModelOptions, normalizeTrainOptions, referenceTrainOptions } from "../lib/options.js";
import { describeRule, findRule, optimisers, priors, ruleDescription, ruleNames, ruleParts, structures } from "../lib/rules/registry.js";
import { deepr } from "./helpers/cli.js";

// A declaration two parts share (the learning rate) is one declaration.
const declarations = [...new Set(ruleParts.flatMap((p) => p.hyperparameters)), ...Object.values(loop)];
const MODEL = { layers: [4, 3], connectivity: 0.5 };

describe("the rule registry", () => {
  it("has each part's declarations marked as that part, and every option and flag declared once", () => {
    for (const part of ruleParts) for (const d of part.hyperparameters) expect(d.part, `${part.name}: ${d.option}`).toBe(part.part);
    expect(optimisers.map((p) => p.part)).toEqual(optimisers.map(() => "optimiser"));
    expect(priors.map((p) => p.part)).toEqual(priors.map(() => "prior"));
    expect(structures.map((p) => p.part)).toEqual(structures.map(() => "structure"));
    for (const d of Object.values(loop)) expect(d.part, d.option).toBe("loop");
    expect(new Set(declarations.map((d) => d.option)).size).toBe(declarations.length);
    expect(new Set(declarations.map((d) => d.flag)).size).toBe(declarations.length);
  });

  it("gives the training options exactly the optimiser's, the prior's and the loop's declarations, and the model options the structure's", () => {
    const training = declarations.filter((d) => d.part !== "structure");
    expect([...hyperparameters].sort((a, b) => a.option.localeCompare(b.option))).toEqual(training.sort((a, b) => a.option.localeCompare(b.option)));
    expect(structureSettings.map((d) => d.option)).toEqual(structures.flatMap((p) => p.hyperparameters.map((d) => d.option)));
  });

  it("validates the structure rule's settings from their declarations: defaults, every choice, and an error naming the choices", () => {
    expect(normalizeModelOptions(MODEL)).toMatchObject({ budget: "layer", globalShare: "budget" });
    for (const d of structureSettings) {
      if (d.type !== "choice") continue;
      expect(normalizeModelOptions(MODEL)[d.option]).toBe(d.default);
      for (const choice of d.choices) expect(normalizeModelOptions({ ...MODEL, [d.option]: choice })[d.option]).toBe(choice);
      expect(() => normalizeModelOptions({ ...MODEL, [d.option]: "none" })).toThrow(
        new RangeError(`options.${d.option} must be one of ${d.choices.map((c) => JSON.stringify(c)).join(", ")}, got "none"`),
      );
      expect(() => normalizeModelOptions({ ...MODEL, [d.option]: null })).toThrow(`options.${d.option} must be one of`);
    }
  });

  it("validates the prune schedule from its declarations under rule prune, and refuses it under a rule that does not take it", () => {
    const prune = { ...MODEL, rule: "prune" } as const;
    for (const d of findRule("prune")!.settings) {
      expect(normalizeModelOptions(prune)[d.option], d.option).toBe(d.default);
      expect(normalizeModelOptions({ ...prune, [d.option]: d.min + 1 })[d.option]).toBe(d.min + 1);
      expect(() => normalizeModelOptions({ ...prune, [d.option]: d.min - 0.5 })).toThrow(new RegExp(`^options\\.${d.option} must be an? .*\\[${d.min}, `));
      expect(() => normalizeModelOptions({ ...MODEL, [d.option]: d.default })).toThrow(
        new TypeError(`options.${d.option} goes with rule ${d.option === "pruneStart" ? '"prune" or "l1"' : '"prune"'}; rule "deep-r" does not take it`),
      );
    }
    // l1 takes the step of its one prune; its schedule's other settings are fixed.
    expect(normalizeModelOptions({ ...MODEL, rule: "l1", pruneStart: 7 })).toMatchObject({ rule: "l1", pruneStart: 7 });
    expect(() => normalizeModelOptions({ ...MODEL, rule: "l1", quality: 1 })).toThrow('options.quality goes with rule "prune"; rule "l1" does not take it');
    // soft-deep-r takes beta (the soft script's 4e6 by default), in (0, 1e30], and no other rule does.
    expect(normalizeModelOptions({ ...MODEL, rule: "soft-deep-r" })).toMatchObject({ rule: "soft-deep-r", beta: 4e6 });
    expect(normalizeModelOptions({ ...MODEL, rule: "soft-deep-r", beta: 400 }).beta).toBe(400);
    expect(() => normalizeModelOptions({ ...MODEL, rule: "soft-deep-r", beta: 0 })).toThrow(/^options\.beta must be a .*\[1e-30, /);
    expect(() => normalizeModelOptions({ ...MODEL, beta: 400 })).toThrow(new TypeError('options.beta goes with rule "soft-deep-r"; rule "deep-r" does not take it'));
    expect(() => normalizeModelOptions({ ...MODEL, rule: "soft-deep-r", budget: "global" })).toThrow(/^options\.budget "global" is DEEP R's regrowth/);
  });

  it("validates every training declaration's default", () => {
    for (const d of hyperparameters) if (d.default !== undefined) expect(normalizeTrainOptions({ [d.option]: d.default }, referenceTrainOptions)[d.option]).toBe(d.default);
  });

  it("gives every declaration a flag that sets its option, and a line in --help with its default", () => {
    for (const d of declarations) {
      const spec = (flags as Record<string, FlagSpec>)[d.flag];
      expect(spec?.option, d.flag).toBe(d.option);
      expect(flagOf(d.option)).toBe(d.flag);
      expect(HELP, d.flag).toMatch(new RegExp(`^ {2}--${d.flag}\\b`, "m"));
      if (d.type === "choice") expect(HELP).toContain(`  --${d.flag} ${d.choices.join("|")}`);
    }
    for (const d of structureSettings) expect(HELP.slice(HELP.indexOf("Model (train):"), HELP.indexOf("Algorithm 1"))).toContain(`(${d.default})\n`);
  });

  it("keeps --help as it was: the structure lines generated in place, no line wider than 110 columns", async () => {
    const model = HELP.slice(HELP.indexOf("Model (train):"), HELP.indexOf("Algorithm 1"));
    expect(model).toContain(
      "  --connectivity 0.01,0.03,0.3   active fraction per layer in (0, 1], or one value for all layers\n" +
        "  --budget layer|global          layer: K per layer; global: one budget for the whole network (layer)\n" +
        "  --global-share budget|dormant  with a global budget, regrow in proportion to each layer's K\n" +
        "                                 (as the reference) or uniformly over all dormant connections (budget)\n" +
        "  --prune-start N                with rule prune or l1: the first prune runs after step N (1000)\n" +
        "  --prune-every N                with rule prune: steps between two prunes (1000)\n" +
        "  --prune-times N                with rule prune: how many prunes run (3)\n" +
        "  --quality X                    with rule prune: a prune removes |w| <= X * std of the layer's weights (0.5)\n" +
        "  --beta X                       with rule soft-deep-r: alpha / T, setting theta_min = -(1 - p0) / (p0 * X)\n" +
        "                                 (the soft script's 2 * alpha / (lr * noise^2) at lr 0.05) (4000000)\n" +
        "  --bias                         add biases (the reference network has none)\n",
    );
    for (const line of HELP.split("\n")) expect(line.length, line).toBeLessThanOrEqual(110);
    const r = await deepr(["--help"]);
    expect([r.code, r.stdout]).toEqual([0, HELP]);
  });

  it("describes deepr.rule by the rule's name and its structure settings, and finds rules by name only", () => {
    expect(ruleNames).toEqual(["deep-r", "dense", "fixed", "prune", "l1", "soft-deep-r"]);
    expect(findRule("deep-r")?.structure).toBe(structures[0]);
    expect(findRule("soft-deep-r")?.structure).toBe(structures[3]);
    expect(findRule("rigl")).toBeUndefined();
    expect(ruleDescription({ rule: "deep-r", budget: "global", globalShare: "dormant" })).toEqual({ name: "deep-r", budget: "global", globalShare: "dormant" });
    // As deepr inspect prints it: the share matters with a global budget only.
    expect(describeRule(ruleDescription({ rule: "deep-r", budget: "global", globalShare: "dormant" }))).toBe("deep-r, global budget, regrowth shared by dormant");
    expect(describeRule(ruleDescription({ rule: "deep-r", budget: "layer", globalShare: "dormant" }))).toBe("deep-r, layer budget");
    // A baseline's deepr.rule holds the settings it takes, and nothing of DEEP R's.
    const prune = { rule: "prune", budget: "layer", globalShare: "budget", pruneStart: 5, pruneEvery: 2, pruneTimes: 3, quality: 0.5 } as const;
    expect(ruleDescription(prune)).toEqual({ name: "prune", pruneStart: 5, pruneEvery: 2, pruneTimes: 3, quality: 0.5 });
    expect(describeRule(ruleDescription(prune))).toBe("prune, pruneStart 5, pruneEvery 2, pruneTimes 3, quality 0.5");
    expect(ruleDescription({ ...prune, rule: "fixed" })).toEqual({ name: "fixed" });
    expect(describeRule(ruleDescription({ rule: "soft-deep-r", budget: "layer", globalShare: "budget", beta: 4e6 }))).toBe("soft-deep-r, beta 4000000");
  });
});
