// Model and training options: their defaults (the reference code's values) and their validation,
// and the checks every other argument of the API is validated with (paths, option objects, seeds,
// counts), so each kind of value is checked one way. Every check throws a TypeError or RangeError
// that names the option and the value it got. The
// training options and the structure rule's settings are checked against their declarations
// (lib/hyperparameters.ts gathers them).
import { hyperparameters, noiseAlternatives, structureSettings, type HyperparameterDeclaration } from "./hyperparameters.js";

/** How the network is built. */
export interface ModelOptions {
  /** Layer widths, input first, e.g. `[784, 300, 100, 10]`. Hidden layers use ReLU. */
  layers: number[];
  /**
   * Fraction of the possible connections of each layer that are active, in (0, 1]: one number
   * for every layer or one per layer. Layer l keeps K_l = floor(in_l * out_l * connectivity_l).
   */
  connectivity: number | number[];
  /**
   * `"layer"` (default, as the reference script): every layer keeps exactly K_l active.
   * `"global"`: the network keeps exactly sum(K_l) active and layers trade connections.
   */
  budget?: "layer" | "global";
  /**
   * With `budget: "global"`, which layers the connections that died are regrown in:
   * `"budget"` (default, as the reference's global script): each new connection picks layer l
   * with probability K_l / sum(K); `"dormant"`: uniformly among all dormant connections of
   * the network, so layers with more dormant positions receive more.
   */
  globalShare?: "budget" | "dormant";
  /** Add a bias to every unit (the reference network has none). Default false. */
  bias?: boolean;
  /** Seeds initialisation, signs, noise, regrowth and shuffling. An integer in [0, 2^53). Default 1. */
  seed?: number;
}

export type NormalizedModelOptions = Required<ModelOptions> & { connectivity: number[]; budgets: number[] };

/** Hyper-parameters of Algorithm 1 and of the training loop. */
export interface TrainOptions {
  /** Train until this many epochs are complete (epochs already trained count). Default 10. */
  epochs?: number;
  /** Learning rate eta at epoch 0. Default 0.5. */
  lr?: number;
  /** `"exponential"` (default): lr * lrDecay^epoch. `"cosine"`: lr * (1 + cos(pi * epoch / epochs)) / 2. */
  lrSchedule?: "exponential" | "cosine";
  /** Factor applied to the learning rate after every epoch with the exponential schedule. Default 0.8. */
  lrDecay?: number;
  /** Samples per step. Default 10. */
  batchSize?: number;
  /** l1 coefficient alpha: every active theta moves by -lr * alpha per step. Default 1e-5. */
  alpha?: number;
  /**
   * Noise as in the reference code: the Gaussian added to each active theta has standard
   * deviation lr * noise, i.e. temperature T = lr * noise^2 / 2. Default 1e-5. Give either
   * `noise` or `temperature`.
   */
  noise?: number;
  /** Temperature T: the noise has standard deviation sqrt(2 * lr * T). */
  temperature?: number;
  /** Momentum of the gradient step; 0 (default) is the reference's plain SGD. l1 and noise stay outside it. */
  momentum?: number;
  /** Verify the strict bound (K active, no duplicates, indices in range) after every step. Default false. */
  checkInvariants?: boolean;
}

export type NormalizedTrainOptions = Required<Omit<TrainOptions, "noise" | "temperature">> &
  ({ noise: number; temperature?: undefined } | { temperature: number; noise?: undefined });

/** The declarations, each known to name a TrainOptions key. */
const declarations: readonly (HyperparameterDeclaration & { option: keyof TrainOptions })[] = hyperparameters;

/** The declared defaults: the reference code's values. */
export const referenceTrainOptions = Object.fromEntries(
  declarations.flatMap((d) => (d.default === undefined ? [] : [[d.option, d.default]])),
) as unknown as NormalizedTrainOptions;

const MAX_SEED = 2 ** 53 - 1;
/** The largest width, count or class index: what an int32 holds. */
export const MAX_SIZE = 2 ** 31 - 1;

export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value !== null && typeof value === "object") return `an object (${value.constructor?.name ?? "Object"})`;
  return String(value);
}

export function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new RangeError(`${name} must be an integer in [${min}, ${max}], got ${describe(value)}`);
  return value;
}

export function real(name: string, value: unknown, min: number, max: number, minOpen = false): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${describe(value)}`);
  if (!Number.isFinite(value) || value < min || value > max || (minOpen && value === min))
    throw new RangeError(`${name} must be a finite number in ${minOpen ? "(" : "["}${min}, ${max}], got ${describe(value)}`);
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
  if (!choices.includes(value as T))
    throw new RangeError(`${name} must be one of ${choices.map((c) => JSON.stringify(c)).join(", ")}, got ${describe(value)}`);
  return value as T;
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw new TypeError(`${name} must be true or false, got ${describe(value)}`);
  return value;
}

export function object(name: string, value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value))
    throw new TypeError(`${name} must be an object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

/** Throws naming the first key of `given` that is not `known`; `of` names the function the options are for. */
export function rejectUnknown(name: string, given: object, known: readonly string[], of?: string): void {
  for (const key of Object.keys(given))
    if (!known.includes(key))
      throw new TypeError(`${name ? `${name}.` : ""}${key} is not an option${of ? ` of ${of}` : ""}; the options are ${known.join(", ")}`);
}

/** A file or directory path. A number would be taken as a file descriptor (0 = stdin) by node:fs. */
export function nonEmptyString(name: string, value: unknown): string {
  if (typeof value !== "string" || value === "") throw new TypeError(`${name} must be a non-empty string, got ${describe(value)}`);
  return value;
}

