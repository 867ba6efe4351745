// A DEEP R network: definition, training loop, evaluation, prediction and checkpoints.
import { loadCheckpoint, saveCheckpoint } from "./checkpoint/model-checkpoint.js";
import type { Dataset } from "./data/dataset.js";
import { native, type LayerArrays, type NativeHyper, type NativeNetwork } from "./native.js";
import { logitsFor, softmaxRows } from "./probabilities.js";
import { Snapshot } from "./snapshot.js";
import {
  describe,
  learningRate,
  noiseStd,
  normalizeModelOptions,
  normalizeTrainOptions,
  referenceTrainOptions,
  type ModelOptions,
  type NormalizedModelOptions,
  type NormalizedTrainOptions,
  type TrainOptions,
} from "./options.js";

export interface LayerInfo {
  inputs: number;
  outputs: number;
  /** The layer's budget K_l (with a global budget: its initial share). */
  budget: number;
  /** Connections active now. */
  active: number;
  connectivity: number;
}

export interface BatchStats {
  epoch: number;
  /** Batch index within the epoch. */
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
}

export interface EpochStats {
  /** Epochs complete, counting this one (1 after the first). */
  epoch: number;
  /** Mean training loss over the epoch's batches. */
  loss: number;
  /** Fraction of training samples classified correctly while the epoch trained. */
  trainAccuracy: number;
  /** On `validation`, when given. */
  testLoss?: number;
  testAccuracy?: number;
  lr: number;
  layers: { active: number; K: number; rewired: number }[];
  /** Wall-clock seconds of the epoch's training (without validation). */
  seconds: number;
  /** Of those, the seconds spent on regrowth: choosing and inserting the reactivated connections. */
  regrowthSeconds: number;
  /** And the seconds spent drawing the Gaussian noise of the updates (summed over threads). */
  noiseSeconds: number;
  /** Batches skipped because their loss or update was not finite (only with `onNonFinite: "skip"`). */
  skipped: number;
}

export interface FitOptions extends TrainOptions {
  /** Evaluated after every epoch; its accuracy is reported as testAccuracy. */
  validation?: Dataset;
  onBatchEnd?: (stats: BatchStats) => void;
  onEpochEnd?: (stats: EpochStats) => void | Promise<void>;
  /** Stops training between two chunks of steps; fit() then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * What to do when a batch's loss or a parameter update is not finite (NaN or Infinity in the
   * inputs, or a learning rate that makes training diverge).
   *
   * `"throw"` (default): fit() rejects with a {@link NonFiniteError} naming the epoch, batch, step
   * and layer; the batches before it stay trained and `progress` counts them. When the loss was
   * not finite nothing of that batch was applied and the model can be saved and trained on. When
   * an update diverged, that layer's parameters are no longer finite: save() refuses such a model,
   * so load the last checkpoint.
   *
   * `"skip"`: the batch is left out and training goes on. The model is exactly as it was before
   * the batch (restored from a copy of the parameters taken before every chunk of steps, about
   * every 40 ms, so this costs one O(K) copy per chunk) and `step` does not advance; the number
   * of batches left out is `EpochStats.skipped`. Training data may then hold non-finite inputs.
   * It promises no recovery: if every batch diverges, every batch is skipped.
   */
  onNonFinite?: "throw" | "skip";
}

