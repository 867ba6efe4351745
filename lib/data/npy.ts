// The NumPy .npy format (numpy.lib.format): the magic "\x93NUMPY", a major and a minor version byte,
// the header length (uint16 little-endian in version 1.0, uint32 in 2.0 and 3.0), then the header: a
// Python dict literal { 'descr': <dtype>, 'fortran_order': <bool>, 'shape': <tuple> } padded with
// spaces and ended by "\n" (latin-1 in 1.0 and 2.0, UTF-8 in 3.0), then the array's raw bytes.
import { shapedDataset } from "./arrays.js";
import type { Dataset } from "./dataset.js";
import { DataFormatError, readDataFile } from "./idx.js";
import { describe, integer, MAX_SIZE, nonEmptyString, object } from "../options.js";
import { allInOrder } from "./all-in-order.js";

export type NpyDtype = "float16" | "float32" | "float64" | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64";

/** An array read from a .npy file: its header and a view of its raw data bytes. */
export interface NpyArray {
  readonly dtype: NpyDtype;
  readonly littleEndian: boolean;
  /** The element order of `data`: C (row-major) or Fortran (column-major). */
  readonly fortranOrder: boolean;
  readonly shape: readonly number[];
  /** The raw element bytes, `product(shape) × itemsize` of them. */
  readonly data: Uint8Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const MAX_ELEMENTS = 2 ** 32;
const KINDS: Record<string, Partial<Record<number, NpyDtype>>> = {
  f: { 2: "float16", 4: "float32", 8: "float64" },
  i: { 1: "int8", 2: "int16", 4: "int32", 8: "int64" },
  u: { 1: "uint8", 2: "uint16", 4: "uint32", 8: "uint64" },
};
const SUPPORTED = "float16/32/64, int8/16/32/64, uint8/16/32/64";

/** Parses a .npy file; `data` is a view into `bytes`, not a copy. `source` names the file in error messages. */
export function parseNpy(bytes: Uint8Array, source: string): NpyArray {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytes must be a Uint8Array (or Buffer), got ${describe(bytes)}`);
  if (typeof source !== "string") throw new TypeError(`source must be a string naming the file, got ${describe(source)}`);
  const fail = (problem: string) => new DataFormatError(`${source}: ${problem}`);
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) throw fail("is a zip archive (.npz?), not a .npy file; extract its arrays (np.load, then np.save each) first.");
  if (bytes.length < 10 || MAGIC.some((byte, i) => bytes[i] !== byte))
    throw fail(bytes.length < 10 ? `only ${bytes.length} bytes long; the file is truncated or is not a .npy file.` : 'not a .npy file: it does not start with "\\x93NUMPY".');
  const [major, minor] = [bytes[6], bytes[7]];
  if (major < 1 || major > 3 || minor !== 0) throw fail(`NPY format version ${major}.${minor} is not supported (1.0, 2.0 and 3.0 are).`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const lengthBytes = major === 1 ? 2 : 4;
  if (bytes.length < 8 + lengthBytes) throw fail("truncated inside the header length.");
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const dataStart = 8 + lengthBytes + headerLength;
  if (dataStart > bytes.length) throw fail(`header truncated: it declares ${headerLength} bytes but the file ends ${dataStart - bytes.length} bytes short of that.`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(8 + lengthBytes, dataStart));

  let dict: unknown;
  try {
    dict = parseLiteral(header);
  } catch (error) {
    throw fail(`the header ${quote(header)} is not a valid Python dict literal (${(error as Error).message}).`);
  }
  if (dict === null || typeof dict !== "object" || Array.isArray(dict)) throw fail(`the header ${quote(header)} is not a dict.`);
  const fields = dict as Record<string, unknown>;
  for (const key of ["descr", "fortran_order", "shape"])
    if (!(key in fields)) throw fail(`the header has no '${key}' entry; the file is corrupt or not written by NumPy.`);
  const { dtype, littleEndian, itemsize } = parseDescr(fields.descr, fail);
  if (typeof fields.fortran_order !== "boolean") throw fail(`'fortran_order' must be True or False, got ${describe(fields.fortran_order)}.`);
  const shape = fields.shape;
  if (!Array.isArray(shape) || !shape.every((size) => typeof size === "number" && Number.isInteger(size) && size >= 0))
    throw fail(`'shape' must be a tuple of sizes, got ${describe(shape)}.`);

  const elements = shape.reduce((a: number, b: number) => a * b, 1);
  if (elements > MAX_ELEMENTS) throw fail(`shape ${pythonTuple(shape)} holds ${elements} elements, more than the ${MAX_ELEMENTS} supported.`);
  const declared = elements * itemsize;
  const actual = bytes.length - dataStart;
  if (declared !== actual) {
    const problem = declared > actual ? "the file is truncated" : "the file has trailing bytes or the header is corrupt";
    throw fail(`shape ${pythonTuple(shape)} of ${dtype} declares ${declared} data bytes but ${actual} follow the header; ${problem}.`);
  }
  return { dtype, littleEndian, fortranOrder: fields.fortran_order, shape: [...shape], data: bytes.subarray(dataStart) };
}

/** A shape as Python writes it: (3,) or (2, 3). */
export function pythonTuple(shape: readonly number[]): string {
  return `(${shape.join(", ")}${shape.length === 1 ? "," : ""})`;
}

/** The header for an error message, cut short: a corrupt length field can make it megabytes long. */
function quote(header: string): string {
  const text = header.trim();
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}...` : text);
}

