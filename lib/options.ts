// Model and training options: their defaults (the reference code's values) and their validation,
// and the checks every other argument of the API is validated with (paths, option objects, seeds,
// counts), so each kind of value is checked one way. Every check throws a TypeError or RangeError
// that names the option and the value it got. The
// training options and the structure rule's settings are checked against their declarations
// (lib/hyperparameters.ts gathers them).
import { boolean, describe, integer, MAX_SEED, MAX_SIZE, object, oneOf, real, rejectUnknown, shapeSize } from "./checks.js";
import type { LayerSpec } from "./layers/layer-kind.js";
import { planNetwork, specsOf, widthsAsSpecs, type PlannedNetwork } from "./layers/plan.js";
import { storesOf } from "./layers/stores.js";
import { optimizerNames, type OptimizerName } from "./rules/optimiser.js";
import { findRule, rule, type RuleName, type StructureSettings } from "./rules/registry.js";
import { hyperparameters, noiseAlternatives, structureSettings, type HyperparameterDeclaration } from "./hyperparameters.js";

/** How the network is built. */
export interface ModelOptions {
  /**
   * The layers: either their widths, input first, e.g. `[784, 300, 100, 10]` (sparse linear layers
   * with ReLU between them and a softmax cross-entropy head), or a list of layer specs, the loss
   * head last, e.g. `[{ kind: "sparse_linear", outputs: 300, connectivity: 0.1, bias: false },
   * { kind: "relu" }, ..., { kind: "softmax_cross_entropy" }]`, with `inputShape`.
   */
  layers: number[] | LayerSpec[];
  /** With a layer list: the shape of one sample, e.g. `[784]`. */
  inputShape?: number[];
  /**
   * With widths: the fraction of the possible connections of each layer that are active, in
   * (0, 1]: one number for every layer or one per layer. Layer l keeps
   * K_l = floor(in_l * out_l * connectivity_l). A layer list gives it per layer.
   */
  connectivity?: number | number[];
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
  /** With widths: add a bias to every unit (the reference network has none). Default false. A layer list gives it per layer. */
  bias?: boolean;
  /**
   * The training rule. Default `"deep-r"`. The baselines (Bellec et al. 2018, sec. 3) train signed
   * weights with a layer budget: `"dense"` (every connection; connectivity 1), `"fixed"` (the initial
   * connections), `"prune"` (l2 weight decay `weightDecay` and magnitude pruning after step
   * `pruneStart`, every `pruneEvery` steps, `pruneTimes` times, of `|w| <= quality * std`), `"l1"`
   * (l1 shrinkage by `alpha`, then one prune of the zeroed weights after step `pruneStart`).
   * `"soft-deep-r"`: Algorithm 2 of the paper, no hard bound on the active connections; each layer's
   * connectivity is its target p0, and it keeps one θ per potential connection.
   */
  rule?: RuleName;
  /** With rule "prune" or "l1": the first prune runs after this step. Default 1000. */
  pruneStart?: number;
  /** With rule "prune": steps between two prunes. Default 1000. */
  pruneEvery?: number;
  /** With rule "prune": how many prunes run. Default 3. */
  pruneTimes?: number;
  /** With rule "prune": a prune removes the weights with |w| <= quality * std of the layer's weights. Default 0.5. */
  quality?: number;
  /**
   * With rule "soft-deep-r": β = α/T, which sets each layer's floor θ_min = −(1 − p0)/(p0·β).
   * Default 4e6, the soft script's (lr 0.05, alpha 1e-5, noise 1e-5: β = 2·alpha/(lr·noise²)).
   */
  beta?: number;
  /** Seeds initialisation, signs, noise, regrowth and shuffling. An integer in [0, 2^53). Default 1. */
  seed?: number;
  /**
   * `"mpi"`: train on all the processes mpirun started, data-parallel: each trains its share of
   * every batch and the gradients are summed over MPI (README, "Training on several processes
   * (MPI)"). Needs Open MPI. Not saved in checkpoints: a run resumes on any number of processes.
   */
  distributed?: "mpi";
  /**
   * Where train() runs (README, "GPU (CUDA)"): `"auto"` (default) on a CUDA GPU where a usable
   * device and the CUDA device library are present and the GPU trains this network, else on the
   * CPU; `"cpu"`; `"cuda"`, which throws an Error with `code: "DEEPR_CUDA_UNAVAILABLE"` and the
   * reason where no GPU is usable. `model.backend` says which was chosen and why. Not saved in
   * checkpoints: a run resumes on either backend.
   */
  backend?: "auto" | "cpu" | "cuda";
  /** With backend "cuda" or "auto": which CUDA device, by ordinal. Default 0. */
  device?: number;
}

