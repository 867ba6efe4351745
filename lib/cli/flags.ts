// Every flag of the command line: what its value is, and which API option it sets (so that the
// API's errors, which name `options.x`, can be reported as the flag the user typed).
import { presets } from "../presets.js";

export type FlagKind = "boolean" | "text" | "number" | "list" | "choice";

export interface FlagSpec {
  kind: FlagKind;
  choices?: readonly string[];
  /** The ModelOptions or TrainOptions key it sets, or "threads" for setThreads(). */
  option?: string;
}

export const flags = {
  dataset: { kind: "choice", choices: ["mnist", "cifar10", "file"] },
  data: { kind: "text" },
  labels: { kind: "text", option: "labels" },
  "label-column": { kind: "text", option: "labelColumn" },
  normalize: { kind: "text", option: "normalize" },
  "test-fraction": { kind: "number", option: "testFraction" },
  limit: { kind: "number" },
  preset: { kind: "choice", choices: Object.keys(presets) },
  layers: { kind: "list", option: "layers" },
  connectivity: { kind: "list", option: "connectivity" },
  budget: { kind: "choice", choices: ["layer", "global"], option: "budget" },
  "global-share": { kind: "choice", choices: ["budget", "dormant"], option: "globalShare" },
  bias: { kind: "boolean", option: "bias" },
  seed: { kind: "number", option: "seed" },
  resume: { kind: "text" },
  epochs: { kind: "number", option: "epochs" },
  lr: { kind: "number", option: "lr" },
  "lr-schedule": { kind: "choice", choices: ["exponential", "cosine"], option: "lrSchedule" },
  "lr-decay": { kind: "number", option: "lrDecay" },
  "batch-size": { kind: "number", option: "batchSize" },
  alpha: { kind: "number", option: "alpha" },
  noise: { kind: "number", option: "noise" },
  temperature: { kind: "number", option: "temperature" },
  momentum: { kind: "number", option: "momentum" },
  "check-invariants": { kind: "boolean", option: "checkInvariants" },
  threads: { kind: "number", option: "threads" },
  out: { kind: "text" },
  json: { kind: "boolean" },
  format: { kind: "choice", choices: ["onnx"] },
  weights: { kind: "choice", choices: ["sparse", "dense"] },
} satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof flags;

export const flagNames = Object.keys(flags) as FlagName[];

export function isFlag(name: string): name is FlagName {
  return Object.hasOwn(flags, name);
}

/** The flag that sets API option `option` (e.g. "lrSchedule" -> "lr-schedule"). */
export function flagOf(option: string): FlagName | undefined {
  return flagNames.find((name) => (flags[name] as FlagSpec).option === option);
}
