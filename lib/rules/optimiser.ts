// The optimiser: the gradient step of Algorithm 1 (Bellec et al. 2018, sec. 2). With momentum μ > 0
// each parameter keeps a velocity v ← μv + g and moves by −ηv; μ = 0 is the reference's plain SGD.
// Adam (Kingma and Ba 2015) keeps the moments m and v of every parameter.
import type { RulePart } from "./declaration.js";

export const lr = {
  option: "lr", flag: "lr", part: "optimiser", type: "real", default: 0.5, min: 0, max: 1e6, minOpen: true, placeholder: "X",
  help: "learning rate eta",
} as const;

export const momentum = {
  option: "momentum", flag: "momentum", part: "optimiser", type: "real", default: 0, min: 0, max: 0.9999, placeholder: "X",
  defaultNote: "plain SGD", help: "momentum of the gradient step",
} as const;

export const sgd = {
  part: "optimiser",
  name: "sgd",
  summary: "stochastic gradient descent, with heavy-ball momentum when momentum > 0",
  hyperparameters: [lr, momentum],
} as const satisfies RulePart;

// The core keeps Adam's betas below 1 (its bias corrections 1 - β^t are never 0): at most the largest float below 1.
const BELOW_ONE = 1 - 2 ** -24;

export const beta1 = {
  option: "beta1", flag: "beta1", part: "optimiser", type: "real", default: 0.9, min: 0, max: BELOW_ONE, placeholder: "X",
  help: "with adam: decay of the first moment m",
} as const;

export const beta2 = {
  option: "beta2", flag: "beta2", part: "optimiser", type: "real", default: 0.999, min: 0, max: BELOW_ONE, placeholder: "X",
  help: "with adam: decay of the second moment v",
} as const;

export const epsilon = {
  option: "epsilon", flag: "epsilon", part: "optimiser", type: "real", default: 1e-8, min: 1e-30, max: 1e6, placeholder: "X",
  help: "with adam: added to sqrt(v) in the step's denominator",
} as const;

export const adam = {
  part: "optimiser",
  name: "adam",
  summary: "Adam: steps scaled by running moments of the gradient, with bias corrections",
  hyperparameters: [lr, beta1, beta2, epsilon],
} as const satisfies RulePart;

/** The optimisers the `optimizer` fit option and `--optimizer` flag name, each the core's optimiser of that name. */
export const optimizer = {
  option: "optimizer", flag: "optimizer", part: "optimiser", type: "choice", choices: ["sgd", "momentum", "adam"], default: "sgd",
  help: "the optimiser: sgd, momentum (chosen when --momentum > 0) or adam",
} as const;

/** The optimisers by name (written out, so the public type names no internal value). */
export type OptimizerName = "sgd" | "momentum" | "adam";

export const optimizerNames: readonly OptimizerName[] = optimizer.choices;

/** The state arrays each optimiser keeps per parameter, as the core names them (cpp/rules/optimisers.hpp). */
export const optimizerStateFields: Readonly<Record<OptimizerName, readonly string[]>> = { sgd: [], momentum: ["velocity"], adam: ["m", "v"] };

/** The optimiser whose state arrays are `fields` (those a store keeps besides its parameters). */
export function optimizerKeeping(fields: readonly string[]): OptimizerName | undefined {
  return optimizerNames.find((name) => {
    const kept = optimizerStateFields[name];
    return kept.length === fields.length && kept.every((f) => fields.includes(f));
  });
}
