// Every flag of the command line: what its value is, and which API option it sets (so that the
// API's errors, which name `options.x`, can be reported as the flag the user typed). The training
// hyper-parameters' and the structure rule's flags come from their declarations (lib/hyperparameters.ts).
import { backendNames } from "../backend.js";
import { distributedEngines } from "../distributed.js";
import { hyperparameters, structureSettings, type HyperparameterDeclaration } from "../hyperparameters.js";
import { presets } from "../presets.js";
import { optimizer } from "../rules/optimiser.js";
import { rule } from "../rules/registry.js";

export type FlagKind = "boolean" | "text" | "number" | "list" | "choice";

export interface FlagSpec {
  kind: FlagKind;
  choices?: readonly string[];
  /** The ModelOptions or TrainOptions key it sets, or "threads" for setThreads(). */
  option?: string;
}

/** The flag of a training hyper-parameter, from its declaration. */
function flagSpec(d: HyperparameterDeclaration): FlagSpec {
  if (d.type === "choice") return { kind: "choice", choices: d.choices, option: d.option };
  return { kind: d.type === "boolean" ? "boolean" : "number", option: d.option };
}

function declaredFlags<D extends HyperparameterDeclaration>(declarations: readonly D[]): Record<D["flag"], FlagSpec> {
  return Object.fromEntries(declarations.map((d) => [d.flag, flagSpec(d)])) as Record<D["flag"], FlagSpec>;
}

export const flags = {
  dataset: { kind: "choice", choices: ["mnist", "cifar10", "file"] },
  data: { kind: "text" },
  labels: { kind: "text", option: "labels" },
  targets: { kind: "text", option: "targets" },
  "label-column": { kind: "text", option: "labelColumn" },
  normalize: { kind: "text", option: "normalize" },
  "test-fraction": { kind: "number", option: "testFraction" },
  limit: { kind: "number" },
  preset: { kind: "choice", choices: Object.keys(presets) },
  model: { kind: "text" },
  layers: { kind: "list", option: "layers" },
  connectivity: { kind: "list", option: "connectivity" },
  ...declaredFlags([rule]),
  ...declaredFlags(structureSettings),
  bias: { kind: "boolean", option: "bias" },
  seed: { kind: "number", option: "seed" },
  resume: { kind: "text" },
  ...declaredFlags(hyperparameters),
  ...declaredFlags([optimizer]),
  threads: { kind: "number", option: "threads" },
  distributed: { kind: "choice", choices: distributedEngines },
  backend: { kind: "choice", choices: backendNames, option: "backend" },
  device: { kind: "number", option: "device" },
  out: { kind: "text" },
  plot: { kind: "text" },
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
