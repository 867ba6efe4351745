// The training loop of fit(): each epoch runs as chunks of steps of about CHUNK_MS, each chunk
// under the model's lock, so abort, callbacks, timers and other operations on the model get their
// turn between two chunks. A batch whose loss or update is not finite either stops the run with a
// NonFiniteError or, with onNonFinite: "skip", is left out and the chunk replayed without it.
import type { CheckedData } from "./data-checks.js";
import type { EpochStats, Evaluation, FitOptions, LayerState, Progress, RegressionEvaluation } from "./model-types.js";
import type { NativeHyper, NativeNetwork } from "./native.js";
import { NonFiniteError, nonFiniteLayer } from "./non-finite-error.js";
import type { OptimizerName } from "./rules/optimiser.js";
import {
  describe,
  learningRate,
  noiseStd,
  normalizeTrainOptions,
  optimizerOption,
  type NormalizedTrainOptions,
} from "./options.js";

/** Each call into the addon trains for about this long, so abort, callbacks and timers stay responsive. */
const CHUNK_MS = 40;
/**
 * Processes that train together (distributed: "mpi") cut every epoch into the same chunks, so
 * that a skipped batch's replay makes the same steps, and the same all-reduces, on each: the
 * chunk doubles from 1 batch up to this many, whatever each process's timing.
 */
const LOCKSTEP_CHUNK = 32;

/** The options of FitOptions that are not training options. */
const FIT_KEYS = ["optimizer", "validation", "onBatchEnd", "onEpochEnd", "signal", "onNonFinite"] as const;

/**
 * fit()'s options checked: the training options, with those not given taken from `previous`, the
 * optimiser (the model's `current` one kept where the options imply no other), and whether to skip bad batches.
 */
export function normalizeFitOptions(
  options: FitOptions,
  previous: NormalizedTrainOptions,
  current: OptimizerName,
): { train: NormalizedTrainOptions; optimizer: OptimizerName; skip: boolean } {
  const train = normalizeTrainOptions(options, previous, FIT_KEYS);
  const optimizer = optimizerOption(options.optimizer, train.momentum, current);
  const onNonFinite = options.onNonFinite ?? "throw";
  if (onNonFinite !== "throw" && onNonFinite !== "skip")
    throw new RangeError(`options.onNonFinite must be "throw" or "skip", got ${describe(options.onNonFinite)}`);
  for (const key of ["onBatchEnd", "onEpochEnd"] as const)
    if (options[key] !== undefined && typeof options[key] !== "function")
      throw new TypeError(`options.${key} must be a function, got ${describe(options[key])}`);
  if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
    throw new TypeError(`options.signal must be an AbortSignal, got ${describe(options.signal)}`);
  return { train, optimizer, skip: onNonFinite === "skip" };
}

/** Where a training run stands, without the step, which the native network counts. */
export type Position = Omit<Progress, "step">;

/** What the loop needs of the model it trains. */
export interface Trainee {
  readonly network: NativeNetwork;
  /** Whether other processes train this network with it, chunk for chunk (LOCKSTEP_CHUNK). */
  readonly lockstep: boolean;
  /** Advanced in place as batches are trained; exact when the loop stops, however it stops. */
  readonly position: Position;
  /** The highest overall connectivity of the sparse stores in this fit so far (EpochStats.maxConnectivity), raised as the loop measures it. */
  readonly peak: { connectivity: number };
  /** Runs a native operation under the model's lock, after those called before it. */
  exclusive<T>(operation: () => Promise<T>): Promise<T>;
  /** A copy of the parameters; called under the lock. */
  exportState(): Promise<LayerState[]>;
  /** Puts back parameters exportState() copied; called under the lock. */
  importState(layers: LayerState[], step: number): Promise<void>;
  /** Loss and accuracy (a regression model: loss only) on the validation set; called under the lock. */
  evaluate(data: CheckedData): Promise<Evaluation | RegressionEvaluation>;
}

