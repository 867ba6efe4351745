// The commands and the flags each one takes; a flag of another command is an error, not ignored.
import { hyperparameters, structureSettings } from "../hyperparameters.js";
import { optimizer } from "../rules/optimiser.js";
import { rule } from "../rules/registry.js";
import type { FlagName } from "./flags.js";

interface CommandSpec {
  usage: string;
  /** Takes one FILE argument. */
  file: boolean;
  flags: readonly FlagName[];
}

export const commands = {
  train: {
    usage: "deepr train [options]",
    file: false,
    flags: [
      "dataset", "data", "labels", "targets", "label-column", "normalize", "test-fraction", "limit", "preset", "model", "layers", "connectivity",
      rule.flag, ...structureSettings.map((d) => d.flag), "bias", "seed", "resume",
      ...hyperparameters.map((d) => d.flag as FlagName), optimizer.flag,
      "threads", "distributed", "backend", "device", "out", "json", "plot",
    ],
  },
  eval: {
    usage: "deepr eval FILE [--dataset mnist|cifar10|file] [--data PATH] [--threads N] [--json]",
    file: true,
    flags: ["dataset", "data", "labels", "targets", "label-column", "normalize", "test-fraction", "threads", "json"],
  },
  inspect: { usage: "deepr inspect FILE [--json]", file: true, flags: ["json"] },
  info: { usage: "deepr info [--json]", file: false, flags: ["json"] },
  export: { usage: "deepr export FILE [--format onnx] [--weights sparse|dense] [--out FILE.onnx]", file: true, flags: ["format", "weights", "out"] },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof commands;

export const commandNames = Object.keys(commands) as CommandName[];
