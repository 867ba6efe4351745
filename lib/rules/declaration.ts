// How a hyper-parameter is declared: the option it is in ModelOptions or TrainOptions, its
// command-line flag, its type, default, range and help text. Each is declared once, by the rule
// part it belongs to (lib/rules/) or by the training loop (lib/fit-loop-settings.ts); validation
// (lib/options.ts), the CLI's flags (lib/cli/flags.ts) and `deepr --help` (lib/cli/help.ts) are
// derived from the declarations.

/**
 * The part of training a hyper-parameter belongs to: the optimiser (the gradient step), the prior
 * (the l1 pull and the Gaussian noise of Algorithm 1, applied outside the optimiser's scaling),
 * the structure rule (which connections are active; its settings shape the network and are model
 * options) or the training loop.
 */
export type HyperparameterPart = "optimiser" | "prior" | "structure" | "loop";

interface Declaration {
  /** The TrainOptions key, or the ModelOptions key for the structure rule (lib/options.ts checks that it is one). */
  option: string;
  /** The command-line flag, without the dashes. */
  flag: string;
  part: HyperparameterPart;
  /** What it does, as `--help` says it; a line break continues it on the next line of `--help`. */
  help: string;
}

export interface NumberDeclaration extends Declaration {
  type: "integer" | "real";
  /** Absent for `temperature`, the alternative to `noise`, which has the default. */
  default?: number;
  min: number;
  max: number;
  /** The range excludes `min` (it always includes `max`). */
  minOpen?: boolean;
  /** The value's name in `--help`, e.g. `--lr X`. */
  placeholder: string;
  /** Said after the default in `--help`, e.g. `(0: plain SGD)`. */
  defaultNote?: string;
}

export interface ChoiceDeclaration extends Declaration {
  type: "choice";
  choices: readonly string[];
  default: string;
}

export interface BooleanDeclaration extends Declaration {
  type: "boolean";
  default: boolean;
}

export type HyperparameterDeclaration = NumberDeclaration | ChoiceDeclaration | BooleanDeclaration;

/** One part of an update rule: its name and the hyper-parameters it takes. */
export interface RulePart {
  part: Exclude<HyperparameterPart, "loop">;
  name: string;
  /** What it does, in a line. */
  summary: string;
  hyperparameters: readonly HyperparameterDeclaration[];
}
