// The prior of DEEP R (Bellec et al. 2018, sec. 2 and Algorithm 1): every active θ is pulled
// towards zero by η·α per step (the l1 prior) and moves by Gaussian noise of standard deviation
// sqrt(2ηT), both outside the optimiser's scaling. The reference code gives the noise as
// `noise` = sqrt(2T/η), i.e. a standard deviation η·noise; `temperature` gives T itself.
import type { RulePart } from "./declaration.js";

export const alpha = {
  option: "alpha", flag: "alpha", part: "prior", type: "real", default: 1e-5, min: 0, max: 1e6, placeholder: "X",
  help: "l1 pull: theta -= lr * alpha each step",
} as const;

export const noise = {
  option: "noise", flag: "noise", part: "prior", type: "real", default: 1e-5, min: 0, max: 1e6, placeholder: "X",
  help: "noise std = lr * X, i.e. temperature T = lr * X^2 / 2",
} as const;

export const temperature = {
  option: "temperature", flag: "temperature", part: "prior", type: "real", min: 0, max: 1e6, placeholder: "T",
  help: "or give T directly: noise std = sqrt(2 * lr * T)",
} as const;

/** `noise` and `temperature` both set the noise: a run gives at most one of them. */
export const noiseAlternatives = [noise.option, temperature.option] as const;

export const deepRPrior = {
  part: "prior",
  name: "deep-r",
  summary: "l1 pull towards zero and Gaussian noise on every active parameter",
  hyperparameters: [alpha, noise, temperature],
} as const satisfies RulePart;

// The baselines' priors (Bellec et al. 2018, sec. 3), on signed weights w = sign·θ that may cross zero.
export const weightDecay = {
  option: "weightDecay", flag: "weight-decay", part: "prior", type: "real", default: 1e-4, min: 0, max: 1e6, placeholder: "X",
  help: "with rule prune: l2 weight decay, theta -= lr * X * theta each step",
} as const;

export const nonePrior = {
  part: "prior",
  name: "none",
  summary: "no prior: the optimiser's step alone",
  hyperparameters: [],
} as const satisfies RulePart;

export const l2Prior = {
  part: "prior",
  name: "l2",
  summary: "weight decay on every active weight, after the optimiser's step",
  hyperparameters: [weightDecay],
} as const satisfies RulePart;

export const l1ShrinkPrior = {
  part: "prior",
  name: "l1-shrink",
  summary: "l1 shrinkage: |w| shrinks by lr * alpha each step and stops at zero",
  hyperparameters: [alpha],
} as const satisfies RulePart;
