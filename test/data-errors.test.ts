// Every way the data readers (lib/data/) refuse an argument or a file, with the whole message:
// what is wrong, which file, and what to do. The formats themselves are tested in data-idx,
// data-mnist and data-cifar10.
import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCifar10, parseCifar10Batch } from "../lib/data/cifar10.js";
import { DataFormatError, parseIdx, readIdxFile } from "../lib/data/idx.js";
import { loadMnist } from "../lib/data/mnist.js";
import { entry } from "../lib/data/paths.js";

/** An unsigned-byte IDX file, written out by hand. */
function idx(dims: number[], payload: ArrayLike<number> = new Uint8Array(dims.reduce((a, b) => a * b, 1))): Buffer {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header.set([0, 0, 0x08, dims.length]);
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(payload)]);
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

async function dataError(promise: Promise<unknown>): Promise<string> {
  const error = await failure(promise);
  expect(error).toBeInstanceOf(DataFormatError);
  expect(error.name).toBe("DataFormatError");
  expect((error as DataFormatError).code).toBe("DEEPR_BAD_DATA");
  return error.message;
}

const parseError = (bytes: Uint8Array) => dataError(Promise.resolve().then(() => parseIdx(bytes, "f.idx")));

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-data-errors-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("parseIdx", () => {
  it("names each problem of the header", async () => {
    expect(await parseError(Uint8Array.of(0, 0, 8))).toBe(
      "f.idx: only 3 bytes long; an IDX file starts with a 4-byte magic number. The file is truncated or is not an IDX file.",
    );
    expect(await parseError(Uint8Array.of(0, 1, 8, 1, 0, 0, 0, 0))).toBe(
      "f.idx: not an IDX file: its magic number does not start with two zero bytes. If it is compressed with something other than gzip, decompress it first.",
    );
    expect(await parseError(Uint8Array.of(1, 0, 8, 1, 0, 0, 0, 0))).toMatch(/^f\.idx: not an IDX file/);
    expect(await parseError(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0))).toBe(
      "f.idx: unsupported IDX element type code 0x0d; only 0x08 (unsigned byte), as used by MNIST, is supported.",
    );
    expect(await parseError(Uint8Array.of(0, 0, 8, 0))).toBe(
      "f.idx: declares 0 dimensions; only 1 to 4 are supported. The file is corrupt or is not an IDX file.",
    );
    expect(await parseError(Uint8Array.of(0, 0, 8, 5))).toBe(
      "f.idx: declares 5 dimensions; only 1 to 4 are supported. The file is corrupt or is not an IDX file.",
    );
    expect(await parseError(Uint8Array.of(0, 0, 8, 2, 0, 0, 0, 1, 0, 0, 0))).toBe(
      "f.idx: header truncated: 2 dimensions need a 12-byte header but the file has only 11 bytes.",
    );
    expect(await parseError(idx([2, 0, 3]))).toBe("f.idx: shape [2, 0, 3] has a zero-size dimension, so the file holds no samples.");
  });

  it("says whether the data is short or long", async () => {
    expect(await parseError(idx([2, 3], [1, 2, 3, 4, 5]))).toBe(
      "f.idx: shape [2, 3] declares 6 data bytes but 5 follow the 12-byte header; the file is truncated or the header is corrupt.",
    );
    expect(await parseError(idx([2, 3], [1, 2, 3, 4, 5, 6, 7]))).toBe(
      "f.idx: shape [2, 3] declares 6 data bytes but 7 follow the 12-byte header; the file has trailing bytes or the header is corrupt.",
    );
  });

  it("reads the smallest files of one to four dimensions", () => {
    expect(parseIdx(idx([1], [7]), "a").shape).toEqual([1]);
    expect(parseIdx(idx([1, 1, 1, 1], [7]), "b").shape).toEqual([1, 1, 1, 1]);
    expect(Array.from(parseIdx(Buffer.from(idx([2], [4, 5])), "c").data)).toEqual([4, 5]);
  });

  it("refuses arguments of the wrong type with a TypeError", () => {
    expect(() => parseIdx([0, 0, 8, 1] as never, "x")).toThrow(new TypeError("bytes must be a Uint8Array (or Buffer), got an array of 4"));
    expect(() => parseIdx(idx([1], [0]), 3 as never)).toThrow(new TypeError("source must be a string naming the file, got 3"));
  });
});

