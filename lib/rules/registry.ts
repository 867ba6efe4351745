// The update rules this deepr knows, in their three independent parts (optimiser, prior,
// structure), and the training rule a model trains with, as checkpoints store it (deepr.rule).
// Adding a rule part: its declarations and entry in the part's file, an entry below, the
// {name: number} record the native step receives, and a test that trains and resumes with it.
import type { ChoiceDeclaration, RulePart } from "./declaration.js";
import { sgd, type OptimizerName } from "./optimiser.js";
import type { NativeRule } from "../native.js";
import { deepRPrior } from "./prior.js";
import { deepRStructure, describeStructure } from "./structure.js";

export const optimisers = [sgd] as const satisfies readonly RulePart[];
export const priors = [deepRPrior] as const satisfies readonly RulePart[];
export const structures = [deepRStructure] as const satisfies readonly RulePart[];

/** Every rule part, optimisers first, then priors, then structure rules. */
export const ruleParts: readonly RulePart[] = [...optimisers, ...priors, ...structures];

/** The rules by the name deepr.rule gives them: each combines one part of every kind. */
const RULES = [
  { name: "deep-r", optimiser: sgd, prior: deepRPrior, structure: deepRStructure, describe: describeStructure },
] as const satisfies readonly ({ name: RuleName } & Record<string, unknown>)[];

/** The names of the rules a model can train with (written out, so the public type names no internal value). */
export type RuleName = "deep-r";
export const ruleNames: readonly RuleName[] = RULES.map((r) => r.name);

/** The `rule` model option and `--rule` flag. */
export const rule = {
  option: "rule", flag: "rule", part: "structure", type: "choice", choices: ruleNames, default: ruleNames[0],
  help: "the training rule: deep-r, DEEP R with a hard bound on K",
} as const satisfies ChoiceDeclaration;

type StructureDeclaration = (typeof deepRStructure.hyperparameters)[number];
/** The structure rule's settings, by option: `budget` and `globalShare`. */
export type StructureSettings = { [D in StructureDeclaration as D["option"]]: D["choices"][number] };

/** The training rule of deepr.rule: its name and the structure rule's settings. */
export type Rule = { name: RuleName } & StructureSettings;

/** The rule named `name`, or undefined when this deepr does not know it. */
export function findRule(name: unknown): (typeof RULES)[number] | undefined {
  return RULES.find((r) => r.name === name);
}

/** How `deepr inspect` describes a rule of a loaded checkpoint: "deep-r, layer budget". */
export function describeRule(rule: Rule): string {
  return `${rule.name}, ${findRule(rule.name)!.describe(rule)}`;
}

/** deepr.rule for a model with this rule and these structure settings. */
export function ruleDescription(settings: StructureSettings & { rule: RuleName }): Rule {
  const rule = findRule(settings.rule)!;
  const values = rule.structure.hyperparameters.map((d) => [d.option, settings[d.option]]);
  return { name: rule.name, ...Object.fromEntries(values) } as Rule;
}

/** The core's rule record for a model with this rule and these structure settings, trained by `optimizer` (the rule's own by default). */
export function nativeRuleOf(settings: StructureSettings & { rule: RuleName }, optimizer?: OptimizerName): NativeRule {
  const rule = findRule(settings.rule)!;
  const { budget, globalShare } = ruleDescription(settings);
  return { optimiser: optimizer ?? rule.optimiser.name, prior: rule.prior.name, structure: rule.structure.name, budget, globalShare };
}
