// The structure rule of DEEP R (Bellec et al. 2018, sec. 2): a connection whose θ falls below zero
// goes dormant and as many dormant connections, drawn uniformly, become active, so the number
// active stays within the budget. Its settings shape the network, so they are model options.
import type { RulePart } from "./declaration.js";

export const budget = {
  option: "budget", flag: "budget", part: "structure", type: "choice", choices: ["layer", "global"], default: "layer",
  help: "layer: K per layer; global: one budget for the whole network",
} as const;

export const globalShare = {
  option: "globalShare", flag: "global-share", part: "structure", type: "choice", choices: ["budget", "dormant"], default: "budget",
  help: "with a global budget, regrow in proportion to each layer's K\n(as the reference) or uniformly over all dormant connections",
} as const;

/** How `deepr inspect` describes the settings: "global budget, regrowth shared by dormant". */
export function describeStructure({ budget, globalShare }: { budget: string; globalShare: string }): string {
  return `${budget} budget${budget === "global" ? `, regrowth shared by ${globalShare}` : ""}`;
}

export const deepRStructure = {
  part: "structure",
  name: "deep-r",
  summary: "rewiring: connections that die are replaced by random dormant ones, within a per-layer or global budget",
  hyperparameters: [budget, globalShare],
} as const satisfies RulePart;

// The baselines' structure rules (Bellec et al. 2018, sec. 3): a fixed set of connections, or Han
// et al.'s (2015) magnitude pruning on a schedule of steps, which only ever removes connections.
export const fixedStructure = {
  part: "structure",
  name: "fixed",
  summary: "the initial connections, never rewired",
  hyperparameters: [],
} as const satisfies RulePart;

export const pruneStart = {
  option: "pruneStart", flag: "prune-start", part: "structure", type: "integer", default: 1000, min: 0, max: Number.MAX_SAFE_INTEGER,
  placeholder: "N", help: "with rule prune or l1: the first prune runs after step N",
} as const;

export const pruneEvery = {
  option: "pruneEvery", flag: "prune-every", part: "structure", type: "integer", default: 1000, min: 1, max: Number.MAX_SAFE_INTEGER,
  placeholder: "N", help: "with rule prune: steps between two prunes",
} as const;

export const pruneTimes = {
  option: "pruneTimes", flag: "prune-times", part: "structure", type: "integer", default: 3, min: 0, max: Number.MAX_SAFE_INTEGER,
  placeholder: "N", help: "with rule prune: how many prunes run",
} as const;

export const quality = {
  option: "quality", flag: "quality", part: "structure", type: "real", default: 0.5, min: 0, max: 1e6, placeholder: "X",
  help: "with rule prune: a prune removes |w| <= X * std of the layer's weights",
} as const;

// soft-DEEP R (Bellec et al. 2018, Algorithm 2): no hard bound; a dormant θ keeps random-walking
// down to θ_min and becomes active when it reaches 0. θ_min = −(1 − p0)/(p0·β) per layer, p0 the
// layer's connectivity and β = α/T, as the authors' soft-DEEP R script derives it.
export const beta = {
  option: "beta", flag: "beta", part: "structure", type: "real", default: 4e6, min: 1e-30, max: 1e30, placeholder: "X",
  help: "with rule soft-deep-r: alpha / T, setting theta_min = -(1 - p0) / (p0 * X)\n(the soft script's 2 * alpha / (lr * noise^2) at lr 0.05)",
} as const;

export const softDeepRStructure = {
  part: "structure",
  name: "soft-deep-r",
  summary: "soft rewiring: dormant connections keep a theta that random-walks down to theta_min and return when it reaches 0; no hard bound on K",
  hyperparameters: [beta],
} as const satisfies RulePart;

export const pruneStructure = {
  part: "structure",
  name: "prune",
  summary: "magnitude pruning on a schedule; removed connections never come back",
  hyperparameters: [pruneStart, pruneEvery, pruneTimes, quality],
} as const satisfies RulePart;
