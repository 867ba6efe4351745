import { constants as bufferConstants } from "node:buffer";
import { readFile } from "node:fs/promises";
import { createGunzip } from "node:zlib";
import { describe, nonEmptyString } from "../options.js";

/** A data file that is present but cannot be used as it is. */
export class DataFormatError extends Error {
  readonly code = "DEEPR_BAD_DATA";

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "DataFormatError";
  }
}

/** An n-dimensional array read from an IDX file; `data` is row-major. */
export interface IdxArray {
  readonly dtype: "uint8";
  readonly shape: number[];
  readonly data: Uint8Array;
}

// MNIST only uses unsigned bytes; the other IDX types (int8, int16, int32, float32, float64) are not needed.
const UBYTE = 0x08;
const MAX_DIMS = 4;

/**
 * Parses an IDX file (magic `00 00 <type> <ndims>`, then `ndims` big-endian uint32 sizes, then the data).
 * `data` is a view into `bytes`, not a copy. `source` names the file in error messages.
 */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`bytes must be a Uint8Array (or Buffer), got ${describe(bytes)}`);
  if (typeof source !== "string") throw new TypeError(`source must be a string naming the file, got ${describe(source)}`);
  const fail = (problem: string) => new DataFormatError(`${source}: ${problem}`);
  if (bytes.length < 4) {
    throw fail(`only ${bytes.length} bytes long; an IDX file starts with a 4-byte magic number. The file is truncated or is not an IDX file.`);
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    throw fail("not an IDX file: its magic number does not start with two zero bytes. If it is compressed with something other than gzip, decompress it first.");
  }
  const type = bytes[2];
  if (type !== UBYTE) {
    throw fail(`unsupported IDX element type code 0x${type.toString(16).padStart(2, "0")}; only 0x08 (unsigned byte), as used by MNIST, is supported.`);
  }
  const ndims = bytes[3];
  if (ndims < 1 || ndims > MAX_DIMS) {
    throw fail(`declares ${ndims} dimensions; only 1 to ${MAX_DIMS} are supported. The file is corrupt or is not an IDX file.`);
  }
  const headerBytes = 4 + 4 * ndims;
  if (bytes.length < headerBytes) {
    throw fail(`header truncated: ${ndims} dimensions need a ${headerBytes}-byte header but the file has only ${bytes.length} bytes.`);
  }

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < ndims; d++) shape.push(view.getUint32(4 + 4 * d, false));
  if (shape.some((size) => size === 0)) {
    throw fail(`shape [${shape.join(", ")}] has a zero-size dimension, so the file holds no samples.`);
  }

  // BigInt keeps the declared size exact even for absurd headers (up to 2^128), and nothing is allocated from it.
  const declared = shape.reduce((total, size) => total * BigInt(size), 1n);
  const actual = BigInt(bytes.length - headerBytes);
  if (declared !== actual) {
    const problem = declared > actual ? "the file is truncated or the header is corrupt" : "the file has trailing bytes or the header is corrupt";
    throw fail(`shape [${shape.join(", ")}] declares ${declared} data bytes but ${actual} follow the ${headerBytes}-byte header; ${problem}.`);
  }
  // A plain Uint8Array view, even when `bytes` is a Buffer (whose slice() shares memory instead of copying).
  return { dtype: "uint8", shape, data: new Uint8Array(bytes.buffer, bytes.byteOffset + headerBytes, bytes.length - headerBytes) };
}

/** Reads and parses an IDX file, gunzipping it first when it starts with the gzip magic `1f 8b`. */
export async function readIdxFile(path: string): Promise<IdxArray> {
  // A number would be taken as a file descriptor (0 = stdin) by readFile.
  nonEmptyString("path", path);
  const raw = await readDataFile(path);
  return parseIdx(isGzip(raw) ? await gunzipFile(raw, path) : raw, path);
}

/** A data file's bytes; a failure is a DataFormatError naming the file (Node's message for some, EISDIR, does not). */
export async function readDataFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (cause) {
    throw new DataFormatError(`${path}: cannot read the file (${(cause as Error).message})`, { cause });
  }
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses no more than the IDX header inside declares: a corrupt or hostile file (a header
 * that lies, a "zip bomb") fails as soon as the output passes that size instead of filling memory.
 */
async function gunzipFile(raw: Uint8Array, path: string): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  let limit: bigint | undefined;
  const gunzip = createGunzip();
  gunzip.end(raw);
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      total += chunk.length;
      if (limit === undefined && total >= 4) {
        const head = Buffer.concat(chunks);
        const ndims = head[3];
        // Not a valid IDX header: stop here and let parseIdx say what is wrong with it.
        if (head[0] !== 0 || head[1] !== 0 || head[2] !== UBYTE || ndims < 1 || ndims > MAX_DIMS) break;
        if (total >= 4 + 4 * ndims) {
          let data = 1n;
          for (let d = 0; d < ndims; d++) data *= BigInt(head.readUInt32BE(4 + 4 * d));
          limit = BigInt(4 + 4 * ndims) + data;
          if (limit > BigInt(bufferConstants.MAX_LENGTH))
            throw new DataFormatError(`${path}: its header declares ${limit} bytes of data, more than a buffer can hold here; the file is corrupt.`);
        }
      }
      if (limit !== undefined && BigInt(total) > limit)
        throw new DataFormatError(`${path}: decompresses to more than the ${limit} bytes its header declares; the file is corrupt.`);
    }
  } catch (cause) {
    if (cause instanceof DataFormatError) throw cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new DataFormatError(`${path}: gzip data is corrupt or truncated (${reason}); download the file again.`, { cause });
  } finally {
    gunzip.destroy();
  }
  return Buffer.concat(chunks, total);
}