export interface NormalizedModelOptions {
  /** As given: the widths, or the layer list with every field filled in. */
  layers: number[] | LayerSpec[];
  /** The shape of one sample (with widths: `[layers[0]]`). */
  inputShape: number[];
  /** Of each layer with a sparse store, input first. */
  connectivity: number[];
  /** K of each layer with a sparse store, input first. */
  budgets: number[];
  budget: "layer" | "global";
  globalShare: "budget" | "dormant";
  /** Whether every layer with parameters has a bias. */
  bias: boolean;
  rule: RuleName;
  seed: number;
  /** The structure settings of the rules that take them: the prune schedule, soft-deep-r's beta. */
  pruneStart?: number;
  pruneEvery?: number;
  pruneTimes?: number;
  quality?: number;
  beta?: number;
}

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
  /** With rule "prune": l2 weight decay lambda, theta -= lr * lambda * theta after each step. Default 1e-4. */
  weightDecay?: number;
  /** With the adam optimiser: decay of the first moment. Default 0.9. */
  beta1?: number;
  /** With the adam optimiser: decay of the second moment. Default 0.999. */
  beta2?: number;
  /** With the adam optimiser: added to sqrt(v) in the step's denominator. Default 1e-8. */
  epsilon?: number;
  /**
   * Gradient clipping by global norm: when the Euclidean norm of all of a step's gradients (every
   * store of every layer together) exceeds `clipNorm`, they are all scaled down to that norm before
   * the optimiser's step. 0 (default) turns it off.
   */
  clipNorm?: number;
  /**
   * Image samples ([channels, height, width]) only: each epoch, pad every image with `crop` zeros
   * on each side and cut it back to its size at a random offset. Default 0 (off).
   */
  crop?: number;
  /** Image samples only: each epoch, mirror every image left-right with probability 1/2. Default false. */
  flip?: boolean;
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

/** A file or directory path. A number would be taken as a file descriptor (0 = stdin) by node:fs. */
export { describe, integer, MAX_SIZE, object, real, rejectUnknown, shapeSize } from "./checks.js";

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

/** A seed of the random streams or of a split: an integer that a double holds exactly. */
export function seedOption(name: string, value: unknown): number {
  return integer(name, value, 0, MAX_SEED);
}

const MODEL_KEYS = [
  "layers", "inputShape", "connectivity", "budget", "globalShare", "bias", "rule", "seed", "distributed", "backend", "device",
  ...structureSettings.flatMap((d) => (d.type === "choice" ? [] : [d.option])),
] as const;

export function normalizeModelOptions(input: unknown): NormalizedModelOptions {
  const o = object("options", input);
  rejectUnknown("options", o, MODEL_KEYS);
  if (!Array.isArray(o.layers))
    throw new TypeError(`options.layers must be an array of layer widths or of layer specs ({ kind, ... }), got ${describe(o.layers)}`);
  const ruleName = declared(rule, o.rule === undefined ? rule.default : o.rule) as RuleName;
  const common = {
    ...structure(o, ruleName),
    rule: ruleName,
    seed: o.seed === undefined ? 1 : seedOption("options.seed", o.seed),
  };
  // A list of specs starts with an object (an empty list with an input shape is a list too, to be refused as one).
  const list = o.layers.length === 0 ? o.inputShape !== undefined : typeof o.layers[0] === "object" && o.layers[0] !== null;
  return list ? layerList(o, o.layers, common) : widths(o, o.layers, common);
}

