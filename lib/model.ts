// The Model class: the public API over one native network. It holds the network, the lock that
// runs native operations one at a time, and the position in the training run; the fit loop, the
// data checks, prediction, the state export and the checkpoint files live in modules of their own.
import { loadCheckpoint, saveCheckpoint } from "./checkpoint/model-checkpoint.js";
import type { LabelledData } from "./data/dataset.js";
import { backendOption, deviceOption, placeNetwork, type BackendInfo, type BackendName } from "./backend.js";
import { alone, checkShardable, distribute, distributedOption, type DistributedEngine, type Distribution } from "./distributed.js";
import { checkDataset, checkRegressionData, type CheckedData, type NonFiniteInputs } from "./data-checks.js";
import { normalizeFitOptions, overallConnectivity, trainEpoch, type Position, type Trainee } from "./fit-loop.js";
import { epochAugmenter, imageShape } from "./image-augmentation.js";
import type { EpochStats, Evaluation, FitOptions, LayerInfo, LayerState, Progress, RegressionData, RegressionEvaluation } from "./model-types.js";
import { buildNetwork, exportState, importState, nativeRule } from "./model-state.js";
import type { LayerArrays, NativeNetwork } from "./native.js";
import type { OptimizerName } from "./rules/optimiser.js";
import { predictOutputs, type PredictInputs } from "./predict.js";
import { Snapshot } from "./snapshot.js";
import { object, rejectUnknown } from "./checks.js";
import {
  networkWidths,
  nonEmptyString,
  normalizeModelOptions,
  referenceTrainOptions,
  type ModelOptions,
  type NormalizedModelOptions,
  type NormalizedTrainOptions,
} from "./options.js";

// The types of the methods' arguments and results, and the error fit() rejects with, importable
// from the module of the class as well.
export type { BatchStats, EpochStats, Evaluation, FitOptions, LayerInfo, LayerState, Progress, RegressionData, RegressionEvaluation } from "./model-types.js";
export { NonFiniteError } from "./non-finite-error.js";