describe("readIdxFile", () => {
  it("refuses a path that is not a non-empty string", async () => {
    for (const [path, shown] of [[0, "0"], ["", '""'], [undefined, "undefined"]] as const) {
      const error = await failure(readIdxFile(path as never));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe(`path must be a non-empty string, got ${shown}`);
    }
  });

  it("names the file it cannot read", async () => {
    const error = await failure(readIdxFile(dir));
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toMatch(new RegExp(`^${dir}: cannot read the file \\(.*EISDIR.*\\)$`));
    expect((error.cause as NodeJS.ErrnoException).code).toBe("EISDIR");
  });

  it("reads gzip only by its magic bytes: a lone 0x1f is a (too short) plain file", async () => {
    const path = join(dir, "one-byte");
    await writeFile(path, Uint8Array.of(0x1f));
    expect(await dataError(readIdxFile(path))).toBe(
      `${path}: only 1 bytes long; an IDX file starts with a 4-byte magic number. The file is truncated or is not an IDX file.`,
    );
    const plain = join(dir, "starts-1f");
    await writeFile(plain, Uint8Array.of(0x1f, 0x00, 0x08, 0x01));
    expect(await dataError(readIdxFile(plain))).toMatch(/^.*starts-1f: not an IDX file/);
  });

  it("stops inflating at the size the header declares", async () => {
    const path = join(dir, "bomb.gz");
    // Declares 4 bytes of data but inflates to 1 MiB.
    await writeFile(path, gzipSync(Buffer.concat([idx([4], [1, 2, 3, 4]), Buffer.alloc(1 << 20)])));
    expect(await dataError(readIdxFile(path))).toBe(`${path}: decompresses to more than 12 bytes its header declares; the file is corrupt.`.replace("than 12", "than the 12"));
    // Exactly the declared size inflates fine, in several chunks.
    const exact = join(dir, "exact.gz");
    await writeFile(exact, gzipSync(idx([300, 1000])));
    expect((await readIdxFile(exact)).shape).toEqual([300, 1000]);
  });

  it("refuses a header declaring more than a buffer can hold, before inflating it", async () => {
    const path = join(dir, "huge.gz");
    const header = Buffer.alloc(16);
    header.set([0, 0, 8, 3]);
    [0xffffffff, 0xffffffff, 2].forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
    await writeFile(path, gzipSync(Buffer.concat([header, Buffer.alloc(64)])));
    expect(await dataError(readIdxFile(path))).toBe(
      `${path}: its header declares ${16n + 0xffffffffn * 0xffffffffn * 2n} bytes of data, more than a buffer can hold here; the file is corrupt.`,
    );
  });

  it("lets parseIdx explain a gzipped file that is not IDX inside", async () => {
    const path = join(dir, "text.gz");
    await writeFile(path, gzipSync("hello, world"));
    expect(await dataError(readIdxFile(path))).toMatch(new RegExp(`^${path}: not an IDX file`));
    const short = join(dir, "short-header.gz");
    await writeFile(short, gzipSync(Uint8Array.of(0, 0, 8, 2, 0, 0, 0, 1)));
    expect(await dataError(readIdxFile(short))).toBe(`${short}: header truncated: 2 dimensions need a 12-byte header but the file has only 8 bytes.`);
  });

  it("inflates a gzipped file that is not IDX no further than parseIdx needs to say so", async () => {
    // Each header is wrong in one field; 64 KiB follow, more than any size it could be read to declare.
    const headers = [[1, 0, 8, 1], [0, 1, 8, 1], [0, 0, 0x0d, 1], [0, 0, 8, 0], [0, 0, 8, 5]];
    for (const [n, head] of headers.entries()) {
      const bytes = Buffer.concat([Buffer.from(head), Buffer.from([0, 0, 0, 1]), Buffer.alloc(1 << 16, 1)]);
      const path = join(dir, `not-idx-${n}.gz`);
      await writeFile(path, gzipSync(bytes));
      const plain = await parseError(bytes);
      expect(await dataError(readIdxFile(path))).toBe(plain.replace(/^f\.idx/, path));
    }
  });

  it("says how to recover from a corrupt gzip stream", async () => {
    const path = join(dir, "cut.gz");
    const gz = gzipSync(idx([2, 3], [1, 2, 3, 4, 5, 6]));
    await writeFile(path, gz.subarray(0, gz.length - 6));
    expect(await dataError(readIdxFile(path))).toMatch(new RegExp(`^${path}: gzip data is corrupt or truncated \\(.+\\); download the file again\\.$`));
    expect((await failure(readIdxFile(path))).cause).toBeInstanceOf(Error);
  });
});