function parseDescr(descr: unknown, fail: (problem: string) => DataFormatError): { dtype: NpyDtype; littleEndian: boolean; itemsize: number } {
  if (typeof descr !== "string")
    throw fail(`dtype ${describe(descr)} is a structured (record) dtype; only plain numeric arrays (${SUPPORTED}) are supported.`);
  const match = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const dtype = match ? KINDS[match[2]]?.[Number(match[3])] : undefined;
  if (!match || !dtype) {
    const hint = descr.includes("O") ? " (Python objects, stored with pickle)" : /[US]/.test(descr) ? " (strings)" : "";
    throw fail(`dtype '${descr}'${hint} is not supported; save the array as one of ${SUPPORTED} (e.g. x.astype(np.float32)).`);
  }
  // '=' is native order; NumPy writes it out as '<' or '>', so it only appears in hand-made files.
  const littleEndian = match[1] !== ">" && !(match[1] === "=" && !hostLittleEndian());
  return { dtype, littleEndian, itemsize: Number(match[3]) };
}

function hostLittleEndian(): boolean {
  return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
}

/**
 * Parses the Python literals a .npy header uses: dicts, tuples, lists, quoted strings, integers,
 * True, False and None. Throws an Error saying what was expected where.
 */
function parseLiteral(text: string): unknown {
  let at = 0;
  const skip = () => {
    while (at < text.length && /\s/.test(text[at])) at++;
  };
  const expected = (what: string) => new Error(`expected ${what} at character ${at + 1}`);
  const value = (): unknown => {
    skip();
    const c = text[at];
    if (c === "{") return sequence("}", true);
    if (c === "(" || c === "[") return sequence(c === "(" ? ")" : "]", false);
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, at + 1);
      if (end < 0) throw expected(`a closing ${c}`);
      const s = text.slice(at + 1, end);
      at = end + 1;
      return s;
    }
    // Python 2 NumPy wrote long integers with an L suffix: (3L, 4L).
    const word = /^(?:True|False|None|-?\d+L?)/.exec(text.slice(at, at + 32))?.[0];
    if (word === undefined) throw expected("a value");
    at += word.length;
    return word === "True" ? true : word === "False" ? false : word === "None" ? null : Number(word.replace("L", ""));
  };
  const sequence = (close: string, isDict: boolean): unknown => {
    at++;
    const items: unknown[] = [];
    const dict: Record<string, unknown> = {};
    for (;;) {
      skip();
      if (text[at] === close) break;
      const item = value();
      if (isDict) {
        if (typeof item !== "string") throw expected("a string key");
        skip();
        if (text[at] !== ":") throw expected("':'");
        at++;
        dict[item] = value();
      } else items.push(item);
      skip();
      if (text[at] === ",") at++;
      else if (text[at] !== close) throw expected(`',' or '${close}'`);
    }
    at++;
    return isDict ? dict : items;
  };
  const result = value();
  skip();
  if (at !== text.length) throw expected("the end of the header");
  return result;
}

