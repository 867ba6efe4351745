// The ready-made architectures by name: `architecture("cnn", options)` gives the layer list and
// input shape that Model.create takes. Adding one: its file here and an entry below.
import { describe } from "../checks.js";
import type { Architecture } from "./architecture.js";
import { cnn, type CnnOptions } from "./cnn.js";
import { lstm, type LstmOptions } from "./lstm.js";
import { mlp, type MlpOptions } from "./mlp.js";

/** Each architecture's options by its name. */
export interface ArchitectureOptions {
  mlp: MlpOptions;
  cnn: CnnOptions;
  lstm: LstmOptions;
}

export type ArchitectureName = keyof ArchitectureOptions;

const ARCHITECTURES: { [N in ArchitectureName]: (options?: ArchitectureOptions[N]) => Architecture } = { mlp, cnn, lstm };

export const architectureNames = Object.keys(ARCHITECTURES) as ArchitectureName[];

export function isArchitectureName(name: unknown): name is ArchitectureName {
  return typeof name === "string" && Object.hasOwn(ARCHITECTURES, name);
}

/** The layer list and input shape of the architecture `name`, built for `options`; errors name `options.key`. */
export function architecture<N extends ArchitectureName>(name: N, options?: ArchitectureOptions[N]): Architecture {
  if (!isArchitectureName(name))
    throw new RangeError(`architecture must be one of ${architectureNames.map((n) => JSON.stringify(n)).join(", ")}, got ${describe(name)}`);
  return (ARCHITECTURES[name] as (options?: ArchitectureOptions[N]) => Architecture)(options);
}