interface ChunkResult {
  loss: ArrayLike<number>;
  correct: ArrayLike<number>;
  rewired: number[];
  regrowthSeconds: number;
  noiseSeconds: number;
  /** Batches trained, then (when one was skipped) 1 more that was left out. */
  trained: number;
  skipped: number;
}

/** Trains the rest of the epoch at `model.position`, reporting to fit's callbacks; then evaluates on `validation`. */
export async function trainEpoch(
  model: Trainee, data: CheckedData, validation: CheckedData | undefined, o: NormalizedTrainOptions, fit: FitOptions, skip: boolean,
): Promise<EpochStats> {
  const position = model.position;
  const epoch = position.epoch;
  const lr = learningRate(o, epoch);
  const values: Record<string, number> = {
    lr, alpha: o.alpha, noiseStd: noiseStd(o, lr), weightDecay: o.weightDecay, momentum: o.momentum, beta1: o.beta1, beta2: o.beta2, epsilon: o.epsilon,
  };
  // Only the names the network's rule declares (no momentum while it trains with SGD, no betas but with Adam),
  // and clipNorm, the core's own setting of every step, when it is on.
  const hyper: NativeHyper = {
    ...Object.fromEntries(model.network.info().hyper.map((name) => [name, values[name]])),
    ...(o.clipNorm > 0 && { clipNorm: o.clipNorm }),
  };
  const batches = Math.ceil(data.count / o.batchSize);
  // A regression model's targets are values: it has no accuracy, reported as NaN.
  const classifies = data.targets instanceof Int32Array;
  const rewired = new Array<number>(model.network.info().layers.length).fill(0);
  const sums: BatchSums = { lossSum: 0, correct: 0, samples: 0 };
  let chunk = 1, seconds = 0, regrowthSeconds = 0, noiseSeconds = 0, skipped = 0;
  position.batchSize = o.batchSize;
  while (position.batchInEpoch < batches) {
    fit.signal?.throwIfAborted();
    const first = position.batchInEpoch;
    const count = Math.min(chunk, batches - first);
    const started = performance.now();
    const r = await model.exclusive(() => trainChunk(model, data, o, hyper, epoch, first, count, skip));
    const ms = performance.now() - started;
    seconds += ms / 1000;
    // Grow or shrink the chunk towards CHUNK_MS of work per call.
    chunk = model.lockstep
      ? Math.min(chunk * 2, LOCKSTEP_CHUNK)
      : Math.max(1, Math.min(Math.round((chunk * CHUNK_MS) / Math.max(ms, 0.01)), chunk * 4));
    position.batchInEpoch += r.trained + r.skipped;
    skipped += r.skipped;
    addBatches(sums, r, first, epoch, batches, o.batchSize, data.count, classifies, fit.onBatchEnd);
    r.rewired.forEach((v, l) => (rewired[l] += v));
    model.peak.connectivity = Math.max(model.peak.connectivity, overallConnectivity(model.network));
    regrowthSeconds += r.regrowthSeconds;
    noiseSeconds += r.noiseSeconds;
  }
  Object.assign(position, { epoch: epoch + 1, batchInEpoch: 0, batchSize: o.batchSize });
  const info = model.network.info();
  const stats: EpochStats = {
    epoch: epoch + 1,
    loss: sums.samples > 0 ? sums.lossSum / sums.samples : NaN,
    trainAccuracy: sums.samples > 0 && classifies ? sums.correct / sums.samples : NaN,
    lr,
    layers: info.layers.map((l, n) => ({
      active: l.active, K: l.budget, rewired: rewired[n], positions: l.inputs * l.outputs, connectivity: l.active / (l.inputs * l.outputs),
    })),
    maxConnectivity: model.peak.connectivity,
    seconds,
    regrowthSeconds,
    noiseSeconds,
    skipped,
  };
  if (validation) {
    const v = await model.exclusive(() => model.evaluate(validation));
    stats.testLoss = v.loss;
    if ("accuracy" in v) stats.testAccuracy = v.accuracy;
  }
  await fit.onEpochEnd?.(stats);
  return stats;
}