type Common = StructureSettings & Pick<NormalizedModelOptions, "rule" | "seed">;

function widths(o: Record<string, unknown>, given: unknown[], common: Common): NormalizedModelOptions {
  if (o.inputShape !== undefined) throw new TypeError("options.inputShape goes with a list of layer specs; with widths, layers[0] is the input width");
  if (given.length < 2) throw new RangeError(`options.layers needs at least an input and an output width, got ${given.length}`);
  const layers = given.map((w, n) => integer(`options.layers[${n}]`, w, 1, MAX_SIZE));
  if (layers[layers.length - 1] < 2) throw new RangeError(`options.layers: the output layer needs at least 2 classes, got ${layers[layers.length - 1]}`);
  const count = layers.length - 1;
  const dense = findRule(common.rule)!.dense;
  const connectivityGiven = o.connectivity ?? (dense ? 1 : undefined);
  if (connectivityGiven === undefined) throw new TypeError("options.connectivity is required: a fraction in (0, 1], or one per layer");
  const list = Array.isArray(connectivityGiven) ? connectivityGiven : new Array<unknown>(count).fill(connectivityGiven);
  if (list.length !== count)
    throw new RangeError(`options.connectivity must have one value per layer (${count}), got ${list.length}`);
  const connectivity = list.map((p, l) => real(`options.connectivity[${l}]`, p, 0, 1, true));
  const partial = connectivity.findIndex((p) => p !== 1);
  if (dense && partial >= 0)
    throw new RangeError(`options.connectivity[${partial}] is ${connectivity[partial]}, but rule "dense" trains every connection; leave connectivity out, or use rule "fixed" for a fixed sparse network`);
  const budgets = connectivity.map((p, l) => {
    const positions = layers[l] * layers[l + 1];
    const k = Math.floor(positions * p);
    if (k < 1)
      throw new RangeError(`options.connectivity[${l}] = ${p} leaves no connection in the ${layers[l]} x ${layers[l + 1]} layer; it needs at least ${1 / positions}`);
    if (k > MAX_SIZE)
      throw new RangeError(`options.connectivity[${l}] = ${p} gives layer ${l} ${k} active connections; the limit is ${MAX_SIZE} per layer`);
    return k;
  });
  const bias = o.bias === undefined ? false : boolean("options.bias", o.bias);
  return { layers, inputShape: [layers[0]], connectivity, budgets, ...common, bias };
}

function layerList(o: Record<string, unknown>, given: unknown[], common: Common): NormalizedModelOptions {
  for (const key of ["connectivity", "bias"] as const)
    if (o[key] !== undefined) throw new TypeError(`options.${key} goes with layer widths; with a layer list, give each layer its own ${key}`);
  if (o.inputShape === undefined) throw new TypeError("options.inputShape is required with a layer list: the shape of one sample, e.g. [784]");
  const inputShape = sampleShapeOption("options.inputShape", o.inputShape);
  const { layers } = planNetwork(given, inputShape, "options.layers");
  const sparse = layers.flatMap((layer) => Object.values(storesOf(layer)).filter((store) => store.kind === "sparse"));
  const partial = layers.flatMap((layer, l) =>
    Object.values(storesOf(layer)).flatMap((store) => (store.kind === "sparse" && store.connectivity !== 1 ? [{ l, connectivity: store.connectivity }] : [])),
  )[0];
  if (findRule(common.rule)!.dense && partial)
    throw new RangeError(`options.layers[${partial.l}].connectivity is ${partial.connectivity}, but rule "dense" trains every connection; give it connectivity 1, or use rule "fixed"`);
  const withStores = layers.map(storesOf).filter((stores) => Object.keys(stores).length > 0);
  return {
    layers: specsOf(layers),
    inputShape,
    connectivity: sparse.map((store) => store.connectivity),
    budgets: sparse.map((store) => store.budget),
    ...common,
    bias: withStores.length > 0 && withStores.every((stores) => stores.bias !== undefined),
  };
}

