// Every training hyper-parameter: those of the update rule's optimiser and prior (lib/rules/) and
// those of the training loop (lib/fit-loop-settings.ts), in the order `deepr --help` lists them
// and the options are named in errors. lib/options.ts validates and fills in defaults from these
// declarations, and the CLI's flag table (lib/cli/flags.ts) and the "Algorithm 1 and training"
// block of `deepr --help` (lib/cli/help.ts) are generated from them. The structure rule's
// settings shape the network: they are model options (structureSettings).
import { batchSize, checkInvariants, epochs, lrDecay, lrSchedule } from "./fit-loop-settings.js";
import type { HyperparameterDeclaration } from "./rules/declaration.js";
import { lr, momentum } from "./rules/optimiser.js";
import { alpha, noise, temperature } from "./rules/prior.js";
import { deepRStructure } from "./rules/structure.js";

export type { HyperparameterDeclaration, HyperparameterPart } from "./rules/declaration.js";
export { noiseAlternatives } from "./rules/prior.js";

export const hyperparameters = [
  epochs, lr, lrSchedule, lrDecay, batchSize, alpha, noise, temperature, momentum, checkInvariants,
] as const satisfies readonly HyperparameterDeclaration[];

/** The structure rule's settings, model options: `budget` and `globalShare`. */
export const structureSettings = deepRStructure.hyperparameters;

export type HyperparameterOption = (typeof hyperparameters)[number]["option"];
export type HyperparameterFlag = (typeof hyperparameters)[number]["flag"];