export class Model {
  readonly options: NormalizedModelOptions;
  /** The options of the last fit(), or of the checkpoint this model was loaded from. */
  trainOptions: NormalizedTrainOptions = referenceTrainOptions;
  #native: NativeNetwork;
  /** What its loss head trains on: class labels, or a regression model's values. */
  readonly #targets: "labels" | "values";
  /** The optimiser the network trains with, whose state arrays its stores keep. */
  #optimizer: OptimizerName;
  /** Advanced in place by the fit loop. */
  readonly #position: Position = { epoch: 0, batchInEpoch: 0, batchSize: 0 };
  #fitting = false;
  #disposed = false;
  /** Which process of a distributed run this is: rank 0 of 1 alone. */
  #distribution: Distribution = alone;
  /** Where train() runs, and why there. */
  #backend: BackendInfo = { name: "cpu", requested: "cpu", reason: 'backend "cpu" was asked for' };
  /** Native operations run one at a time, in call order: see #exclusive. */
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: NormalizedModelOptions, optimizer: OptimizerName) {
    this.options = options;
    this.#optimizer = optimizer;
    this.#native = buildNetwork(options, optimizer);
    this.#targets = this.#native.info().targets;
  }

  /**
   * A new network, initialised as in the reference code: K_l random distinct connections per
   * sparse layer. `options.layers` gives widths or a list of layer specs (README, "Layer lists").
   */
  static create(options: ModelOptions): Model {
    const normalized = normalizeModelOptions(options);
    const engine = distributedOption("options.distributed", options.distributed);
    const backend = backendOption("options.backend", options.backend);
    const device = deviceOption("options.device", options.device);
    try {
      const model = new Model(normalized, "sgd");
      try {
        model.#place(engine, backend, device);
      } catch (error) {
        model.dispose();
        throw error;
      }
      return model;
    } catch (error) {
      // What only the core checks (a layer list it cannot build) is an error of the options: name the layer as they do.
      if (!(error instanceof RangeError) || !error.message.startsWith("spec: ")) throw error;
      const problem = error.message.slice("spec: ".length).replace(/^layer (\d+)/, "[$1]");
      throw new RangeError(`options.layers${problem.startsWith("[") ? "" : ": "}${problem}`, { cause: error });
    }
  }

  /** Where train() runs ("cpu" or "cuda", the device) and why: the option asked for it, or what backend "auto" found. */
  get backend(): BackendInfo {
    return { ...this.#backend };
  }

  /** Which process of a distributed run this is (`{ rank: 0, ranks: 1 }` without `distributed`). */
  get distribution(): Distribution {
    return { ...this.#distribution };
  }

  get progress(): Progress {
    return { ...this.#position, step: this.#native.info().step };
  }

  layers(): LayerInfo[] {
    return this.#native.info().layers.map((l, n) => ({ ...l, connectivity: this.options.connectivity[n] }));
  }

  /**
   * Trains with DEEP R until `options.epochs` epochs are complete. Options not given keep their
   * values from the previous fit() or the loaded checkpoint, else the reference code's defaults.
   * `epochs` counts the epochs already trained: a model that has completed them (`progress.epoch
   * >= epochs`) trains nothing and fit() resolves with `[]`, one entry per epoch trained; the
   * CLI reports that case in words. A regression model (a mean_squared_error head) trains on
   * `{ inputs, targets, sampleShape }` instead of labels.
   */
  async fit(data: LabelledData, options?: FitOptions): Promise<EpochStats[]>;
  async fit(data: RegressionData, options?: FitOptions): Promise<EpochStats[]>;
  async fit(data: LabelledData | RegressionData, options: FitOptions = {}): Promise<EpochStats[]> {
    this.#usable("fit");
    const { train: o, optimizer, skip } = normalizeFitOptions(options, this.trainOptions, this.#optimizer);
    if (this.#position.batchInEpoch > 0 && o.batchSize !== this.#position.batchSize)
      throw new RangeError(
        `options.batchSize is ${o.batchSize}, but this model stopped in the middle of an epoch trained with batch size ${this.#position.batchSize}; resume with that batch size`,
      );

    if (this.#fitting) throw new Error("deepr: this model is already training; await the running fit() (or abort it with its signal) first");
    this.#fitting = true;
    try {
      const samples = await this.#checkData(data, "data", skip ? "allow" : "hint");
      checkShardable(samples.count, o.batchSize, this.#distribution);
      const validation = options.validation === undefined ? undefined : await this.#checkData(options.validation, "options.validation");
      // Augmented images are drawn for each epoch, from the seed and the epoch alone, into one buffer.
      const augment = o.crop > 0 || o.flip;
      const shape = "sampleShape" in data ? data.sampleShape : (data.shape ?? [data.features]);
      const epochData = augment ? epochAugmenter(samples, imageShape(shape, o), o, this.options.seed) : undefined;
      // A network with momentum trains on with μ = 0 where SGD is asked for: its velocity is then the gradient, the same step.
      const keeps = optimizer === this.#optimizer || (optimizer === "sgd" && this.#optimizer === "momentum");
      if (!keeps) await this.#exclusive(async () => this.#switchOptimizer(optimizer));
      this.trainOptions = o;
      const trainee: Trainee = {
        network: this.#native,
        lockstep: this.#distribution.ranks > 1,
        position: this.#position,
        peak: { connectivity: overallConnectivity(this.#native) },
        exclusive: <T>(operation: () => Promise<T>) => this.#exclusive(operation),
        exportState: () => this.#export(),
        importState: (layers: LayerState[], step: number) => importState(this.#native, this.options, layers, step),
        evaluate: (d: CheckedData) => this.#evaluate(d),
      };
      const history: EpochStats[] = [];
      while (this.#position.epoch < o.epochs) {
        const epochSamples = epochData ? await epochData(this.#position.epoch, options.signal) : samples;
        history.push(await trainEpoch(trainee, epochSamples, validation, o, options, skip));
      }
      return history;
    } finally {
      this.#fitting = false;
    }
  }

  /** Loss and accuracy on a data set, without training; a regression model's mean loss on its targets (no accuracy). */
  async evaluate(data: LabelledData): Promise<Evaluation>;
  async evaluate(data: RegressionData): Promise<RegressionEvaluation>;
  async evaluate(data: LabelledData | RegressionData): Promise<Evaluation | RegressionEvaluation> {
    const samples = await this.#checkData(data, "data");
    this.#usable("evaluate");
    return this.#exclusive(() => this.#evaluate(samples));
  }

  async #evaluate(data: CheckedData): Promise<Evaluation | RegressionEvaluation> {
    const r = await this.#native.evaluate(data.inputs, data.targets);
    const loss = r.lossSum / data.count;
    return data.targets instanceof Float32Array ? { loss, count: data.count } : { loss, accuracy: r.correct / data.count, count: data.count };
  }

  /**
   * Class probabilities (softmax), row-major `count x classes`, for row-major float32 inputs, or
   * for samples with their shape (a Dataset, say), whose size must be the model's input size.
   * A regression model's outputs, `count x outputs`, as they are.
   */
  async predict(inputs: PredictInputs): Promise<Float32Array> {
    const { inputs: features, outputs } = networkWidths(this.options);
    return predictOutputs(inputs, features, outputs, this.#targets, (x, out) => {
      this.#usable("predict");
      return this.#exclusive(() => this.#native.predict(x, out));
    });
  }

  /**
   * A frozen copy of this model for inference, with native networks of its own: its predict()
   * never waits for a chunk of training. Refresh it at epoch ends with `onEpochEnd: () => snapshot.refresh()`
   * (README, "Serving while training"). During fit() it copies the state between two chunks.
   */
  async snapshot(): Promise<Snapshot> {
    this.#usable("snapshot");
    return Snapshot.take(this.options, () => buildNetwork(this.options, "sgd"), (network, layers, step) => importState(network, this.options, layers, step), () => {
      this.#usable("snapshot");
      return this.#exclusive(async () => ({ layers: await this.#export(), step: this.#native.info().step }));
    });
  }

  /** A copy of every layer's parameters. */
  async exportLayers(): Promise<LayerState[]> {
    this.#usable("exportLayers");
    return this.#exclusive(() => this.#export());
  }

  #export(): Promise<LayerState[]> {
    return exportState(this.#native, this.options, this.#optimizer);
  }

  /**
   * Replaces every layer's parameters, each given as exportLayers() returns it (its `stores`) or
   * as a sparse_linear layer's flat arrays; checked for the strict bound, nothing changes on error.
   */
  async importLayers(layers: (LayerArrays | Pick<LayerState, "stores">)[], step: number): Promise<void> {
    this.#usable("importLayers");
    if (this.#fitting) throw new Error("deepr: cannot replace the parameters of a model while fit() is running; await it first");
    await this.#exclusive(() => importState(this.#native, this.options, layers, step));
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
    nonEmptyString("path", path);
    this.#usable("save");
    const state = await this.#exclusive(async () => ({ layers: await this.#export(), progress: this.progress }));
    await saveCheckpoint({ options: this.options, trainOptions: this.trainOptions, ...state }, path);
  }

  /**
   * Loads a model saved by save(); training resumes exactly where it stopped, on the `backend` and
   * `device` given (as Model.create takes them: a checkpoint moves freely between the CPU and a GPU), or with
   * `{ distributed: "mpi" }` on every process mpirun started (any number of them).
   */
  static async load(path: string, options: Pick<ModelOptions, "distributed" | "backend" | "device"> = {}): Promise<Model> {
    nonEmptyString("path", path);
    rejectUnknown("options", object("options", options), ["distributed", "backend", "device"], "Model.load");
    const engine = distributedOption("options.distributed", options.distributed);
    const backend = backendOption("options.backend", options.backend);
    const device = deviceOption("options.device", options.device);
    const model = await loadCheckpoint(path, {
      build: (options, optimizer) => new Model(options, optimizer),
      restore: async (model, { trainOptions, progress: { step, ...position }, layers }) => {
        model.trainOptions = trainOptions;
        Object.assign(model.#position, position);
        await model.importLayers(layers, step);
      },
    });
    try {
      model.#place(engine, backend, device);
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  }

  // The backend, then the processes to train with: distributed training runs on the CPU.
  #place(engine: DistributedEngine | undefined, backend: BackendName, device: number): void {
    if (engine === undefined) {
      this.#backend = placeNetwork(this.#native, backend, device);
      return;
    }
    if (backend === "cuda") throw new RangeError('options.backend is "cuda", but distributed training (MPI) runs on the CPU only; use backend "auto" or "cpu"');
    this.#backend = { name: "cpu", requested: backend, reason: "distributed training runs on the CPU" };
    this.#distribution = distribute(this.#native, engine);
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

  // The network trains with `optimizer` from now on: the core replaces the old optimiser's state
  // arrays with the new one's, at zero (Adam's step count continues from the network's step).
  // A model that backend "auto" put on a GPU moves to the CPU when the GPU does not train the new
  // optimiser; with backend "cuda" the next chunk of training rejects it.
  #switchOptimizer(optimizer: OptimizerName): void {
    this.#native.setRule(nativeRule(this.options, optimizer));
    this.#optimizer = optimizer;
    const unsupported = this.#backend.name === "cuda" && this.#native.deviceSupport();
    if (unsupported && this.#backend.requested === "auto") {
      this.#native.releaseDevice();
      this.#backend = { name: "cpu", requested: "auto", reason: `the CUDA backend does not yet train ${unsupported}` };
    }
  }

  // Labels for a classifier, values for a regression model: as its head declares.
  #checkData(data: LabelledData | RegressionData, name: string, nonFinite?: NonFiniteInputs): Promise<CheckedData> {
    const { inputs, outputs } = networkWidths(this.options);
    return this.#targets === "values"
      ? checkRegressionData(data as RegressionData, name, inputs, outputs, nonFinite)
      : checkDataset(data as LabelledData, name, inputs, outputs, nonFinite);
  }
}