/** A batch whose loss or update was not finite stopped fit() (see `FitOptions.onNonFinite`). */
export class NonFiniteError extends Error {
  readonly code = "DEEPR_NON_FINITE";
  override name = "NonFiniteError";
  constructor(
    message: string,
    /** 0-based epoch and batch within it. */
    readonly epoch: number,
    readonly batch: number,
    /** The step (parameter updates so far) the batch would have been. */
    readonly step: number,
    /** The layer whose update diverged; for a non-finite loss, the output layer. */
    readonly layer: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
}

/** A layer's parameters, as saved in checkpoints. */
export interface LayerState {
  inputs: number;
  outputs: number;
  /** K x 2 int32 (input index, output index); W[i][j] = sign * theta, y = x W + b. */
  positions: Int32Array;
  theta: Float32Array;
  sign: Int8Array;
  bias?: Float32Array;
  velocity?: Float32Array;
  biasVelocity?: Float32Array;
}

/** Where training stands: enough to resume exactly. */
export interface Progress {
  epoch: number;
  batchInEpoch: number;
  batchSize: number;
  step: number;
}

const FIT_KEYS = ["validation", "onBatchEnd", "onEpochEnd", "signal", "onNonFinite"] as const;
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

// Data checks yield to the event loop after running this long, so timers fire about as on time
// as on an idle loop.
const SCAN_SLICE_MS = 0.5;
// Values scanned between two looks at the clock: tens of µs before V8 optimises the scan, ~1 µs after.
const SCAN_BLOCK = 1 << 10;

// The scans are plain functions without an await inside, which V8 optimises within a few blocks.
// A scan loop holding the await ran its first ~130 000 values unoptimised (5-8 ms without a
// yield): V8 dropped the loop's optimised code at the await, whose call site had no feedback yet.
function firstNonFinite(values: Float32Array, from: number, to: number): number {
  for (let n = from; n < to; n++) if (!Number.isFinite(values[n])) return n;
  return -1;
}

function firstOutside(labels: Int32Array, classes: number, from: number, to: number): number {
  for (let n = from; n < to; n++) if (!(labels[n] >= 0 && labels[n] < classes)) return n;
  return -1;
}

/** Runs long scans in slices of about SCAN_SLICE_MS, yielding to the event loop between them. */
class TimeSlices {
  // The first slice is a single block. fit() is often called from a timer or I/O callback, and
  // the setImmediate after it then runs before the next timers phase: timers see the first two
  // slices as one stall.
  #deadline = 0;

