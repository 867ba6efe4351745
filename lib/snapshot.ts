// A frozen inference copy of a Model, for answering predictions at full speed while it trains.
//
// A model runs one native operation at a time, so its predict() during fit() waits for the chunk
// of steps under way (up to ~40 ms). A snapshot holds the parameters in native networks of its
// own: its predictions never wait for training, and show the model as it was at the last refresh.
import type { LayerState } from "./model-types.js";
import type { NativeNetwork } from "./native.js";
import { networkWidths, type NormalizedModelOptions } from "./options.js";
import { predictOutputs, type PredictInputs } from "./predict.js";

/** A model's parameters and step, taken together between two chunks of training. */
interface State {
  layers: LayerState[];
  step: number;
}

/** Puts a model's parameters into one of the snapshot's networks. */
type Import = (network: NativeNetwork, layers: LayerState[], step: number) => Promise<void>;

/** A native network and its operations, run one after another as the addon requires. */
class Lane {
  #queue: Promise<unknown> = Promise.resolve();
  constructor(readonly network: NativeNetwork) {}

  run<T>(operation: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(operation, operation);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

/**
 * A frozen copy of a {@link Model} for inference, from `model.snapshot()`. It keeps two native
 * networks without training state (about twice the model's parameter memory, O(K)): one answers
 * predict(), the other receives the next refresh() and then takes over, so a refresh never holds
 * up a prediction either.
 */
export class Snapshot {
  readonly #classes: number;
  readonly #features: number;
  /** What the head trains on: labels (predictions are probabilities) or values (they are the outputs). */
  readonly #targets: "labels" | "values";
  readonly #state: () => Promise<State>;
  readonly #import: Import;
  #serving: Lane;
  #spare: Lane;
  #step = 0;
  #refreshes: Promise<unknown> = Promise.resolve();
  #running = 0;
  #disposed = false;

  private constructor(options: NormalizedModelOptions, build: () => NativeNetwork, load: Import, state: () => Promise<State>) {
    const { inputs, outputs } = networkWidths(options);
    this.#features = inputs;
    this.#classes = outputs;
    this.#state = state;
    this.#import = load;
    this.#serving = new Lane(build());
    this.#spare = new Lane(build());
    this.#targets = this.#serving.network.info().targets;
  }

  /**
   * @internal Used by Model.snapshot(): `build` makes an empty network of the model's shape, `load`
   * puts parameters into one, `state` reads the model.
   */
  static async take(options: NormalizedModelOptions, build: () => NativeNetwork, load: Import, state: () => Promise<State>): Promise<Snapshot> {
    const snapshot = new Snapshot(options, build, load, state);
    await snapshot.refresh();
    return snapshot;
  }

  /** The model's step (parameter updates so far) when this copy was taken or last refreshed. */
  get step(): number {
    return this.#step;
  }

  /**
   * Class probabilities (softmax), row-major `count x classes`, or a regression model's outputs,
   * as `Model.predict()` computes them.
   */
  async predict(inputs: PredictInputs): Promise<Float32Array> {
    return predictOutputs(inputs, this.#features, this.#classes, this.#targets, async (x, out) => {
      this.#usable("predict");
      const lane = this.#serving;
      await this.#track(lane.run(() => lane.network.predict(x, out)));
    });
  }

  /**
   * Copies the model's present parameters into this snapshot. During fit() the copy is taken
   * between two chunks of steps, so it waits for the chunk under way; predictions meanwhile keep
   * answering from the previous copy. Call it from `onEpochEnd` to refresh once per epoch.
   */
  refresh(): Promise<void> {
    this.#usable("refresh");
    const run = this.#refreshes.then(() => this.#refresh());
    this.#refreshes = run.catch(() => undefined);
    return this.#track(run);
  }

  async #refresh(): Promise<void> {
    const { layers, step } = await this.#state();
    const spare = this.#spare;
    // Predictions still running on the spare (issued before the last refresh) finish first.
    await spare.run(() => this.#import(spare.network, layers, step));
    [this.#serving, this.#spare] = [spare, this.#serving];
    this.#step = step;
  }

  /** Frees the native memory now instead of at garbage collection. The snapshot is unusable after. */
  dispose(): void {
    if (this.#disposed) return;
    if (this.#running > 0) throw new Error("deepr: cannot dispose the snapshot while a predict() or refresh() is running; await it first");
    this.#serving.network.dispose();
    this.#spare.network.dispose();
    this.#disposed = true;
  }

  async #track<T>(operation: Promise<T>): Promise<T> {
    this.#running++;
    try {
      return await operation;
    } finally {
      this.#running--;
    }
  }

  #usable(operation: string): void {
    if (this.#disposed) throw new Error(`deepr: cannot ${operation}(): the snapshot has been disposed`);
  }
}
