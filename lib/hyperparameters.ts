// Every training hyper-parameter, declared once: the option it is in TrainOptions, its command-line
// flag, its type, default, range and help text. lib/options.ts validates and fills in defaults from
// these declarations, and the CLI's flag table (lib/cli/flags.ts) and the "Algorithm 1 and
// training" block of `deepr --help` (lib/cli/help.ts) are generated from them.
//
// Each belongs to one part of the update: the optimiser (the gradient step), the prior (the l1 pull
// and the Gaussian noise of Algorithm 1, applied outside the optimiser's scaling) or the training
// loop. The structure rule's settings (budget, globalShare) shape the network and are model options.

export type HyperparameterPart = "optimiser" | "prior" | "loop";

interface Declaration {
  /** The TrainOptions key (lib/options.ts checks that it is one). */
  option: string;
  /** The command-line flag, without the dashes. */
  flag: string;
  part: HyperparameterPart;
  /** What it does, as `--help` says it. */
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

/** In the order `--help` lists them and the options are named in errors. */
export const hyperparameters = [
  {
    option: "epochs", flag: "epochs", part: "loop", type: "integer", default: 10, min: 0, max: 1_000_000, placeholder: "N",
    help: "epochs to complete, counting those already trained",
  },
  {
    option: "lr", flag: "lr", part: "optimiser", type: "real", default: 0.5, min: 0, max: 1e6, minOpen: true, placeholder: "X",
    help: "learning rate eta",
  },
  {
    option: "lrSchedule", flag: "lr-schedule", part: "optimiser", type: "choice", choices: ["exponential", "cosine"], default: "exponential",
    help: "exponential: lr * decay^epoch; cosine: to 0 along half a cosine",
  },
  {
    option: "lrDecay", flag: "lr-decay", part: "optimiser", type: "real", default: 0.8, min: 0, max: 1, minOpen: true, placeholder: "X",
    help: "factor per epoch of the exponential schedule",
  },
  {
    option: "batchSize", flag: "batch-size", part: "loop", type: "integer", default: 10, min: 1, max: 1 << 20, placeholder: "N",
    help: "samples per step",
  },
  {
    option: "alpha", flag: "alpha", part: "prior", type: "real", default: 1e-5, min: 0, max: 1e6, placeholder: "X",
    help: "l1 pull: theta -= lr * alpha each step",
  },
  {
    option: "noise", flag: "noise", part: "prior", type: "real", default: 1e-5, min: 0, max: 1e6, placeholder: "X",
    help: "noise std = lr * X, i.e. temperature T = lr * X^2 / 2",
  },
  {
    option: "temperature", flag: "temperature", part: "prior", type: "real", min: 0, max: 1e6, placeholder: "T",
    help: "or give T directly: noise std = sqrt(2 * lr * T)",
  },
  {
    option: "momentum", flag: "momentum", part: "optimiser", type: "real", default: 0, min: 0, max: 0.9999, placeholder: "X",
    defaultNote: "plain SGD", help: "momentum of the gradient step",
  },
  {
    option: "checkInvariants", flag: "check-invariants", part: "loop", type: "boolean", default: false,
    help: "verify exactly K active, no duplicates, indices in range after every step",
  },
] as const satisfies readonly HyperparameterDeclaration[];

export type HyperparameterOption = (typeof hyperparameters)[number]["option"];
export type HyperparameterFlag = (typeof hyperparameters)[number]["flag"];

/** `noise` and `temperature` both set the noise: a run gives at most one of them. */
export const noiseAlternatives = ["noise", "temperature"] as const satisfies readonly HyperparameterOption[];
