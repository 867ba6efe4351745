// Loads the compiled addon and describes its interface. The addon is a thin layer: every
// argument reaching it has already been validated by lib/, which owns all policy.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { diagnoseBinaries, whyBinaryFails } from "./binary-diagnosis.js";

/**
 * A layer as the core's registry builds it (cpp/layer_registry.hpp): its kind and its fields, each
 * a number or a boolean (sparse_linear: inputs, outputs, budget, bias; dense_linear: inputs, outputs,
 * bias; relu, softmax_cross_entropy and mean_squared_error: none).
 */
export type NativeLayerSpec = Readonly<{ kind: string } & Record<string, string | number | boolean>>;

/** The training rule by the names of its three parts (cpp/rules/rule.hpp). */
export interface NativeRule {
  optimiser: "sgd" | "momentum" | "adam";
  prior: "deep-r" | "none" | "l2" | "l1-shrink";
  structure: "deep-r" | "fixed" | "prune" | "soft-deep-r";
  budget: "layer" | "global";
  globalShare: "budget" | "dormant";
  /** The prune structure's settings (cpp/rules/prune_structure.hpp). */
  pruneStart?: number;
  pruneEvery?: number;
  pruneTimes?: number;
  quality?: number;
  /** The soft-deep-r structure's setting (cpp/rules/soft_deep_r_structure.hpp). */
  beta?: number;
}

export interface NativeSpec {
  seed: number;
  layers: NativeLayerSpec[];
  rule: NativeRule;
}

/**
 * The step's hyper-parameters as a `{name: number}` record, by the names the network's rule
 * declares (`info().hyper`); the addon rejects any other name.
 */
export type NativeHyper = Readonly<Record<string, number>>;

/** A sparse store of the network (today: the weight of a sparse_linear layer), in id order. */
export interface NativeLayerInfo {
  inputs: number;
  outputs: number;
  active: number;
  budget: number;
}

/**
 * The state of one layer of the network as the addon moves it: per store name ("weight",
 * "bias"), per field, the arrays of the checkpoint tensors `layers.{l}.{store}.{field}`: a sparse
 * store's positions (K x 2 int32), theta and sign, a dense store's value, and the rule's state
 * arrays (velocity; Adam's m and v). A layer without stores has none.
 */
export type NativeLayerState = Record<string, Record<string, Int32Array | Float32Array | Int8Array | undefined>>;

/**
 * One sparse linear layer's parameters as flat arrays (Model.importLayers, format-1 checkpoints);
 * lib/model-state.ts converts them to and from the addon's store layout.
 */
export interface LayerArrays {
  /** K x 2 int32: (input index, output index) of each active connection. */
  positions: Int32Array;
  theta: Float32Array;
  sign?: Int8Array;
  bias?: Float32Array;
  velocity?: Float32Array;
  biasVelocity?: Float32Array;
}

export interface NativeTrainResult {
  loss: Float32Array;
  correct: Uint32Array;
  rewired: number[];
  /** Time the chunk spent on regrowth (choosing and inserting the new connections). */
  regrowthSeconds: number;
  /** Time the chunk spent drawing the updates' Gaussian noise (summed over threads). */
  noiseSeconds: number;
  /** Time the chunk spent in the gradient all-reduces of distributed training (0 alone). */
  allReduceSeconds: number;
  /** Bytes this process contributed to those all-reduces (0 alone). */
  allReduceBytes: number;
  step: number;
}

/**
 * A data set's targets as the network's loss head takes them (`info().targets`): class labels, one
 * per sample (softmax_cross_entropy), or values, samples x the head's outputs (mean_squared_error).
 */
export type NativeTargets = Int32Array | Float32Array;

export interface NativeNetwork {
  info(): { step: number; busy: boolean; layers: NativeLayerInfo[]; hyper: string[]; targets: "labels" | "values" };
  /** The rule of the next train() calls; switching to momentum adds velocities at zero. */
  setRule(rule: NativeRule): void;
  train(
    inputs: Float32Array,
    targets: NativeTargets,
    epoch: number,
    firstBatch: number,
    batches: number,
    batchSize: number,
    hyper: NativeHyper,
    check: boolean,
  ): Promise<NativeTrainResult>;
  evaluate(inputs: Float32Array, targets: NativeTargets): Promise<{ lossSum: number; correct: number }>;
  predict(inputs: Float32Array, logits: Float32Array): Promise<void>;
  exportState(layers: NativeLayerState[]): Promise<void>;
  importState(layers: NativeLayerState[], step: number): Promise<void>;
  check(): Promise<string>;
  /**
   * Data-parallel training over MPI from now on: this process's share of every batch, the states
   * compared every `agreeEvery` steps (0: never); throws when MPI cannot load.
   */
  distribute(engine: "mpi", agreeEvery: number): { rank: number; ranks: number };
  /** "" when a device can train this network, else what of it no device trains yet. */
  deviceSupport(): string;
  /** From now on train() runs on device `ordinal` of the device library at `path`; throws with the reason when it cannot. */
  useDevice(path: string, ordinal: number): void;
  /** train() runs on the CPU again; the device context is closed. */
  releaseDevice(): void;
  /** Frees the native memory, and the device context if it has one. */
  dispose(): void;
}