/** Reads element `i` (in storage order) of `array` as a number; int64 values beyond 2^53 lose precision. */
function elementReader(array: NpyArray): (i: number) => number {
  const { data, littleEndian: le } = array;
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (array.dtype) {
    case "float16": return (i) => halfToNumber(v.getUint16(2 * i, le));
    case "float32": return (i) => v.getFloat32(4 * i, le);
    case "float64": return (i) => v.getFloat64(8 * i, le);
    case "int8": return (i) => v.getInt8(i);
    case "uint8": return (i) => data[i];
    case "int16": return (i) => v.getInt16(2 * i, le);
    case "uint16": return (i) => v.getUint16(2 * i, le);
    case "int32": return (i) => v.getInt32(4 * i, le);
    case "uint32": return (i) => v.getUint32(4 * i, le);
    case "int64": return (i) => Number(v.getBigInt64(8 * i, le));
    case "uint64": return (i) => Number(v.getBigUint64(8 * i, le));
  }
}

/** IEEE 754 binary16 bits to a number. */
function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * Calls `visit(storageIndex, rowMajorIndex)` for every element: the identity for C order, the
 * transposition of the indices for Fortran order (first index fastest in storage).
 */
function forEachElement(array: NpyArray, visit: (from: number, to: number) => void): void {
  const { shape } = array;
  const count = shape.reduce((a, b) => a * b, 1);
  if (!array.fortranOrder || shape.length < 2) {
    for (let i = 0; i < count; i++) visit(i, i);
    return;
  }
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const index = new Array<number>(shape.length).fill(0);
  let to = 0;
  for (let from = 0; from < count; from++) {
    visit(from, to);
    for (let d = 0; d < shape.length; d++) {
      index[d]++;
      to += strides[d];
      if (index[d] < shape[d]) break;
      to -= shape[d] * strides[d];
      index[d] = 0;
    }
  }
}

/** Every element as float32, in row-major order. A non-finite value fails with its sample and feature; `what` names the values in that error. */
export function npyToFloat32(array: NpyArray, source: string, what = "inputs"): Float32Array {
  const read = elementReader(array);
  const out = new Float32Array(array.shape.reduce((a, b) => a * b, 1));
  const features = out.length / Math.max(array.shape[0], 1);
  forEachElement(array, (from, to) => {
    const x = Math.fround(read(from));
    if (!Number.isFinite(x))
      throw new DataFormatError(`${source}: sample ${Math.floor(to / features)}, feature ${to % features} is ${read(from)}${Number.isFinite(read(from)) ? " (beyond float32)" : ""}; ${what} must be finite.`);
    out[to] = x;
  });
  return out;
}

/** Every element as a class index (integer dtype, or float holding whole numbers), in order. */
export function npyToLabels(array: NpyArray, source: string): Int32Array {
  const read = elementReader(array);
  const out = new Int32Array(array.shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) {
    const label = read(i);
    if (!Number.isInteger(label) || label < 0 || label > MAX_SIZE)
      throw new DataFormatError(
        `${source}: label ${label} at index ${i} is not a class index (an integer from 0); values to predict are the targets of a regression model (a mean_squared_error head).`,
      );
    out[i] = label;
  }
  return out;
}