/** The network the options describe, layer by layer (stores without training state), and each layer's output shape. */
export function networkOf(o: NormalizedModelOptions): PlannedNetwork {
  const specs = isLayerList(o.layers) ? o.layers : widthsAsSpecs(o.layers, o.connectivity, o.bias);
  return planNetwork(specs, o.inputShape, "options.layers");
}

/** Whether the model was given as a layer list (not widths). */
export function isLayerList(layers: number[] | LayerSpec[]): layers is LayerSpec[] {
  return typeof layers[0] === "object";
}

/** The values per sample the network reads and the width of what its loss head reads (the classes). */
export function networkWidths(o: NormalizedModelOptions): { inputs: number; outputs: number } {
  const { shapes } = networkOf(o);
  return { inputs: shapeSize(o.inputShape), outputs: shapeSize(shapes[shapes.length - 1]) };
}

/**
 * The structure settings of rule `name`, each as given or its default, with DEEP R's budget and
 * globalShare for every rule (a baseline's budget is per layer); a setting of another rule is refused.
 */
function structure(o: Record<string, unknown>, name: RuleName): StructureSettings {
  const own: readonly HyperparameterDeclaration[] = findRule(name)!.settings;
  const settings = structureSettings.flatMap((d) => {
    const given = o[d.option];
    const deepR = d.option === "budget" || d.option === "globalShare";
    if (!own.includes(d) && !deepR && given !== undefined) {
      const takers = structureRulesTaking(d).map((r) => JSON.stringify(r)).join(" or ");
      throw new TypeError(`options.${d.option} goes with rule ${takers}; rule ${JSON.stringify(name)} does not take it`);
    }
    return own.includes(d) || deepR ? [[d.option, declared(d, given === undefined ? d.default : given)]] : [];
  });
  const normalized = Object.fromEntries(settings) as StructureSettings;
  if (name !== "deep-r" && normalized.budget === "global")
    throw new RangeError(`options.budget "global" is DEEP R's regrowth shared between layers; rule ${JSON.stringify(name)} keeps each layer's own connections: use budget "layer"`);
  return normalized;
}

/** The rules whose settings include `d`. */
function structureRulesTaking(d: HyperparameterDeclaration): RuleName[] {
  return rule.choices.filter((name) => (findRule(name)!.settings as readonly HyperparameterDeclaration[]).includes(d));
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

/**
 * The optimiser a fit() trains with: as given, else "momentum" when `momentum` > 0, "adam" when
 * the model trains with Adam (`current`), and "sgd" otherwise; the error names options.optimizer
 * and the known optimisers.
 */
export function optimizerOption(value: unknown, momentum: number, current: OptimizerName): OptimizerName {
  const implied = momentum > 0 ? "momentum" : current === "adam" ? "adam" : "sgd";
  const name = value === undefined ? implied : oneOf("options.optimizer", value, optimizerNames);
  if (name === "adam" && momentum > 0)
    throw new RangeError(`options.optimizer "adam" keeps no velocity, but options.momentum is ${momentum}; set momentum to 0 (Adam's own decays are beta1 and beta2)`);
  if (name === "sgd" && momentum > 0)
    throw new RangeError(`options.optimizer "sgd" keeps no velocity, but options.momentum is ${momentum}; give optimizer "momentum" or leave it out`);
  if (name === "momentum" && momentum === 0) throw new RangeError('options.optimizer "momentum" needs options.momentum > 0, e.g. 0.9');
  return name;
}
