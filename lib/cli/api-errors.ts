// The API validates options and throws TypeError or RangeError naming `options.x`; on the command
// line those become errors about the flag that set x, and, when the user never typed that flag,
// about where its value came from and which of the given flags it conflicts with.
import { structureSettings } from "../hyperparameters.js";
import type { Flags } from "./args.js";
import { flagOf, flags as flagSpecs, type FlagName, type FlagSpec } from "./flags.js";
import { UsageError } from "./usage-error.js";

export interface OptionSources {
  flags: Flags;
  /** Where the values of flags not given come from: `the default`, `the "tuned" preset`, `the resumed model`. */
  origin: string;
  /** The value each API option had, given or not. */
  values: Record<string, unknown>;
}

// `options.x` or `options.x[n]` (ModelOptions, TrainOptions), or `threads` (setThreads).
const OPTION = /\boptions\.(\w+)(?:\[(\d+)\])?|^threads\b/g;
// The flags that shape the network: those a value the user did not give can conflict with.
const MODEL_FLAGS: FlagName[] = ["model", "layers", "connectivity", "rule", ...structureSettings.map((d) => d.flag), "bias", "seed"];

/** A UsageError naming flags for an option error of the API; any other error is returned as it is. */
export function flagError(error: unknown, sources: OptionSources): unknown {
  if (!(error instanceof TypeError || error instanceof RangeError)) return error;
  const message = error.message;
  const named: FlagName[] = [];
  const translated = message.replace(OPTION, (whole, option: string | undefined, index: string | undefined) => {
    const flag = flagOf(option ?? whole);
    if (!flag) return whole;
    if (!named.includes(flag)) named.push(flag);
    return index === undefined ? `--${flag}` : `--${flag} value ${Number(index) + 1}`;
  });
  if (named.length === 0) return error;
  const layerCount = /^options\.connectivity must have one value per layer \((\d+)\), got (\d+)$/.exec(message);
  if (layerCount) return new UsageError(layerMismatch(sources, Number(layerCount[1]), Number(layerCount[2])));
  const notGiven = named.filter((flag) => !sources.flags.has(flag));
  const origins = notGiven.map((flag) => `${sources.origin} --${flag} is ${show(sources.values[optionOf(flag)])}`);
  const given = sources.flags.describe(MODEL_FLAGS);
  const context = origins.length === 0 ? "" : ` (${origins.join("; ")}${given ? `, which conflicts with ${given}` : ""})`;
  return new UsageError(translated + context);
}

// The most common conflict: new --layers against the preset's connectivity, or the reverse.
function layerMismatch({ flags, origin, values }: OptionSources, layers: number, connectivity: number): string {
  const layersText = flags.has("layers") ? flags.show("layers") : `${origin} --layers ${show(values.layers)}`;
  const connectivityText = flags.has("connectivity") ? flags.show("connectivity") : `${origin} --connectivity ${show(values.connectivity)}`;
  return `${layersText} has ${plural(layers, "layer")} but ${connectivityText} has ${plural(connectivity, "value")}; ` +
    `give --connectivity with ${plural(layers, "value")} (or one for every layer)`;
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

function optionOf(flag: FlagName): string {
  return (flagSpecs[flag] as FlagSpec).option ?? flag;
}

function show(value: unknown): string {
  return Array.isArray(value) ? value.join(",") : String(value);
}
