// Checks that a Dataset fits a model before the core reads it on a worker thread: array types,
// sizes, labels in range and (unless the caller allows them) finite inputs. The value scans of a
// large data set (MNIST: 47 M inputs, ~40 ms) are time-sliced, so that checking never stalls the
// event loop for more than about half a millisecond.
import type { Dataset } from "./data/dataset.js";
import { describe } from "./options.js";

/** What a check does with NaN and Infinity in the inputs: "hint" rejects them and mentions onNonFinite: "skip". */
export type NonFiniteInputs = "reject" | "hint" | "allow";

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

// Data sets already checked, with the model shape ("features:classes:nonfinite") they passed for.
const validated = new WeakMap<Dataset, string>();

/**
 * Throws a TypeError or RangeError naming `name` and the first problem when `data` does not fit a
 * model with `features` inputs and `classes` outputs.
 */
export async function checkDataset(
  data: Dataset, name: string, features: number, classes: number, nonFinite: NonFiniteInputs = "reject",
): Promise<void> {
  const allowNonFinite = nonFinite === "allow";
  // Checked once per data set and model shape: a data set that passed for one model may not fit another.
  const key = `${features}:${classes}:${allowNonFinite}`;
  if (validated.get(data) === key) return;
  if (data === null || typeof data !== "object") throw new TypeError(`${name} must be a Dataset object, got ${describe(data)}`);
  const { inputs, labels, count } = data;
  if (!(inputs instanceof Float32Array)) throw new TypeError(`${name}.inputs must be a Float32Array, got ${describe(inputs)}`);
  if (!(labels instanceof Int32Array)) throw new TypeError(`${name}.labels must be an Int32Array, got ${describe(labels)}`);
  // The core reads them on a worker thread; a resizable buffer could shrink under it (the addon refuses those too).
  for (const [field, array] of [["inputs", inputs], ["labels", labels]] as const)
    if ((array.buffer as ArrayBuffer & { resizable?: boolean }).resizable)
      throw new TypeError(`${name}.${field} must not be backed by a resizable ArrayBuffer`);
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) throw new RangeError(`${name}.count must be a positive integer, got ${describe(count)}`);
  if (data.features !== features)
    throw new RangeError(`${name}.features is ${describe(data.features)} but the model's input layer has ${features} units`);
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
