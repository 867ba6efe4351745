// Checks that a data set fits a model before the core reads it on a worker thread: array types,
// the sample shape against the model's input size, labels in range (or, for a regression model,
// finite targets of the right length) and (unless the caller allows them) finite inputs. The value scans of a
// large data set (MNIST: 47 M inputs, ~40 ms) are time-sliced, so that checking never stalls the
// event loop for more than about half a millisecond.
import type { FlatDataset, LabelledData, LabelledSamples } from "./data/dataset.js";
import type { RegressionData } from "./model-types.js";
import type { NativeTargets } from "./native.js";
import { describe, sampleShapeOption, shapeSize } from "./options.js";

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

/**
 * Scans blocks of [from, length) until `scan` finds something or `deadline` (performance.now()) has
 * passed, the first block whatever the time; what it found (else -1) and where it stopped. Kept
 * out of TimeSlices.find: an async function holding this loop became hot enough for V8 to spend
 * ~5 ms of a core optimising all of it, against well under 1 ms for this small one.
 */
function scanSlice(scan: (from: number, to: number) => number, from: number, length: number, deadline: number) {
  do {
    const found = scan(from, Math.min(from + SCAN_BLOCK, length));
    from += SCAN_BLOCK;
    if (found >= 0) return { found, next: from };
  } while (from < length && performance.now() < deadline);
  return { found: -1, next: from };
}

/** Runs long scans in slices of about SCAN_SLICE_MS, yielding to the event loop between them. */
class TimeSlices {
  // The first slice is a single block. fit() is often called from a timer or I/O callback, and
  // the setImmediate after it then runs before the next timers phase: timers see the first two
  // slices as one stall.
  #deadline = 0;

  /** The first index in [0, length) that `scan(from, to)` returns, else -1. */
  async find(length: number, scan: (from: number, to: number) => number): Promise<number> {
    for (let from = 0; from < length; ) {
      if (from > 0) {
        await nextTurn();
        this.#deadline = performance.now() + SCAN_SLICE_MS;
      }
      const slice = scanSlice(scan, from, length, this.#deadline);
      if (slice.found >= 0) return slice.found;
      from = slice.next;
    }
    return -1;
  }
}

/** A data set checked against a model: the arrays the core reads and the number of samples. */
export interface CheckedData {
  readonly inputs: Float32Array;
  /** Class labels, or a regression model's values (samples x outputs). */
  readonly targets: NativeTargets;
  readonly count: number;
}

// Data sets already checked, with the model shape ("features:classes:nonfinite") they passed for.
const validated = new WeakMap<object, { key: string; checked: CheckedData }>();

/**
 * The arrays of `data` and its sample count, once they fit a model with `features` inputs and
 * `classes` outputs; else a TypeError or RangeError naming `name` and the first problem. `data`
 * gives its sample shape (LabelledSamples), or is flat with `features` values per sample (FlatDataset).
 */
export async function checkDataset(
  data: LabelledData, name: string, features: number, classes: number, nonFinite: NonFiniteInputs = "reject",
): Promise<CheckedData> {
  const allowNonFinite = nonFinite === "allow";
  // Checked once per data set and model shape: a data set that passed for one model may not fit another.
  const key = `${features}:${classes}:${allowNonFinite}`;
  const known = validated.get(data);
  if (known?.key === key) return known.checked;
  if (data === null || typeof data !== "object") throw new TypeError(`${name} must be a Dataset object, got ${describe(data)}`);
  const { inputs, labels } = data;
  if (!(inputs instanceof Float32Array)) throw new TypeError(`${name}.inputs must be a Float32Array, got ${describe(inputs)}`);
  if (labels === undefined && "targets" in data)
    throw new TypeError(`${name} gives targets, but this is a classification model (softmax_cross_entropy head): it takes ${name}.labels, an Int32Array of class indices; regression needs a mean_squared_error head`);
  if (!(labels instanceof Int32Array)) throw new TypeError(`${name}.labels must be an Int32Array, got ${describe(labels)}`);
  // The core reads them on a worker thread; a resizable buffer could shrink under it (the addon refuses those too).
  for (const [field, array] of [["inputs", inputs], ["labels", labels]] as const)
    if ((array.buffer as ArrayBuffer & { resizable?: boolean }).resizable)
      throw new TypeError(`${name}.${field} must not be backed by a resizable ArrayBuffer`);
  const { count, size } = "sampleShape" in data && data.sampleShape !== undefined ? shaped(data, name, features) : flat(data as FlatDataset, name, features);
  if (labels.length !== count) throw new RangeError(`${name}.labels has ${labels.length} entries for ${count} samples`);
  if (inputs.length !== count * size)
    throw new RangeError(`${name}.inputs has ${inputs.length} values; ${count} samples x ${size} features need ${count * size}`);
  const slices = new TimeSlices();  // one deadline over both scans
  const label = await slices.find(count, (from, to) => firstOutside(labels, classes, from, to));
  if (label >= 0)
    throw new RangeError(`${name}.labels[${label}] is ${labels[label]}; labels must be in [0, ${classes}) for this model`);
  if (!allowNonFinite) await rejectNonFiniteInputs(slices, inputs, size, name, nonFinite);
  const checked = { inputs, targets: labels, count };
  validated.set(data, { key, checked });
  return checked;
}

/**
 * The arrays of regression data `data` and its sample count, once they fit a model with
 * `features` inputs and `outputs` regression outputs: samples with their shape and
 * `samples x outputs` finite targets. Errors as checkDataset's.
 */
export async function checkRegressionData(
  data: RegressionData, name: string, features: number, outputs: number, nonFinite: NonFiniteInputs = "reject",
): Promise<CheckedData> {
  const allowNonFinite = nonFinite === "allow";
  const key = `values:${features}:${outputs}:${allowNonFinite}`;
  const known = validated.get(data);
  if (known?.key === key) return known.checked;
  if (data === null || typeof data !== "object") throw new TypeError(`${name} must be regression data { inputs, targets, sampleShape }, got ${describe(data)}`);
  const { inputs, targets } = data;
  if (!(inputs instanceof Float32Array)) throw new TypeError(`${name}.inputs must be a Float32Array, got ${describe(inputs)}`);
  if (targets === undefined && "labels" in data)
    throw new TypeError(`${name} gives labels, but this is a regression model (mean_squared_error head): it takes ${name}.targets, a Float32Array of samples x ${outputs} values; labels are for a classification model`);
  if (!(targets instanceof Float32Array)) throw new TypeError(`${name}.targets must be a Float32Array of samples x ${outputs} values, got ${describe(targets)}`);
  for (const [field, array] of [["inputs", inputs], ["targets", targets]] as const)
    if ((array.buffer as ArrayBuffer & { resizable?: boolean }).resizable)
      throw new TypeError(`${name}.${field} must not be backed by a resizable ArrayBuffer`);
  if (data.sampleShape === undefined) throw new TypeError(`${name}.sampleShape is required: the shape of one sample, e.g. [${features}]`);
  const shape = sampleShapeOption(`${name}.sampleShape`, data.sampleShape);
  const size = shapeSize(shape);
  if (size !== features)
    throw new RangeError(`${name}.sampleShape [${shape.join(", ")}] has ${size} values per sample but the model's input layer has ${features} units`);
  const count = inputs.length / size;
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff)
    throw new RangeError(`${name}.inputs must hold between 1 and 2^32 - 1 whole samples of shape [${shape.join(", ")}], got ${inputs.length} values`);
  if (targets.length !== count * outputs)
    throw new RangeError(`${name}.targets has ${targets.length} values; ${count} samples x ${outputs} outputs need ${count * outputs}`);
  const slices = new TimeSlices();
  const t = await slices.find(targets.length, (from, to) => firstNonFinite(targets, from, to));
  if (t >= 0)
    throw new RangeError(`${name}.targets holds ${targets[t]} at sample ${Math.floor(t / outputs)}, output ${t % outputs}; targets must be finite`);
  if (!allowNonFinite) await rejectNonFiniteInputs(slices, inputs, size, name, nonFinite);
  const checked = { inputs, targets, count };
  validated.set(data, { key, checked });
  return checked;
}

