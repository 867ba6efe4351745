// The optimiser: the gradient step of Algorithm 1 (Bellec et al. 2018, sec. 2). With momentum μ > 0
// each parameter keeps a velocity v ← μv + g and moves by −ηv; μ = 0 is the reference's plain SGD.
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

/** The optimisers the `optimizer` fit option and `--optimizer` flag name, each the core's optimiser of that name. */
export const optimizer = {
  option: "optimizer", flag: "optimizer", part: "optimiser", type: "choice", choices: ["sgd", "momentum"], default: "sgd",
  help: "the optimiser; momentum is chosen when --momentum > 0",
} as const;

/** The optimisers by name (written out, so the public type names no internal value). */
export type OptimizerName = "sgd" | "momentum";

export const optimizerNames: readonly OptimizerName[] = optimizer.choices;