  /** The first index in [0, length) that `scan(from, to)` returns, else -1. */
  async find(length: number, scan: (from: number, to: number) => number): Promise<number> {
    for (let from = 0; from < length; from += SCAN_BLOCK) {
      if (from > 0 && performance.now() >= this.#deadline) {
        await nextTurn();
        this.#deadline = performance.now() + SCAN_SLICE_MS;
      }
      const found = scan(from, Math.min(from + SCAN_BLOCK, length));
      if (found >= 0) return found;
    }
    return -1;
  }
}

/** The addon's rejection for a non-finite loss or a diverged update (cpp/non_finite_error.hpp). */
function nonFiniteLayer(error: unknown): number | undefined {
  const e = error as { code?: unknown; layer?: unknown } | null;
  return e?.code === "DEEPR_NON_FINITE" && typeof e.layer === "number" ? e.layer : undefined;
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
/** Each call into the addon trains for about this long, so abort, callbacks and timers stay responsive. */
const CHUNK_MS = 40;

// Data sets already checked, with the model shape ("features:classes:nonfinite") they passed for.
const validated = new WeakMap<Dataset, string>();

export class Model {
  readonly options: NormalizedModelOptions;
  /** The options of the last fit(), or of the checkpoint this model was loaded from. */
  trainOptions: NormalizedTrainOptions = referenceTrainOptions;
  #native: NativeNetwork;
  #momentum = false;
  #progress: Omit<Progress, "step"> = { epoch: 0, batchInEpoch: 0, batchSize: 0 };
  #fitting = false;
  #disposed = false;
  /** Native operations run one at a time, in call order: see #exclusive. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: NormalizedModelOptions, momentum: boolean) {
    this.options = options;
    this.#momentum = momentum;
    this.#native = Model.#build(options, momentum);
  }

  static #build(o: NormalizedModelOptions, momentum: boolean): NativeNetwork {
    return new (native().NativeNetwork)({
      sizes: o.layers,
      budgets: o.budgets,
      bias: o.bias,
      momentum,
      globalBudget: o.budget === "global",
      share: o.globalShare === "dormant" ? 1 : 0,
      seed: o.seed,
    });
  }

  /** A new network, initialised as in the reference code: K_l random distinct connections per layer. */
  static create(options: ModelOptions): Model {
    return new Model(normalizeModelOptions(options), false);
  }

  /** @internal Used by the checkpoint loader. */
  static fromState(options: ModelOptions, momentum: boolean): Model {
    return new Model(normalizeModelOptions(options), momentum);
  }

  get progress(): Progress {
    return { ...this.#progress, step: this.#native.info().step };
  }

  /** @internal Restores the position in the training run after a checkpoint is loaded. */
  setProgress(progress: Omit<Progress, "step">): void {
    this.#progress = { ...progress };
  }

  layers(): LayerInfo[] {
    return this.#native.info().layers.map((l, n) => ({ ...l, connectivity: this.options.connectivity[n] }));
  }

  /**
   * Trains with DEEP R until `options.epochs` epochs are complete. Options not given keep their
   * values from the previous fit() or the loaded checkpoint, else the reference code's defaults.
   * `epochs` counts the epochs already trained: a model that has completed them (`progress.epoch
   * >= epochs`) trains nothing and fit() resolves with `[]`, one entry per epoch trained; the
   * CLI reports that case in words.
   */
  async fit(data: Dataset, options: FitOptions = {}): Promise<EpochStats[]> {
    this.#usable("fit");
    const o = normalizeTrainOptions(options, this.trainOptions, FIT_KEYS);
    const onNonFinite = options.onNonFinite ?? "throw";
    if (onNonFinite !== "throw" && onNonFinite !== "skip")
      throw new RangeError(`options.onNonFinite must be "throw" or "skip", got ${describe(options.onNonFinite)}`);
    for (const key of ["onBatchEnd", "onEpochEnd"] as const)
      if (options[key] !== undefined && typeof options[key] !== "function")
        throw new TypeError(`options.${key} must be a function, got ${describe(options[key])}`);
    if (options.signal !== undefined && !(options.signal instanceof AbortSignal))
      throw new TypeError(`options.signal must be an AbortSignal, got ${describe(options.signal)}`);
    if (this.#progress.batchInEpoch > 0 && o.batchSize !== this.#progress.batchSize)
      throw new RangeError(
        `options.batchSize is ${o.batchSize}, but this model stopped in the middle of an epoch trained with batch size ${this.#progress.batchSize}; resume with that batch size`,
      );

    if (this.#fitting) throw new Error("deepr: this model is already training; await the running fit() (or abort it with its signal) first");
    this.#fitting = true;
    try {
      await this.#checkData(data, "data", onNonFinite === "skip" ? "allow" : "hint");
      if (options.validation !== undefined) await this.#checkData(options.validation, "options.validation");
      if (o.momentum > 0 && !this.#momentum) await this.#exclusive(() => this.#addMomentumState());
      this.trainOptions = o;
      const history: EpochStats[] = [];
      while (this.#progress.epoch < o.epochs) history.push(await this.#trainEpoch(data, o, options, onNonFinite === "skip"));
      return history;
    } finally {
      this.#fitting = false;
    }
  }

  async #trainEpoch(data: Dataset, o: NormalizedTrainOptions, fit: FitOptions, skip: boolean): Promise<EpochStats> {
    const epoch = this.#progress.epoch;
    const lr = learningRate(o, epoch);
    const hyper = { lr, alpha: o.alpha, noiseStd: noiseStd(o, lr), momentum: o.momentum };
    const batches = Math.ceil(data.count / o.batchSize);
    const rewired = new Array<number>(this.options.budgets.length).fill(0);
    let lossSum = 0, correct = 0, samples = 0, chunk = 1, seconds = 0, regrowthSeconds = 0, noiseSeconds = 0, skipped = 0;
    this.#progress.batchSize = o.batchSize;
    while (this.#progress.batchInEpoch < batches) {
      fit.signal?.throwIfAborted();
      const first = this.#progress.batchInEpoch;
      const count = Math.min(chunk, batches - first);
      const started = performance.now();
      const r = await this.#exclusive(() => this.#trainChunk(data, o, hyper, epoch, first, count, skip));
      const ms = performance.now() - started;
      seconds += ms / 1000;
      // Grow or shrink the chunk towards CHUNK_MS of work per call.
      chunk = Math.max(1, Math.min(Math.round((chunk * CHUNK_MS) / Math.max(ms, 0.01)), chunk * 4));
      this.#progress.batchInEpoch += r.trained + r.skipped;
      skipped += r.skipped;
      for (let n = 0; n < r.trained; n++) {
        const size = Math.min(o.batchSize, data.count - (first + n) * o.batchSize);
        lossSum += r.loss[n] * size;
        correct += r.correct[n];
        samples += size;
        fit.onBatchEnd?.({ epoch, batch: first + n, batches, loss: r.loss[n], accuracy: r.correct[n] / size });
      }
      r.rewired.forEach((v, l) => (rewired[l] += v));
      regrowthSeconds += r.regrowthSeconds;
      noiseSeconds += r.noiseSeconds;
    }
    this.#progress = { epoch: epoch + 1, batchInEpoch: 0, batchSize: o.batchSize };
    const info = this.#native.info();
    const stats: EpochStats = {
      epoch: epoch + 1,
      loss: samples > 0 ? lossSum / samples : NaN,
      trainAccuracy: samples > 0 ? correct / samples : NaN,
      lr,
      layers: info.layers.map((l, n) => ({ active: l.active, K: l.budget, rewired: rewired[n] })),
      seconds,
      regrowthSeconds,
      noiseSeconds,
      skipped,
    };
    if (fit.validation) {
      const v = await this.#exclusive(() => this.#evaluate(fit.validation!));
      stats.testLoss = v.loss;
      stats.testAccuracy = v.accuracy;
    }
    await fit.onEpochEnd?.(stats);
    return stats;
  }

  // Trains batches [first, first + count) of the epoch; runs inside #exclusive. When a batch's
  // loss or update is not finite the core stops at that batch, having applied the ones before it
  // (its step counter tells how many). Then, with `skip`, the parameters are restored from the
  // copy taken here, the good batches are trained again (bit-identical, since every random number
  // is a function of seed and step) and the bad batch is left out; without `skip` the progress is
  // brought up to date and a NonFiniteError names where it happened.
  async #trainChunk(
    data: Dataset, o: NormalizedTrainOptions, hyper: NativeHyper, epoch: number, first: number, count: number, skip: boolean,
  ): Promise<ChunkResult> {
    const step = this.#native.info().step;
    const copy = skip ? await this.#export() : undefined;
    const train = (from: number, batches: number) =>
      this.#native.train(data.inputs, data.labels, epoch, from, batches, o.batchSize, hyper, o.checkInvariants);
    try {
      const r = await train(first, count);
      return { ...r, trained: count, skipped: 0 };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const done = this.#native.info().step - step;  // batches applied before the failing one
      const layer = nonFiniteLayer(error);
      if (layer === undefined || !copy) {
        this.#progress.batchInEpoch = first + done;
        if (layer === undefined) throw error;
        throw new NonFiniteError(
          `deepr: training stopped at epoch ${epoch}, batch ${first + done} (step ${step + done}), layer ${layer}: ${message}`,
          epoch, first + done, step + done, layer, { cause: error },
        );
      }
      await this.#native.importState(copy, step);
      try {
        const r = done > 0 ? await train(first, done) : { loss: [], correct: [], rewired: [], regrowthSeconds: 0, noiseSeconds: 0 };
        return { ...r, trained: done, skipped: 1 };
      } catch (replay) {
        this.#progress.batchInEpoch = first + (this.#native.info().step - step);
        throw replay;
      }
    }
  }

  /** Loss and accuracy on a data set, without training. */
  async evaluate(data: Dataset): Promise<Evaluation> {
    await this.#checkData(data, "data");
    this.#usable("evaluate");
    return this.#exclusive(() => this.#evaluate(data));
  }

  async #evaluate(data: Dataset): Promise<Evaluation> {
    const r = await this.#native.evaluate(data.inputs, data.labels);
    return { loss: r.lossSum / data.count, accuracy: r.correct / data.count, count: data.count };
  }

  /** Class probabilities (softmax), row-major `count x classes`, for row-major float32 inputs. */
  async predict(inputs: Float32Array): Promise<Float32Array> {
    const classes = this.options.layers[this.options.layers.length - 1];
    const out = logitsFor(inputs, this.options.layers[0], classes);
    this.#usable("predict");
    await this.#exclusive(() => this.#native.predict(inputs, out));
    return softmaxRows(out, classes);
  }

  /**
   * A frozen copy of this model for inference, with native networks of its own: its predict()
   * never waits for a chunk of training. Refresh it at epoch ends with `onEpochEnd: () => snapshot.refresh()`
   * (README, "Serving while training"). During fit() it copies the state between two chunks.
   */
  async snapshot(): Promise<Snapshot> {
    this.#usable("snapshot");
    return Snapshot.take(this.options, () => Model.#build(this.options, false), () => {
      this.#usable("snapshot");
      return this.#exclusive(async () => ({ layers: await this.#export(), step: this.#native.info().step }));
    });
  }

  /** A copy of every layer's parameters. */
  async exportLayers(): Promise<LayerState[]> {
    this.#usable("exportLayers");
    return this.#exclusive(() => this.#export());
  }

  async #export(): Promise<LayerState[]> {
    const layers: LayerState[] = this.#native.info().layers.map((l) => ({
      inputs: l.inputs,
      outputs: l.outputs,
      positions: new Int32Array(2 * l.active),
      theta: new Float32Array(l.active),
      sign: new Int8Array(l.active),
      ...(this.options.bias ? { bias: new Float32Array(l.outputs) } : {}),
      ...(this.#momentum ? { velocity: new Float32Array(l.active) } : {}),
      ...(this.#momentum && this.options.bias ? { biasVelocity: new Float32Array(l.outputs) } : {}),
    }));
    await this.#native.exportState(layers);
    return layers;
  }

  /** Replaces every layer's parameters; checked for the strict bound, nothing changes on error. */
  async importLayers(layers: LayerArrays[], step: number): Promise<void> {
    this.#usable("importLayers");
    if (this.#fitting) throw new Error("deepr: cannot replace the parameters of a model while fit() is running; await it first");
    await this.#exclusive(() => this.#native.importState(layers, step));
  }

  /** Throws when an invariant of the strict bound does not hold. */
  async checkInvariants(): Promise<void> {
    this.#usable("checkInvariants");
    const problem = await this.#exclusive(() => this.#native.check());
    if (problem !== "") throw new Error(`deepr: invariant violated: ${problem}`);
  }

  /**
   * Saves a safetensors checkpoint atomically (see README, "Checkpoints"). During fit() it
   * saves the consistent state between two chunks of steps.
   */
  async save(path: string): Promise<void> {
    if (typeof path !== "string" || path === "") throw new TypeError(`path must be a non-empty string, got ${describe(path)}`);
    this.#usable("save");
    const snapshot = await this.#exclusive(async () => ({ layers: await this.#export(), progress: this.progress }));
    await saveCheckpoint(this, snapshot.layers, snapshot.progress, path);
  }

  /** Loads a model saved by save(); training resumes exactly where it stopped. */
  static async load(path: string): Promise<Model> {
    // A number would be taken as a file descriptor (0 = stdin) by fs.readFile.
    if (typeof path !== "string" || path === "") throw new TypeError(`path must be a non-empty string, got ${describe(path)}`);
    return loadCheckpoint(path);
  }

  /** Frees the native memory now instead of at garbage collection. The model is unusable after. */
  dispose(): void {
    if (this.#disposed) return;
    if (this.#fitting || this.#native.info().busy)
      throw new Error("deepr: cannot dispose the model while an operation is running; await it first");
    this.#native.dispose();
    this.#disposed = true;
  }

  #usable(operation: string): void {
    if (this.#disposed) throw new Error(`deepr: cannot ${operation}(): the model has been disposed`);
  }

  // Runs native operations one after another in call order. fit() takes the lock once per chunk
  // of steps, so a save() or evaluate() called during training runs between two chunks, on a
  // consistent state, instead of being refused.
  #exclusive<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #addMomentumState(): Promise<void> {
    // The native network keeps a velocity per connection only when momentum is used.
    const layers = await this.#export();
    const step = this.#native.info().step;
    const next = Model.#build(this.options, true);
    await next.importState(layers, step);
    this.#native.dispose();
    this.#native = next;
    this.#momentum = true;
  }

  // `nonFinite`: "allow" lets NaN and Infinity through (fit with onNonFinite: "skip"); "hint"
  // rejects them and mentions that option.
  // The value scans of a large data set (MNIST: 47 M inputs, ~40 ms) are time-sliced (TimeSlices),
  // so that checking never stalls the event loop for more than about half a millisecond.
  async #checkData(data: Dataset, name: string, nonFinite: "reject" | "hint" | "allow" = "reject"): Promise<void> {
    const classes = this.options.layers[this.options.layers.length - 1];
    const allowNonFinite = nonFinite === "allow";
    // Checked once per data set and model shape: a data set that passed for one model may not fit another.
    const key = `${this.options.layers[0]}:${classes}:${allowNonFinite}`;
    if (validated.get(data) === key) return;
    if (data === null || typeof data !== "object") throw new TypeError(`${name} must be a Dataset object, got ${describe(data)}`);
    const { inputs, labels, count, features } = data;
    if (!(inputs instanceof Float32Array)) throw new TypeError(`${name}.inputs must be a Float32Array, got ${describe(inputs)}`);
    if (!(labels instanceof Int32Array)) throw new TypeError(`${name}.labels must be an Int32Array, got ${describe(labels)}`);
    // The core reads them on a worker thread; a resizable buffer could shrink under it (the addon refuses those too).
    for (const [field, array] of [["inputs", inputs], ["labels", labels]] as const)
      if ((array.buffer as ArrayBuffer & { resizable?: boolean }).resizable)
        throw new TypeError(`${name}.${field} must not be backed by a resizable ArrayBuffer`);
    if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) throw new RangeError(`${name}.count must be a positive integer, got ${describe(count)}`);
    if (features !== this.options.layers[0])
      throw new RangeError(`${name}.features is ${describe(features)} but the model's input layer has ${this.options.layers[0]} units`);
    if (labels.length !== count) throw new RangeError(`${name}.labels has ${labels.length} entries for ${count} samples`);
    if (inputs.length !== count * features)
      throw new RangeError(`${name}.inputs has ${inputs.length} values; ${count} samples x ${features} features need ${count * features}`);
    const slices = new TimeSlices();  // one deadline over both scans
    const label = await slices.find(count, (from, to) => firstOutside(labels, classes, from, to));
    if (label >= 0)
      throw new RangeError(`${name}.labels[${label}] is ${labels[label]}; labels must be in [0, ${classes}) for this model`);
    const n = allowNonFinite ? -1 : await slices.find(inputs.length, (from, to) => firstNonFinite(inputs, from, to));
    if (n >= 0)
      throw new RangeError(
        `${name}.inputs holds ${inputs[n]} at sample ${Math.floor(n / features)}, feature ${n % features}; inputs must be finite` +
          (nonFinite === "hint" ? ' (or fit with onNonFinite: "skip" to leave out the batches holding such values)' : ""),
      );
    validated.set(data, key);
  }
}