/** Throws a RangeError naming the first NaN or Infinity of `inputs` (samples of `size` values), if any. */
async function rejectNonFiniteInputs(slices: TimeSlices, inputs: Float32Array, size: number, name: string, nonFinite: NonFiniteInputs): Promise<void> {
  const n = await slices.find(inputs.length, (from, to) => firstNonFinite(inputs, from, to));
  if (n >= 0)
    throw new RangeError(
      `${name}.inputs holds ${inputs[n]} at sample ${Math.floor(n / size)}, feature ${n % size}; inputs must be finite` +
        (nonFinite === "hint" ? ' (or fit with onNonFinite: "skip" to leave out the batches holding such values)' : ""),
    );
}

/** The samples of a data set that gives its sample shape: one per label, of the model's input size. */
function shaped(data: LabelledSamples & { count?: unknown }, name: string, features: number): { count: number; size: number } {
  const shape = sampleShapeOption(`${name}.sampleShape`, data.sampleShape);
  const size = shapeSize(shape);
  if (size !== features)
    throw new RangeError(`${name}.sampleShape [${shape.join(", ")}] has ${size} values per sample but the model's input layer has ${features} units`);
  const count = data.count ?? data.labels.length;
  if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > 0xffffffff)
    throw new RangeError(`${name} must hold between 1 and 2^32 - 1 samples, got ${describe(count)}`);
  return { count: count as number, size };
}

/** The samples of a data set of the form before sample shapes: `count` of `features` values each. */
function flat(data: FlatDataset, name: string, features: number): { count: number; size: number } {
  const { count } = data;
  if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) throw new RangeError(`${name}.count must be a positive integer, got ${describe(count)}`);
  if (data.features !== features)
    throw new RangeError(`${name}.features is ${describe(data.features)} but the model's input layer has ${features} units`);
  return { count, size: features };
}