describe("loadMnist", () => {
  it("refuses a directory that is not a non-empty string", async () => {
    for (const [value, shown] of [["", '""'], [5, "5"]] as const) {
      const error = await failure(loadMnist(value as never));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe(`dir must be a non-empty string (or omitted for the bundled copy), got ${shown}`);
    }
  });

  it("names the missing file, every spelling tried and the directory", async () => {
    const empty = join(dir, "empty-mnist");
    await mkdir(empty);
    expect(await dataError(loadMnist(empty))).toMatch(
      new RegExp(`^MNIST file (train|t10k)-(images|labels)-idx\\d-ubyte not found in ${empty} \\(tried .*\\); download the MNIST files into that directory \\(the two t10k files are enough for testing only\\)\\.$`),
    );
    await writeFile(join(empty, "train-images-idx3-ubyte"), idx([1, 2, 2]));
    await writeFile(join(empty, "t10k-images-idx3-ubyte"), idx([1, 2, 2]));
    await writeFile(join(empty, "t10k-labels-idx1-ubyte"), idx([1]));
    expect(await dataError(loadMnist(empty))).toBe(
      `MNIST file train-labels-idx1-ubyte not found in ${empty} (tried train-labels-idx1-ubyte, train-labels-idx1-ubyte.gz, train-labels.idx1-ubyte, train-labels.idx1-ubyte.gz); download the MNIST files into that directory (the two t10k files are enough for testing only).`,
    );
    // A directory where a file should be is not that file.
    await mkdir(join(empty, "train-labels-idx1-ubyte"));
    expect(await dataError(loadMnist(empty))).toMatch(/^MNIST file train-labels-idx1-ubyte not found/);
  });

  it("explains files of the wrong kind, count or labels", async () => {
    const folder = join(dir, "mixed-mnist");
    await mkdir(folder);
    const write = (name: string, bytes: Buffer) => writeFile(join(folder, name), bytes);
    await write("t10k-images-idx3-ubyte", idx([2, 2, 2]));
    await write("t10k-labels-idx1-ubyte", idx([2], [0, 9]));
    await write("train-images-idx3-ubyte", idx([3, 2, 2]));
    await write("train-labels-idx1-ubyte", idx([3, 1], [1, 2, 3]));
    const images = join(folder, "train-images-idx3-ubyte"), labels = join(folder, "train-labels-idx1-ubyte");
    expect(await dataError(loadMnist(folder))).toBe(`${labels}: labels must have shape [count] but the file has shape [3, 1]; is this an images file?`);
    await write("train-labels-idx1-ubyte", idx([2], [1, 2]));
    expect(await dataError(loadMnist(folder))).toBe(`${labels} has 2 labels but ${images} has 3 images; the two files must come from the same MNIST split.`);
    await write("train-labels-idx1-ubyte", idx([3], [1, 2, 10]));
    expect(await dataError(loadMnist(folder))).toBe(`${labels}: label 10 at index 2 is outside 0..9; the file is corrupt or is not MNIST.`);
    await write("train-labels-idx1-ubyte", idx([3], [1, 2, 9]));
    await write("train-images-idx3-ubyte", idx([3, 4]));
    expect(await dataError(loadMnist(folder))).toBe(
      `${images}: images must have shape [count, rows, cols] but the file has shape [3, 4]; is this a labels file?`,
    );
    // Fixed, it loads: 2x2 images, labels 0..9 allowed.
    await write("train-images-idx3-ubyte", idx([3, 2, 2]));
    const { train, test } = await loadMnist(folder);
    expect([train.count, train.features, Array.from(train.labels)]).toEqual([3, 4, [1, 2, 9]]);
    expect(Array.from(test.labels)).toEqual([0, 9]);
  });
});

