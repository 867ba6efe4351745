// Every training hyper-parameter: those of the update rule's optimiser and prior (lib/rules/) and
// those of the training loop (lib/fit-loop-settings.ts), in the order `deepr --help` lists them
// and the options are named in errors. lib/options.ts validates and fills in defaults from these
// declarations, and the CLI's flag table (lib/cli/flags.ts) and the "Algorithm 1 and training"
// block of `deepr --help` (lib/cli/help.ts) are generated from them. The structure rule's
// settings shape the network: they are model options (structureSettings).
import { batchSize, checkInvariants, clipNorm, crop, epochs, flip, lrDecay, lrSchedule } from "./fit-loop-settings.js";
import type { HyperparameterDeclaration } from "./rules/declaration.js";
import { beta1, beta2, epsilon, lr, momentum } from "./rules/optimiser.js";
import { alpha, noise, temperature, weightDecay } from "./rules/prior.js";

export type { HyperparameterDeclaration, HyperparameterPart } from "./rules/declaration.js";
export { noiseAlternatives } from "./rules/prior.js";

export const hyperparameters = [
  epochs, lr, lrSchedule, lrDecay, batchSize, alpha, noise, temperature, weightDecay, momentum, beta1, beta2, epsilon, clipNorm, crop, flip, checkInvariants,
] as const satisfies readonly HyperparameterDeclaration[];

/** The structure rules' settings, model options: `budget`, `globalShare` and the prune schedule. */
export { structureSettings } from "./rules/registry.js";

export type HyperparameterOption = (typeof hyperparameters)[number]["option"];
export type HyperparameterFlag = (typeof hyperparameters)[number]["flag"];
