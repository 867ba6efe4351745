/**
 * Strict safetensors reader and crash-safe writer.
 *
 * Layout: u64 little-endian header length N, N bytes of UTF-8 JSON header,
 * then the data section. Each header entry is
 * `{"dtype", "shape", "data_offsets": [begin, end]}` relative to the data
 * section; the optional `"__metadata__"` entry is a flat string → string map.
 *
 * Tensor bytes are copied to and from the host's typed arrays as they are, so
 * this assumes a little-endian host (every platform Node ships for); big-endian
 * hosts are not supported.
 */
import { promises as fs } from "node:fs";
import { crc32 } from "node:zlib";
import { writeFileAtomic } from "../atomic-file.js";

export type DType = "F32" | "F64" | "I32" | "I64" | "I8" | "U8";
export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Int8Array | Uint8Array;
export interface Tensor {
  dtype: DType;
  shape: number[];
  data: TensorData;
}
export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  /** The file's `__metadata__`, without the `deepr.crc32` key (already verified). */
  metadata: Record<string, string>;
}

/** A checkpoint that cannot be read or written; the message names the file and the problem. */
export class CheckpointError extends Error {
  readonly code = "DEEPR_BAD_CHECKPOINT";
  override name = "CheckpointError";
}

/** Metadata key holding the CRC32 of the whole data section, as 8 lowercase hex digits. */
export const CHECKSUM_KEY = "deepr.crc32";
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

interface ArrayClass {
  new (buffer: ArrayBuffer): TensorData;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}
