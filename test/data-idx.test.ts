import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DataFormatError, parseIdx, readIdxFile } from "../lib/data/idx.js";

/** Encodes an IDX file by hand: 00 00 <type> <ndims>, big-endian uint32 dims, then the payload. */
function idx(dims: number[], payload: number[], type = 0x08, ndims = dims.length): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.set([0, 0, type, ndims]);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return new Uint8Array(Buffer.concat([header, Buffer.from(payload)]));
}

function expectBadData(bytes: Uint8Array, message: RegExp): void {
  let caught: unknown;
  try {
    parseIdx(bytes, "sample.idx");
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DataFormatError);
  expect((caught as DataFormatError).code).toBe("DEEPR_BAD_DATA");
  expect((caught as Error).message).toContain("sample.idx");
  expect((caught as Error).message).toMatch(message);
}

// A 2×3 matrix [[1, 2, 3], [250, 254, 255]].
const matrixPayload = [1, 2, 3, 250, 254, 255];
const matrix = idx([2, 3], matrixPayload);

describe("parseIdx", () => {
  it("reads a 1-D array", () => {
    const parsed = parseIdx(idx([4], [9, 8, 7, 0]), "v.idx");
    expect(parsed.dtype).toBe("uint8");
    expect(parsed.shape).toEqual([4]);
    expect(Array.from(parsed.data)).toEqual([9, 8, 7, 0]);
  });

  it("reads a 2-D array row-major", () => {
    const parsed = parseIdx(matrix, "m.idx");
    expect(parsed.shape).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual(matrixPayload);
  });

  it("reads a 4-D array with sizes needing all four header bytes", () => {
    // 0x00000101 = 257: a size with bits in two header bytes catches byte-order mistakes.
    const payload = Array.from({ length: 257 * 2 }, (_, i) => i % 256);
    const parsed = parseIdx(idx([1, 2, 257, 1], payload), "t.idx");
    expect(parsed.shape).toEqual([1, 2, 257, 1]);
    expect(Array.from(parsed.data)).toEqual(payload);
  });

  it("reads from a view that does not start at offset 0 of its buffer", () => {
    const padded = new Uint8Array(matrix.length + 5);
    padded.set(matrix, 5);
    const parsed = parseIdx(padded.subarray(5), "m.idx");
    expect(parsed.shape).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual(matrixPayload);
  });

  it("rejects a magic number not starting with two zero bytes", () => {
    const bytes = matrix.slice();
    bytes[1] = 1;
    expectBadData(bytes, /not an IDX file/);
  });

  it("rejects gzip bytes passed without decompression", () => {
    expectBadData(new Uint8Array(gzipSync(matrix)), /not an IDX file/);
  });

  it("rejects an unknown element type code, naming it", () => {
    expectBadData(idx([2], [0, 0], 0x0d), /0x0d/);
    expectBadData(idx([2], [0, 0], 0x0b), /0x0b/);
  });

  it("rejects 0 and more than 4 dimensions", () => {
    expectBadData(idx([], [1, 2]), /0 dimensions/);
    expectBadData(idx([1, 1, 1, 1, 1], [7]), /5 dimensions/);
  });

  it("rejects a zero-size dimension", () => {
    expectBadData(idx([3, 0], []), /zero-size dimension/);
  });

  it("rejects a header shorter than its dimension count needs", () => {
    // Declares 3 dimensions but only 2 sizes follow.
    expectBadData(idx([1, 1], [], 0x08, 3), /header truncated/);
  });

  it("gives DataFormatError for every truncation of a valid file", () => {
    for (let length = 0; length < matrix.length; length++) {
      expect(() => parseIdx(matrix.subarray(0, length), "cut.idx"), `length ${length}`).toThrow(DataFormatError);
    }
  });

  it("reports declared and actual byte counts for truncated data", () => {
    expectBadData(matrix.subarray(0, matrix.length - 2), /declares 6 data bytes but 4 follow/);
  });

  it("rejects trailing bytes after the data", () => {
    expectBadData(idx([2, 3], [...matrixPayload, 0]), /declares 6 data bytes but 7 follow/);
  });

  it("rejects a declared size far beyond the file without allocating it", () => {
    // 2^31 × 2^31 = 2^62 bytes; allocating that would throw a RangeError, not a DataFormatError.
    expectBadData(idx([2 ** 31, 2 ** 31], [1, 2, 3]), new RegExp(`declares ${2n ** 62n} data bytes but 3 follow`));
    expectBadData(idx([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], []), /truncated/);
  });
});

describe("readIdxFile", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deepr-idx-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads a plain file", async () => {
    const path = join(dir, "plain-idx2-ubyte");
    await writeFile(path, matrix);
    const parsed = await readIdxFile(path);
    expect(parsed.shape).toEqual([2, 3]);
    expect(Array.from(parsed.data)).toEqual(matrixPayload);
  });

  it("gunzips a gzip file to the same result", async () => {
    const plain = join(dir, "same-idx2-ubyte");
    const gzipped = join(dir, "same-idx2-ubyte.gz");
    await writeFile(plain, matrix);
    await writeFile(gzipped, gzipSync(matrix));
    expect(await readIdxFile(gzipped)).toEqual(await readIdxFile(plain));
  });

  it("wraps a corrupt gzip stream in a DataFormatError naming the file", async () => {
    const path = join(dir, "cut-idx2-ubyte.gz");
    const gz = gzipSync(matrix);
    await writeFile(path, gz.subarray(0, gz.length - 6));
    const error = await readIdxFile(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/gzip/);
  });

  it("names the file in format errors", async () => {
    const path = join(dir, "bad-idx2-ubyte");
    await writeFile(path, matrix.subarray(0, 10));
    await expect(readIdxFile(path)).rejects.toThrow(path);
  });
});
