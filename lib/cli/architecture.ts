// --model NAME on the command line: which ready-made architecture a run builds (named by --model or
// by the preset), and its input shape from the data it trains on: `cnn` reads the images as they
// are ([1, 28, 28] for MNIST, [3, 32, 32] for CIFAR-10), `lstm` one-channel images row by row as
// sequences ([28, 28] for MNIST, as lib/data/sequential-mnist.ts) or the user's [time, features].
import { architectureNames, isArchitectureName, type ArchitectureName } from "../architectures/registry.js";
import type { Flags } from "./args.js";
import { UsageError } from "./usage-error.js";

/**
 * The architecture --model names; undefined when it names a file (a path, or a name ending in
 * .json). A bare word that is no architecture is an error listing them.
 */
export function namedArchitecture(flags: Flags): ArchitectureName | undefined {
  const model = flags.text("model");
  if (model === undefined || isArchitectureName(model)) return model;
  if (/[/\\.]/.test(model)) return undefined;
  throw new UsageError(`--model ${model} is not an architecture: give one of ${architectureNames.join(", ")}, or a FILE.json holding a layer list`);
}

/** The input shape architecture `name` reads samples of shape `sampleShape` as; `data` names the data for errors. */
export function architectureInput(name: Exclude<ArchitectureName, "mlp">, sampleShape: readonly number[], data: string): number[] {
  const shape = `[${sampleShape.join(", ")}]`;
  if (name === "cnn") {
    if (sampleShape.length === 3) return [...sampleShape];
    throw new UsageError(`--model cnn reads images [channels, height, width], but ${data} has samples of shape ${shape}; give images (a .npy file of shape [samples, channels, height, width])`);
  }
  if (sampleShape.length === 2) return [...sampleShape];
  if (sampleShape.length === 3 && sampleShape[0] === 1) return sampleShape.slice(1);
  throw new UsageError(`--model lstm reads sequences [time, features] (or one-channel images, row by row), but ${data} has samples of shape ${shape}`);
}