const ARRAYS: Record<DType, ArrayClass> = {
  F32: Float32Array,
  F64: Float64Array,
  I32: Int32Array,
  I64: BigInt64Array,
  I8: Int8Array,
  U8: Uint8Array,
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
// Header values go into error messages; deeply nested JSON makes JSON.stringify throw RangeError.
function show(value: unknown): string {
  try {
    const text = JSON.stringify(value) ?? String(value);
    return text.length > 80 ? `${text.slice(0, 80)}…` : text;
  } catch {
    return `a deeply nested ${typeof value}`;
  }
}
const hex = (crc: number) => crc.toString(16).padStart(8, "0");
// A zero dimension makes the tensor empty even if the other factors overflow to Infinity.
const elementCount = (shape: number[]) => (shape.includes(0) ? 0 : shape.reduce((a, b) => a * b, 1));

/**
 * Serialises tensors (in the given order, contiguous) into safetensors bytes,
 * returned as chunks so large tensors are not copied. Throws TypeError on invalid input.
 */
export function encodeSafetensors(
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string>,
): Uint8Array[] {
  const entries = tensors instanceof Map ? [...tensors] : Object.entries(tensors);
  const chunks: Uint8Array[] = [];
  const infos: [string, unknown][] = [];
  let offset = 0;
  let crc = 0;
  for (const [name, { dtype, shape, data }] of entries) {
    const bad = (what: string): never => {
      throw new TypeError(`safetensors: tensor "${name}": ${what}`);
    };
    if (name === "" || name === "__metadata__") bad("invalid tensor name");
    if (!Object.hasOwn(ARRAYS, dtype)) bad(`unsupported dtype ${JSON.stringify(dtype)}`);
    // toStringTag rather than instanceof: works across realms and accepts Buffer as U8.
    if (!ArrayBuffer.isView(data) || data[Symbol.toStringTag] !== ARRAYS[dtype].name) {
      bad(`dtype ${dtype} needs a ${ARRAYS[dtype].name}`);
    }
    if (!Array.isArray(shape) || !shape.every(isCount)) bad(`shape ${JSON.stringify(shape)} is not a list of non-negative integers`);
    if (elementCount(shape) !== data.length) bad(`shape [${shape}] needs ${elementCount(shape)} elements, data has ${data.length}`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    infos.push([name, { dtype, shape, data_offsets: [offset, offset + bytes.length] }]);
    offset += bytes.length;
    // Skip empty tensors: zlib.crc32 of a view on a zero-length ArrayBuffer returns 0, dropping `crc`.
    if (bytes.length > 0) {
      chunks.push(bytes);
      crc = crc32(bytes, crc);
    }
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== "string") throw new TypeError(`safetensors: metadata "${key}" must be a string`);
    if (key === CHECKSUM_KEY) throw new TypeError(`safetensors: metadata key "${CHECKSUM_KEY}" is reserved`);
  }
  // fromEntries defines own properties, so a tensor named "__proto__" stays a plain key.
  const header = Object.fromEntries([["__metadata__", { ...metadata, [CHECKSUM_KEY]: hex(crc) }], ...infos]);
  const json = Buffer.from(JSON.stringify(header), "utf8");
  // Space padding puts the data section at an 8-byte aligned file offset, as the reference writer does.
  const headerLength = Math.ceil(json.length / 8) * 8;
  const prefix = Buffer.alloc(8 + headerLength, 0x20);
  prefix.writeBigUInt64LE(BigInt(headerLength), 0);
  json.copy(prefix, 8);
  return [prefix, ...chunks];
}

/** Parses and fully validates safetensors bytes; `source` names the file in error messages. */
export function decodeSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const fail = (what: string): never => {
    throw new CheckpointError(`checkpoint ${source}: ${what}`);
  };
  if (bytes.length < 8) fail(`file is only ${bytes.length} bytes, too short for a safetensors file`);
  const claimed = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  // Every safetensors header is a JSON object; checked on the raw byte, as TextDecoder would
  // silently drop a leading BOM. Without one, a length that does not fit the file means another
  // kind of file altogether (an image renamed, say), whose first 8 bytes give a baffling number.
  if (bytes[8] !== 0x7b) {
    if (claimed === 0n || claimed > BigInt(bytes.length - 8)) throw new CheckpointError(`${source}: not a deepr checkpoint (no safetensors header)`);
    fail("header does not start with '{' (not a safetensors file)");
  }
  if (claimed === 0n) fail("header length is 0");
  if (claimed > BigInt(MAX_HEADER_BYTES)) fail(`header length ${claimed} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (claimed > BigInt(bytes.length - 8)) fail(`header length ${claimed} runs past the end of the ${bytes.length}-byte file (truncated?)`);
  const dataStart = 8 + Number(claimed);
  const dataLength = bytes.length - dataStart;

  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, dataStart)));
  } catch (err) {
    fail(`header is not valid UTF-8 JSON (${(err as Error).message})`);
  }
  if (!isObject(header)) fail("header is not a JSON object");
  const { __metadata__: rawMetadata = {}, ...entries } = header as Record<string, unknown>;

  if (!isObject(rawMetadata) || !Object.values(rawMetadata).every((v) => typeof v === "string")) {
    fail("__metadata__ is not an object of string values");
  }
  const { [CHECKSUM_KEY]: checksum, ...metadata } = rawMetadata as Record<string, string>;

  const layout: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(entries)) {
    const bad = (what: string): never => fail(`tensor "${name}": ${what}`);
    if (!isObject(info)) bad("entry is not an object");
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (typeof dtype !== "string" || !Object.hasOwn(ARRAYS, dtype)) bad(`unknown dtype ${show(dtype)}`);
    if (!Array.isArray(shape) || !shape.every(isCount)) bad(`shape ${show(shape)} is not a list of non-negative integers`);
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount) || offsets[0] > offsets[1]) {
      bad(`data_offsets ${show(offsets)} are not two integers with begin <= end`);
    }
    const [begin, end] = offsets as number[];
    if (end > dataLength) bad(`data_offsets end ${end} is beyond the ${dataLength}-byte data section (truncated?)`);
    const count = elementCount(shape as number[]);
    // Exact: a true product above 2^53 rounds to at least 2^53, which exceeds any byte length here.
    if (count * ARRAYS[dtype as DType].BYTES_PER_ELEMENT !== end - begin) {
      bad(`shape ${show(shape)} of ${dtype} does not match its ${end - begin} data bytes`);
    }
    layout.push({ name, dtype: dtype as DType, shape: shape as number[], begin, end });
  }

  // The spec requires the tensors to tile the data section exactly: no overlaps, no holes.
  layout.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  for (const { name, begin, end } of layout) {
    if (begin < position) fail(`tensor "${name}" overlaps the previous tensor at data offset ${begin}`);
    if (begin > position) fail(`unused bytes in the data section at offsets ${position}..${begin}`);
    position = end;
  }
  if (position !== dataLength) fail(`unused bytes in the data section at offsets ${position}..${dataLength}`);

  if (checksum !== undefined && checksum !== hex(crc32(bytes.subarray(dataStart)))) {
    fail(`checksum mismatch (${CHECKSUM_KEY} ${checksum}): the file is corrupted`);
  }

  const tensors = new Map<string, Tensor>();
  for (const { name, dtype, shape, begin, end } of layout) {
    // Copy into a fresh buffer: the data may sit at an offset the typed array cannot be aligned to.
    const copy = new Uint8Array(end - begin);
    copy.set(bytes.subarray(dataStart + begin, dataStart + end));
    tensors.set(name, { dtype, shape, data: new ARRAYS[dtype](copy.buffer) });
  }
  return { tensors, metadata };
}

/** Writes a safetensors file atomically (lib/atomic-file.ts): the previous file or the complete new one. */
export async function writeSafetensorsAtomic(
  path: string,
  tensors: Map<string, Tensor> | Record<string, Tensor>,
  metadata: Record<string, string>,
): Promise<void> {
  let chunks: Uint8Array[];
  try {
    chunks = encodeSafetensors(tensors, metadata);
  } catch (err) {
    throw new CheckpointError(`cannot write checkpoint ${path}: ${(err as Error).message}; the previous file, if any, is left intact`, { cause: err });
  }
  await writeFileAtomic(path, chunks, "checkpoint", CheckpointError);
}

/** Reads and validates a safetensors file. */
export async function readSafetensors(path: string): Promise<SafetensorsFile> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const what = code === "ENOENT" ? "no such checkpoint file" : `cannot read checkpoint: ${(err as Error).message}`;
    throw new CheckpointError(`${what}: ${path}`, { cause: err });
  }
  return decodeSafetensors(bytes, path);
}