/** Reads and parses a .npy file. */
export async function readNpyFile(path: string): Promise<NpyArray> {
  nonEmptyString("path", path);
  return parseNpy(await readDataFile(path), path);
}

/** Options of `loadNpy`. */
export interface NpyOptions {
  /** The number of classes. Default: the largest label + 1. */
  classes?: number;
}

/** Decoded arrays of a data set, before its class count is settled. */
export interface LabelledArrays {
  readonly inputs: Float32Array;
  readonly labels: Int32Array;
  /** The shape of one sample. */
  readonly shape: number[];
}

/**
 * Loads a data set from two .npy files: inputs of shape [N, ...] (any supported dtype; the sample
 * shape is the rest, e.g. [N, 28, 28] gives shape [28, 28]) and integer labels of shape [N] (or [N, 1]).
 * Values are taken as they are: normalise them with `Dataset.normalize` (or `loadDataFile`'s `normalize`).
 */
export async function loadNpy(inputsPath: string, labelsPath: string, options: NpyOptions = {}): Promise<Dataset> {
  object("options", options);
  for (const key of Object.keys(options)) if (key !== "classes") throw new TypeError(`options.${key} is not an option of loadNpy; the only option is classes`);
  const classes = options.classes === undefined ? undefined : integer("options.classes", options.classes, 2, MAX_SIZE);
  const arrays = await readNpyPair(inputsPath, labelsPath);
  return labelledDataset(arrays, classes ?? classCount(arrays.labels, labelsPath), labelsPath);
}

/** Reads an inputs file and its labels file, checking that they agree. */
export async function readNpyPair(inputsPath: string, labelsPath: string): Promise<LabelledArrays> {
  const [x, y] = await allInOrder([readNpyFile(inputsPath), readNpyFile(labelsPath)]);
  if (x.shape.length === 0) throw new DataFormatError(`${inputsPath}: holds a single value (shape ()); inputs need shape (samples, ...).`);
  const count = x.shape[0];
  if (x.shape.some((size) => size === 0)) throw new DataFormatError(`${inputsPath}: shape ${pythonTuple(x.shape)} holds no values.`);
  if (y.shape.length === 2 && y.shape[1] > 1)
    throw new DataFormatError(`${labelsPath}: shape ${pythonTuple(y.shape)} looks one-hot; labels must be class indices of shape (${count},): save y.argmax(axis=1).`);
  if (y.shape.length === 0 || y.shape.length > 2) throw new DataFormatError(`${labelsPath}: labels must have shape (${count},), got ${pythonTuple(y.shape)}.`);
  if (y.shape[0] !== count) throw new DataFormatError(`${labelsPath} has ${y.shape[0]} labels but ${inputsPath} has ${count} samples; give one label per sample.`);
  const labels = npyToLabels(y, labelsPath);
  const inputs = npyToFloat32(x, inputsPath);
  return { inputs, labels, shape: x.shape.length === 1 ? [1] : x.shape.slice(1) };
}

/** The largest label + 1; `source` names the labels in the error when every label is 0. */
export function classCount(labels: Int32Array, source: string): number {
  let top = 0;
  for (const label of labels) top = Math.max(top, label);
  if (top === 0) throw new DataFormatError(`${source}: every label is 0; a classifier needs at least 2 classes (give classes to set the count).`);
  return top + 1;
}

/** A Dataset of decoded arrays with `classes` classes, which every label must be below. */
export function labelledDataset({ inputs, labels, shape }: LabelledArrays, classes: number, source: string): Dataset {
  const outside = labels.findIndex((label) => label >= classes);
  if (outside >= 0) throw new DataFormatError(`${source}: label ${labels[outside]} at index ${outside} is not below classes (${classes}).`);
  return shapedDataset({ inputs, labels, sampleShape: shape, classes });
}
