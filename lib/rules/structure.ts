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
