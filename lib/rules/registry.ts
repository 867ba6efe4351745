// The update rules this deepr knows, in their three independent parts (optimiser, prior,
// structure), and the training rule a model trains with, as checkpoints store it (deepr.rule).
// Adding a rule part: its declarations and entry in the part's file, an entry below, the
// {name: number} record the native step receives, and a test that trains and resumes with it.
import type { ChoiceDeclaration, NumberDeclaration, RulePart } from "./declaration.js";
import { adam, sgd, type OptimizerName } from "./optimiser.js";
import type { NativeRule } from "../native.js";
import { deepRPrior, l1ShrinkPrior, l2Prior, nonePrior } from "./prior.js";
import { beta, budget, deepRStructure, describeStructure, fixedStructure, globalShare, pruneEvery, pruneStart, pruneStructure, pruneTimes, quality, softDeepRStructure } from "./structure.js";

export const optimisers = [sgd, adam] as const satisfies readonly RulePart[];
export const priors = [deepRPrior, nonePrior, l2Prior, l1ShrinkPrior] as const satisfies readonly RulePart[];
export const structures = [deepRStructure, fixedStructure, pruneStructure, softDeepRStructure] as const satisfies readonly RulePart[];

/** Every rule part, optimisers first, then priors, then structure rules. */
export const ruleParts: readonly RulePart[] = [...optimisers, ...priors, ...structures];

/** A prune setting a rule fixes: the structure's setting by option. */
type FixedSettings = Partial<Record<"pruneEvery" | "pruneTimes" | "quality", number>>;

/**
 * The rules by the name deepr.rule gives them: each combines one part of every kind, takes the
 * structure settings `settings` from the model options and has the others `fixed`; `dense` trains
 * every position (Bellec et al. 2018, sec. 3, and ARCHITECTURE.md, "The baseline rules").
 */
const RULES = [
  { name: "deep-r", optimiser: sgd, prior: deepRPrior, structure: deepRStructure, settings: [budget, globalShare], fixed: {}, dense: false },
  { name: "dense", optimiser: sgd, prior: nonePrior, structure: fixedStructure, settings: [], fixed: {}, dense: true },
  { name: "fixed", optimiser: sgd, prior: nonePrior, structure: fixedStructure, settings: [], fixed: {}, dense: false },
  { name: "prune", optimiser: sgd, prior: l2Prior, structure: pruneStructure, settings: [pruneStart, pruneEvery, pruneTimes, quality], fixed: {}, dense: false },
  // l1-shrinkage zeroes weights; one prune with quality 0 after step pruneStart removes them.
  { name: "l1", optimiser: sgd, prior: l1ShrinkPrior, structure: pruneStructure, settings: [pruneStart], fixed: { pruneEvery: 1, pruneTimes: 1, quality: 0 }, dense: false },
  // Algorithm 2: DEEP R's prior on the active connections, a θ kept for every dormant one.
  { name: "soft-deep-r", optimiser: sgd, prior: deepRPrior, structure: softDeepRStructure, settings: [beta], fixed: {}, dense: false },
] as const satisfies readonly {
  name: RuleName; optimiser: RulePart; prior: RulePart; structure: RulePart; settings: readonly (ChoiceDeclaration | NumberDeclaration)[]; fixed: FixedSettings; dense: boolean;
}[];

/** The names of the rules a model can train with (written out, so the public type names no internal value). */
export type RuleName = "deep-r" | "dense" | "fixed" | "prune" | "l1" | "soft-deep-r";
export const ruleNames: readonly RuleName[] = RULES.map((r) => r.name);

/** The `rule` model option and `--rule` flag. */
export const rule = {
  option: "rule", flag: "rule", part: "structure", type: "choice", choices: ruleNames, default: ruleNames[0],
  help:
    "the training rule: deep-r, DEEP R with a hard bound on K; dense;\n" +
    "fixed, fixed random sparsity; prune, magnitude pruning with l2 decay\n(Han et al.); l1, l1 shrinkage and one prune; soft-deep-r, Algorithm 2\n(no hard bound on K; one theta per potential connection)",
} as const satisfies ChoiceDeclaration;

/** Every structure setting, each declared once: model options, since they shape the network. */
export const structureSettings = [budget, globalShare, pruneStart, pruneEvery, pruneTimes, quality, beta] as const;

/** The structure settings of a model: DEEP R's always (a baseline has a layer budget), pruning's with the rules that take them. */
export interface StructureSettings {
  budget: "layer" | "global";
  globalShare: "budget" | "dormant";
  pruneStart?: number;
  pruneEvery?: number;
  pruneTimes?: number;
  quality?: number;
  beta?: number;
}

/** The training rule of deepr.rule: its name and the settings it takes (deep-r: budget and globalShare). */
export type Rule = { name: RuleName } & Partial<StructureSettings>;

/** The rule named `name`, or undefined when this deepr does not know it. */
export function findRule(name: unknown): (typeof RULES)[number] | undefined {
  return RULES.find((r) => r.name === name);
}

/** Whether rule `name` removes connections as it trains (its stores then hold fewer than their budget K). */
export function prunes(name: RuleName): boolean {
  return findRule(name)!.structure === pruneStructure;
}

/** Whether rule `name` bounds each layer's active connections by its budget: every rule but soft-deep-r (Algorithm 2 has no hard bound). */
export function hasHardBound(name: RuleName): boolean {
  return findRule(name)!.structure !== softDeepRStructure;
}

/** Whether rule `name` keeps a θ for every dormant connection (soft-deep-r: the stores' `dormant_theta`). */
export function keepsDormantTheta(name: RuleName): boolean {
  return findRule(name)!.structure === softDeepRStructure;
}

/** How `deepr inspect` describes a rule of a loaded checkpoint: "deep-r, layer budget", "prune, pruneStart 100, ...". */
export function describeRule(rule: Rule): string {
  if (rule.name === "deep-r") return `${rule.name}, ${describeStructure(rule as StructureSettings)}`;
  const settings = findRule(rule.name)!.settings.map((d) => `${d.option} ${rule[d.option]}`);
  return [rule.name, ...settings].join(", ");
}

/** deepr.rule for a model with this rule and these structure settings. */
export function ruleDescription(settings: StructureSettings & { rule: RuleName }): Rule {
  const rule = findRule(settings.rule)!;
  const values = rule.settings.map((d) => [d.option, settings[d.option]]);
  return { name: rule.name, ...Object.fromEntries(values) } as Rule;
}

/** The core's rule record for a model with this rule and these structure settings, trained by `optimizer` (the rule's own by default). */
export function nativeRuleOf(settings: StructureSettings & { rule: RuleName }, optimizer?: OptimizerName): NativeRule {
  const rule = findRule(settings.rule)!;
  const { budget, globalShare } = settings;
  // The numeric settings are the structure rule's own (budget and globalShare are the record's named fields).
  const own = Object.fromEntries(rule.settings.flatMap((d) => (d.type === "choice" ? [] : [[d.option, settings[d.option]]])));
  return { optimiser: optimizer ?? rule.optimiser.name, prior: rule.prior.name, structure: rule.structure.name, budget, globalShare, ...own, ...rule.fixed };
}