interface Addon {
  NativeNetwork: new (spec: NativeSpec) => NativeNetwork;
  abiVersion: number;
  threads(): number;
  setThreads(threads: number): void;
  /** The instruction set the core's dispatched loops run on: "avx512", "avx2", "sse2", or "none" (built without dispatch). */
  simdLevel(): "avx512" | "avx2" | "sse2" | "none";
  /** Loads a device library (cpp/device/device_library.hpp): usable or why not, and each device's description as one line of JSON. */
  probeDeviceLibrary(path: string): { ok: boolean; reason: string; devices: string[] };
  /** The code this process exits with: a distributed run then ends with MPI_Finalize for 0, else MPI_Abort (which stops the other processes). */
  setExitCode(exitCode: number): void;
}

const ABI_VERSION = 5;

/** The directory of deepr's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("deepr: cannot find the package root above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
  return dir;
}

let addon: Addon | undefined;
/** Environment variable naming an addon binary to load instead of the one found in build/ or prebuilds/. */
const BINARY_VARIABLE = "DEEPR_BINARY";
/** The binary loaded through DEEPR_BINARY, if one was. */
let overridden: string | undefined;

/** How to build the addon where this package lives: installed from the registry, or a clone. */
function rebuildAdvice(root: string): string {
  const how = root.split(sep).includes("node_modules")
    ? "run `npm rebuild deepr --foreground-scripts` in your project"
    : `run \`npm run build:native\` in ${root}`;
  return `To build it from source, ${how} (needs CMake >= 3.18, a C++17 compiler, and make or ninja).`;
}

/** The addon, loaded on first use; a failure says why and what to do. */
export function native(): Addon {
  if (addon) return addon;
  const root = packageRoot();
  const require = createRequire(import.meta.url);
  const override = process.env[BINARY_VARIABLE];
  if (override) [addon, overridden] = [loadOverride(require, override), resolve(override)];
  try {
    // Unless DEEPR_BINARY named a binary: build/ first, then prebuilds/ (node-gyp-build's order).
    addon ??= require("node-gyp-build")(root) as Addon;
  } catch (cause) {
    const tried = diagnoseBinaries(root).map(({ path, reason }) => `  ${path}: ${reason}`);
    throw new Error(
      `deepr: the native addon could not be loaded for ${process.platform}-${process.arch} (Node ${process.versions.node}). The binaries tried:\n` +
        `${tried.join("\n")}\n` +
        "It is built when deepr is installed, unless install scripts were skipped (--ignore-scripts, DEEPR_SKIP_INSTALL_BUILD=1,\n" +
        "or a project whose package.json does not allow deepr's: npm 12 skips those; `npm install-scripts approve deepr` allows it).\n" +
        `${rebuildAdvice(root)}\n` +
        `Or set ${BINARY_VARIABLE}=/path/to/deepr.node to load a binary built elsewhere.`,
      { cause },
    );
  }
  if (addon.abiVersion !== ABI_VERSION) {
    const found = addon.abiVersion;
    addon = undefined;
    throw new Error(`deepr: the native addon has interface version ${found}, this JavaScript expects ${ABI_VERSION}.\n${rebuildAdvice(root)}`);
  }
  return addon;
}

function loadOverride(require: NodeJS.Require, path: string): Addon {
  try {
    return require(resolve(path)) as Addon;
  } catch (cause) {
    const reason = whyBinaryFails(resolve(path)) ?? (cause as Error).message.split("\n")[0];
    throw new Error(
      `deepr: ${BINARY_VARIABLE}=${path} could not be loaded as the native addon (${reason}); ` +
        `point it at a deepr.node built for this platform, or unset it to use the package's own binary.`,
      { cause },
    );
  }
}

export interface BinaryInfo {
  /** Absolute path of the loaded addon binary. */
  path: string;
  /** How it was found: the DEEPR_BINARY variable, a local build (build/), or a prebuilt binary (prebuilds/). */
  source: "DEEPR_BINARY" | "build" | "prebuilds";
}

/** Which addon binary this process runs, and how it was found. Loads the addon if needed. */
export function binaryInfo(): BinaryInfo {
  native();
  if (overridden !== undefined) return { path: overridden, source: BINARY_VARIABLE };
  const require = createRequire(import.meta.url);
  // The same lookup native() loaded through, so the same file.
  const path = (require("node-gyp-build") as { resolve(dir: string): string }).resolve(packageRoot());
  return { path, source: path.includes(`${sep}prebuilds${sep}`) ? "prebuilds" : "build" };
}