/** The shape of one sample: a non-empty list of positive sizes whose product (the values per sample) an int32 holds. */
export function sampleShapeOption(name: string, value: unknown): number[] {
  if (!Array.isArray(value)) throw new TypeError(`${name} must be an array of dimension sizes, got ${describe(value)}`);
  if (value.length === 0) throw new RangeError(`${name} must have at least one dimension, e.g. [features]`);
  const shape = value.map((size, d) => integer(`${name}[${d}]`, size, 1, MAX_SIZE));
  const size = shapeSize(shape);
  if (size > MAX_SIZE) throw new RangeError(`${name} [${shape.join(", ")}] has ${size} features; the limit is ${MAX_SIZE}`);
  return shape;
}

/** The values per sample of a sample shape. */
export const shapeSize = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** A seed of the random streams or of a split: an integer that a double holds exactly. */
export function seedOption(name: string, value: unknown): number {
  return integer(name, value, 0, MAX_SEED);
}

const MODEL_KEYS = ["layers", "connectivity", "budget", "globalShare", "bias", "seed"] as const;

export function normalizeModelOptions(input: unknown): NormalizedModelOptions {
  const o = object("options", input);
  rejectUnknown("options", o, MODEL_KEYS);
  if (!Array.isArray(o.layers)) throw new TypeError(`options.layers must be an array of layer widths, got ${describe(o.layers)}`);
  if (o.layers.length < 2) throw new RangeError(`options.layers needs at least an input and an output width, got ${o.layers.length}`);
  const layers = o.layers.map((w, n) => integer(`options.layers[${n}]`, w, 1, MAX_SIZE));
  if (layers[layers.length - 1] < 2) throw new RangeError(`options.layers: the output layer needs at least 2 classes, got ${layers[layers.length - 1]}`);
  const count = layers.length - 1;
  const given = o.connectivity;
  if (given === undefined) throw new TypeError("options.connectivity is required: a fraction in (0, 1], or one per layer");
  const list = Array.isArray(given) ? given : new Array<unknown>(count).fill(given);
  if (list.length !== count)
    throw new RangeError(`options.connectivity must have one value per layer (${count}), got ${list.length}`);
  const connectivity = list.map((p, l) => real(`options.connectivity[${l}]`, p, 0, 1, true));
  const budgets = connectivity.map((p, l) => {
    const positions = layers[l] * layers[l + 1];
    const k = Math.floor(positions * p);
    if (k < 1)
      throw new RangeError(`options.connectivity[${l}] = ${p} leaves no connection in the ${layers[l]} x ${layers[l + 1]} layer; it needs at least ${1 / positions}`);
    if (k > MAX_SIZE)
      throw new RangeError(`options.connectivity[${l}] = ${p} gives layer ${l} ${k} active connections; the limit is ${MAX_SIZE} per layer`);
    return k;
  });
  return {
    layers,
    connectivity,
    budgets,
    ...structure(o),
    bias: o.bias === undefined ? false : boolean("options.bias", o.bias),
    seed: o.seed === undefined ? 1 : seedOption("options.seed", o.seed),
  };
}

/** The structure rule's settings, each as given or its default. */
function structure(o: Record<string, unknown>): Pick<NormalizedModelOptions, "budget" | "globalShare"> {
  const settings = structureSettings.map((d) => [d.option, declared(d, o[d.option] === undefined ? d.default : o[d.option])]);
  return Object.fromEntries(settings) as Pick<NormalizedModelOptions, "budget" | "globalShare">;
}

/** `value` checked against its declaration; the error names `options.<option>`. */
function declared(d: HyperparameterDeclaration, value: unknown): number | string | boolean {
  const name = `options.${d.option}`;
  switch (d.type) {
    case "integer": return integer(name, value, d.min, d.max);
    case "real": return real(name, value, d.min, d.max, d.minOpen);
    case "choice": return oneOf(name, value, d.choices);
    case "boolean": return boolean(name, value);
  }
}

/** Validates `input` over `base` (defaults, or the options a checkpoint was trained with). */
export function normalizeTrainOptions(input: unknown, base: NormalizedTrainOptions, extraKeys: readonly string[] = []): NormalizedTrainOptions {
  const o = input === undefined ? {} : object("options", input);
  rejectUnknown("options", o, [...declarations.map((d) => d.option), ...extraKeys]);
  const [noise, temperature] = noiseAlternatives;
  if (o[noise] !== undefined && o[temperature] !== undefined)
    throw new TypeError(`options.${noise} and options.${temperature} both set the noise; give only one`);
  const normalized: Record<string, unknown> = {};
  for (const d of declarations) {
    if ((noiseAlternatives as readonly string[]).includes(d.option)) continue;
    normalized[d.option] = declared(d, o[d.option] === undefined ? base[d.option] : o[d.option]);
  }
  // The noise as given, else as the base has it (a checkpoint trained with a temperature keeps it).
  const given = noiseAlternatives.find((key) => o[key] !== undefined);
  const kept = given ?? (base.temperature !== undefined ? temperature : noise);
  normalized[kept] = given ? declared(declarations.find((d) => d.option === given)!, o[given]) : (base[kept] ?? 0);
  return normalized as NormalizedTrainOptions;
}

/** The learning rate of epoch `epoch` (0-based). */
export function learningRate(o: NormalizedTrainOptions, epoch: number): number {
  if (o.lrSchedule === "cosine") return (o.lr * (1 + Math.cos((Math.PI * epoch) / Math.max(o.epochs, 1)))) / 2;
  return o.lr * o.lrDecay ** epoch;
}

/** Standard deviation of the per-step Gaussian on each active theta, sqrt(2 * lr * T). */
export function noiseStd(o: NormalizedTrainOptions, lr: number): number {
  return o.temperature !== undefined ? Math.sqrt(2 * lr * o.temperature) : lr * (o.noise ?? 0);
}