describe("loadCifar10", () => {
  const RECORD = 3073;
  it("refuses a directory that is not a non-empty string", async () => {
    for (const [value, shown] of [["", '""'], [5, "5"]] as const) {
      const error = await failure(loadCifar10(value as never));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe(`dir must be a non-empty string, got ${shown}`);
    }
  });

  it("says where to get a missing file", async () => {
    const folder = join(dir, "empty-cifar");
    await mkdir(folder);
    expect(((await failure(loadCifar10(folder))).cause as NodeJS.ErrnoException).code).toBe("ENOENT");
    expect(await dataError(loadCifar10(folder))).toMatch(
      new RegExp(`^CIFAR-10 file (data_batch_\\d|test_batch)\\.bin not found in ${folder}; download cifar-10-binary\\.tar\\.gz \\(the binary version\\) from https://www\\.cs\\.toronto\\.edu/~kriz/cifar\\.html and extract it there\\.$`),
    );
  });

  it("names a batch file it cannot read", async () => {
    const folder = join(dir, "cifar-unreadable");
    await mkdir(join(folder, "data_batch_1.bin"), { recursive: true });
    for (const name of ["data_batch_2", "data_batch_3", "data_batch_4", "data_batch_5", "test_batch"])
      await writeFile(join(folder, `${name}.bin`), new Uint8Array(RECORD));
    const path = join(folder, "data_batch_1.bin");
    const error = await failure(loadCifar10(folder));
    expect(error).toBeInstanceOf(DataFormatError);
    expect(error.message).toMatch(new RegExp(`^${path}: cannot read the file \\(EISDIR: .*\\)$`));
    expect((error.cause as NodeJS.ErrnoException).code).toBe("EISDIR");
  });

  it("explains a batch of the wrong length or with a bad label", () => {
    const fail = (bytes: Uint8Array) => {
      try {
        parseCifar10Batch(bytes, "b.bin");
      } catch (e) {
        expect(e).toBeInstanceOf(DataFormatError);
        return (e as Error).message;
      }
      throw new Error("parsed");
    };
    const length = (n: number) =>
      `b.bin: ${n} bytes is not a positive multiple of the 3073-byte CIFAR-10 record (1 label byte + 3072 pixel bytes); the file is truncated or is not a CIFAR-10 binary batch (the Python and CIFAR-100 versions differ).`;
    expect(fail(new Uint8Array(0))).toBe(length(0));
    expect(fail(new Uint8Array(RECORD + 1))).toBe(length(RECORD + 1));
    const bad = new Uint8Array(2 * RECORD);
    bad[RECORD] = 10;
    expect(fail(bad)).toBe("b.bin: record 1 has label 10, outside 0..9; the file is corrupt or is not CIFAR-10.");
    bad[RECORD] = 9;
    bad[RECORD + 1] = 255;
    const parsed = parseCifar10Batch(bad, "b.bin");
    expect([parsed.count, Array.from(parsed.labels), parsed.inputs[3072], parsed.inputs[3073]]).toEqual([2, [0, 9], 1, 0]);
  });
});

describe("entry", () => {
  it("is undefined only for what is not there; other failures surface", async () => {
    expect(await entry(join(dir, "nothing"))).toBeUndefined();
    const file = join(dir, "plain-file");
    await writeFile(file, "x");
    expect(await entry(join(file, "below"))).toBeUndefined(); // ENOTDIR
    expect((await entry(file))?.isFile()).toBe(true);
    const loop = join(dir, "loop");
    await symlink(loop, loop);
    expect((await failure(entry(loop)) as NodeJS.ErrnoException).code).toBe("ELOOP");
  });
});