/** An epoch's running sums over the batches trained so far. */
interface BatchSums {
  lossSum: number;
  correct: number;
  samples: number;
}

/**
 * Adds a chunk's batches (those from `first` on) to `sums` and reports each to onBatchEnd. A function
 * of its own because it runs once per batch, thousands of times a chunk: V8 optimises this small
 * loop in well under a millisecond, where inlined in trainEpoch it made all of trainEpoch hot, and
 * optimising that took a core for some 18 ms, which on 2 cores, with training on the other, held
 * the event loop up for a scheduler tick (4 ms).
 */
function addBatches(
  sums: BatchSums, r: ChunkResult, first: number, epoch: number, batches: number, batchSize: number, count: number,
  classifies: boolean, onBatchEnd: FitOptions["onBatchEnd"],
): void {
  for (let n = 0; n < r.trained; n++) {
    const size = Math.min(batchSize, count - (first + n) * batchSize);
    sums.lossSum += r.loss[n] * size;
    sums.correct += r.correct[n];
    sums.samples += size;
    onBatchEnd?.({ epoch, batch: first + n, batches, loss: r.loss[n], accuracy: classifies ? r.correct[n] / size : NaN });
  }
}

/** Active connections over potential ones, summed over every sparse store. */
export function overallConnectivity(network: NativeNetwork): number {
  const layers = network.info().layers;
  return layers.reduce((sum, l) => sum + l.active, 0) / layers.reduce((sum, l) => sum + l.inputs * l.outputs, 0);
}

// Trains batches [first, first + count) of the epoch; runs under the lock. When a batch's loss or
// update is not finite the core stops at that batch, having applied the ones before it (its step
// counter tells how many). Then, with `skip`, the parameters are restored from the copy taken
// here, the good batches are trained again (bit-identical, since every random number is a
// function of seed and step) and the bad batch is left out; without `skip` the position is
// brought up to date and a NonFiniteError names where it happened.
async function trainChunk(
  model: Trainee, data: CheckedData, o: NormalizedTrainOptions, hyper: NativeHyper, epoch: number, first: number, count: number, skip: boolean,
): Promise<ChunkResult> {
  const { network, position } = model;
  const step = network.info().step;
  const copy = skip ? await model.exportState() : undefined;
  const train = (from: number, batches: number) =>
    network.train(data.inputs, data.targets, epoch, from, batches, o.batchSize, hyper, o.checkInvariants);
  try {
    const r = await train(first, count);
    return { ...r, trained: count, skipped: 0 };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const done = network.info().step - step;  // batches applied before the failing one
    const layer = nonFiniteLayer(error);
    if (layer === undefined || !copy) {
      position.batchInEpoch = first + done;
      if (layer === undefined) throw error;
      throw new NonFiniteError(
        `deepr: training stopped at epoch ${epoch}, batch ${first + done} (step ${step + done}), layer ${layer}: ${message}`,
        epoch, first + done, step + done, layer, { cause: error },
      );
    }
    try {
      await model.importState(copy, step);
    } catch (restore) {
      // The copy itself is not finite (an earlier fit left the parameters diverged): no batch left out can help.
      position.batchInEpoch = first + done;
      throw new NonFiniteError(
        `deepr: training stopped at epoch ${epoch}, batch ${first + done} (step ${step + done}), layer ${layer}: ${message}; ` +
          `the parameters were not finite before this batch either (${(restore as Error).message}), so skipping it cannot help: ` +
          "load a checkpoint saved before training diverged",
        epoch, first + done, step + done, layer, { cause: error },
      );
    }
    try {
      const r = done > 0 ? await train(first, done) : { loss: [], correct: [], rewired: [], regrowthSeconds: 0, noiseSeconds: 0 };
      return { ...r, trained: done, skipped: 1 };
    } catch (replay) {
      position.batchInEpoch = first + (network.info().step - step);
      throw replay;
    }
  }
}
