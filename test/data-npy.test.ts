import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadDataFile } from "../lib/data/data-file.js";
import { DataFormatError } from "../lib/data/idx.js";
import { loadNpy, npyToFloat32, npyToLabels, parseNpy } from "../lib/data/npy.js";
import { pythonImports } from "./helpers/python.js";

interface NpyFile {
  descr: string;
  shape: number[];
  payload: Uint8Array;
  fortran?: boolean;
  version?: 1 | 2 | 3;
  header?: string; // replaces the dict literal
}

/** Encodes a .npy file by hand: magic, version, header length, the dict padded to 64 bytes, then the payload. */
function npy({ descr, shape, payload, fortran = false, version = 1, header }: NpyFile): Buffer {
  const tuple = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let dict = header ?? `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${tuple}, }`;
  const lengthBytes = version === 1 ? 2 : 4;
  while ((8 + lengthBytes + Buffer.byteLength(dict) + 1) % 64 !== 0) dict += " ";
  const text = Buffer.from(dict + "\n", version === 3 ? "utf8" : "latin1");
  const prefix = Buffer.alloc(8 + lengthBytes);
  prefix.set([0x93, ...Buffer.from("NUMPY"), version, 0]);
  if (version === 1) prefix.writeUInt16LE(text.length, 8);
  else prefix.writeUInt32LE(text.length, 8);
  return Buffer.concat([prefix, text, payload]);
}

type Writer = (view: DataView, offset: number, value: number, littleEndian: boolean) => void;
const writers: Record<string, [number, Writer]> = {
  f4: [4, (v, o, x, le) => v.setFloat32(o, x, le)],
  f8: [8, (v, o, x, le) => v.setFloat64(o, x, le)],
  i1: [1, (v, o, x) => v.setInt8(o, x)],
  u1: [1, (v, o, x) => v.setUint8(o, x)],
  i2: [2, (v, o, x, le) => v.setInt16(o, x, le)],
  u2: [2, (v, o, x, le) => v.setUint16(o, x, le)],
  i4: [4, (v, o, x, le) => v.setInt32(o, x, le)],
  u4: [4, (v, o, x, le) => v.setUint32(o, x, le)],
  i8: [8, (v, o, x, le) => v.setBigInt64(o, BigInt(x), le)],
  u8: [8, (v, o, x, le) => v.setBigUint64(o, BigInt(x), le)],
};

/** The bytes of `values` as the dtype `descr` (e.g. "<f4", ">i2", "|u1"). */
function encode(descr: string, values: number[]): Uint8Array {
  const [size, write] = writers[descr.slice(1)];
  const bytes = new Uint8Array(size * values.length);
  const view = new DataView(bytes.buffer);
  values.forEach((x, i) => write(view, i * size, x, descr[0] !== ">"));
  return bytes;
}

function parseError(bytes: Uint8Array, message: RegExp): void {
  let caught: unknown;
  try {
    parseNpy(bytes, "bad.npy");
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(DataFormatError);
  expect((caught as Error).message).toMatch(/^bad\.npy: /);
  expect((caught as Error).message).toMatch(message);
}

const f4 = (values: number[], shape: number[]) => npy({ descr: "<f4", shape, payload: encode("<f4", values) });
const i8 = (values: number[], shape = [values.length]) => npy({ descr: "<i8", shape, payload: encode("<i8", values) });

describe("parseNpy", () => {
  it("reads every supported dtype in both byte orders", () => {
    const values = [0, 1, 2, 100, 127, 3];
    for (const type of Object.keys(writers)) {
      for (const order of type.endsWith("1") ? ["|"] : ["<", ">"]) {
        const descr = order + type;
        const array = parseNpy(npy({ descr, shape: [3, 2], payload: encode(descr, values) }), "v.npy");
        expect(array.shape).toEqual([3, 2]);
        expect(Array.from(npyToFloat32(array, "v.npy")), descr).toEqual(values);
        expect(Array.from(npyToLabels(array, "v.npy")), descr).toEqual(values);
      }
    }
  });

  it("reads float16, including a subnormal and the largest finite value", () => {
    const bits = [0x3c00, 0xc000, 0x3555, 0x0001, 0x7bff, 0x0000];
    const payload = new Uint8Array(Uint16Array.from(bits).buffer);
    const array = parseNpy(npy({ descr: "<f2", shape: [6], payload }), "h.npy");
    expect(Array.from(npyToFloat32(array, "h.npy"))).toEqual([1, -2, 0.333251953125, 2 ** -24, 65504, 0]);
  });

  it("keeps float32 values bit for bit and reads negative values and int64 labels", () => {
    const values = [0.1, -1e-30, 3.4e38, -7].map(Math.fround);
    expect(Array.from(npyToFloat32(parseNpy(f4(values, [4]), "x.npy"), "x.npy"))).toEqual(values);
    const huge = npy({ descr: "<f8", shape: [2, 2], payload: encode("<f8", [1, 2, 3, 1e39]) });
    expect(() => npyToFloat32(parseNpy(huge, "x.npy"), "x.npy")).toThrow(/x\.npy: sample 1, feature 1 is 1e\+39 \(beyond float32\); inputs must be finite/);
    expect(Array.from(npyToFloat32(parseNpy(i8([-5, 2 ** 40], [2]), "x.npy"), "x.npy"))).toEqual([-5, 2 ** 40]);
  });

  it("reads format versions 2.0 and 3.0 (a UTF-8 header)", () => {
    for (const version of [2, 3] as const) {
      const array = parseNpy(npy({ descr: "<f8", shape: [2], payload: encode("<f8", [1.5, -2]), version }), "v.npy");
      expect(Array.from(npyToFloat32(array, "v.npy"))).toEqual([1.5, -2]);
    }
    const header = "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), 'note': 'données'}";
    const array = parseNpy(npy({ descr: "", shape: [], payload: encode("<u2", [7, 9]), version: 3, header }), "u.npy");
    expect(Array.from(npyToLabels(array, "u.npy"))).toEqual([7, 9]);
  });

  it("reorders Fortran-order (column-major) arrays into row-major order", () => {
    // The 2 x 3 matrix [[1, 2, 3], [4, 5, 6]] stored column by column.
    const matrix = parseNpy(npy({ descr: "<f4", shape: [2, 3], fortran: true, payload: encode("<f4", [1, 4, 2, 5, 3, 6]) }), "f.npy");
    expect(Array.from(npyToFloat32(matrix, "f.npy"))).toEqual([1, 2, 3, 4, 5, 6]);
    // A 2 x 3 x 4 array whose value is its row-major index: column-major storage puts index (i, j, k) at i + 2j + 6k.
    const stored = new Array<number>(24);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 4; k++) stored[i + 2 * j + 6 * k] = 12 * i + 4 * j + k;
    const cube = parseNpy(npy({ descr: "<i2", shape: [2, 3, 4], fortran: true, payload: encode("<i2", stored) }), "c.npy");
    expect(Array.from(npyToFloat32(cube, "c.npy"))).toEqual(Array.from({ length: 24 }, (_, i) => i));
  });

  it("reads old headers with Python 2 long integers", () => {
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1L, 2L), }";
    expect(parseNpy(npy({ descr: "", shape: [], payload: encode("<f4", [1, 2]), header }), "old.npy").shape).toEqual([1, 2]);
  });

  it("rejects malformed files, naming the file and what is wrong", () => {
    const good = f4([1, 2, 3, 4], [2, 2]);
    parseError(good.subarray(0, 6), /only 6 bytes long/);
    parseError(Buffer.from("PK\x03\x04 not really a zip"), /zip archive \(\.npz\?\)/);
    const wrongMagic = Buffer.from(good);
    wrongMagic[1] = 0x4f;
    parseError(wrongMagic, /does not start with "\\x93NUMPY"/);
    const version4 = Buffer.from(good);
    version4[6] = 4;
    parseError(version4, /version 4\.0 is not supported/);
    parseError(good.subarray(0, 40), /header truncated/);
    parseError(good.subarray(0, good.length - 1), /declares 16 data bytes but 15 follow the header; the file is truncated/);
    parseError(Buffer.concat([good, Buffer.of(0)]), /but 17 follow the header; the file has trailing bytes/);
    parseError(npy({ descr: "<c8", shape: [1], payload: new Uint8Array(8) }), /dtype '<c8' is not supported; save the array as one of float16\/32\/64/);
    parseError(npy({ descr: "<U3", shape: [1], payload: new Uint8Array(12) }), /dtype '<U3' \(strings\) is not supported/);
    parseError(npy({ descr: "|O", shape: [1], payload: new Uint8Array(8) }), /dtype '\|O' \(Python objects, stored with pickle\)/);
    const structured = "{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (1,), }";
    parseError(npy({ descr: "", shape: [], payload: new Uint8Array(8), header: structured }), /structured \(record\) dtype/);
    parseError(npy({ descr: "", shape: [], payload: new Uint8Array(4), header: "{'descr': '<f4', 'fortran_order': False}" }), /no 'shape' entry/);
    parseError(npy({ descr: "", shape: [], payload: new Uint8Array(4), header: "{'descr': '<f4', 'shape': (1,) 'fortran_order': False}" }), /not a valid Python dict literal \(expected ',' or '}' at character 32\)/);
    parseError(npy({ descr: "", shape: [], payload: new Uint8Array(4), header: "['<f4']" }), /is not a dict/);
    parseError(npy({ descr: "", shape: [], payload: new Uint8Array(4), header: "{'descr': '<f4', 'fortran_order': 1, 'shape': (1,)}" }), /'fortran_order' must be True or False, got 1/);
    parseError(npy({ descr: "", shape: [], payload: new Uint8Array(4), header: "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}" }), /'shape' must be a tuple of sizes/);
  });
});

describe("loadNpy and loadDataFile with .npy files", () => {
  let dir: string;
  const path = (name: string) => join(dir, name);
  // 12 samples of 2 x 3 uint8 "images"; sample n holds n * 10 + feature index, its label is n % 4.
  const images = Array.from({ length: 12 * 6 }, (_, i) => Math.floor(i / 6) * 10 + (i % 6));
  const labels = Array.from({ length: 12 }, (_, n) => n % 4);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deepr-npy-"));
    await writeFile(path("x.npy"), npy({ descr: "|u1", shape: [12, 2, 3], payload: encode("|u1", images) }));
    await writeFile(path("y.npy"), i8(labels));
    await writeFile(path("y-column.npy"), i8(labels, [12, 1]));
    await writeFile(path("y-float.npy"), npy({ descr: "<f8", shape: [12], payload: encode("<f8", labels) }));
    await writeFile(path("y-short.npy"), i8(labels.slice(1)));
    await writeFile(path("y-onehot.npy"), i8(new Array(24).fill(0), [12, 2]));
    await writeFile(path("y-half.npy"), npy({ descr: "<f8", shape: [2], payload: encode("<f8", [1, 1.5]) }));
    await writeFile(path("y-negative.npy"), i8([1, -1]));
    await writeFile(path("y-zeros.npy"), i8([0, 0]));
    await writeFile(path("x-nan.npy"), f4([1, 2, 3, NaN], [2, 2]));
    await writeFile(path("x-scalar.npy"), npy({ descr: "<f4", shape: [], payload: encode("<f4", [1]) }));
    await writeFile(path("x-empty.npy"), npy({ descr: "<f4", shape: [0, 3], payload: new Uint8Array(0) }));
    await writeFile(path("x-flat.npy"), f4([0.5, 1.5], [2]));
    await writeFile(path("data.bin"), "");
    for (const [name, files] of [
      ["split", ["x_train", "y_train", "x_test", "y_test"]],
      ["train-only", ["x_train", "y_train"]],
      ["half-test", ["x_train", "y_train", "x_test"]],
      ["mismatch", ["x_train", "y_train", "y_test"]],
    ] as const) {
      await mkdir(path(name));
      for (const file of files) {
        const source = file.startsWith("x") ? "x.npy" : "y.npy";
        await writeFile(join(dir, name, `${file}.npy`), file === "y_test" ? i8(labels.map((_, n) => n % 5)) : await readFile(path(source)));
      }
    }
    await writeFile(join(dir, "mismatch", "x_test.npy"), f4(new Array(36).fill(0.5), [12, 3]));
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads an inputs file and its labels file, with the sample shape from the file", async () => {
    const data = await loadNpy(path("x.npy"), path("y.npy"));
    expect(data).toMatchObject({ count: 12, features: 6, classes: 4, shape: [2, 3] });
    expect(Array.from(data.inputs)).toEqual(images);
    expect(Array.from(data.labels)).toEqual(labels);
    expect((await loadNpy(path("x.npy"), path("y-column.npy"), { classes: 9 })).classes).toBe(9);
    expect(Array.from((await loadNpy(path("x.npy"), path("y-float.npy"))).labels)).toEqual(labels);
    expect(await loadNpy(path("x-flat.npy"), path("y-negative.npy")).catch((e: Error) => e.message)).toMatch(/y-negative\.npy: label -1 at index 1 is not a class index/);
    expect((await loadNpy(path("x-flat.npy"), path("y-column.npy").replace("y-column", "y-zeros"), { classes: 2 })).shape).toEqual([1]);
  });

  it.each([
    ["x.npy", "y-short.npy", /y-short\.npy has 11 labels but .*x\.npy has 12 samples/],
    ["x.npy", "y-onehot.npy", /y-onehot\.npy: shape \(12, 2\) looks one-hot; .*y\.argmax\(axis=1\)/],
    ["x-flat.npy", "y-half.npy", /y-half\.npy: label 1\.5 at index 1 is not a class index/],
    ["x-flat.npy", "y-zeros.npy", /y-zeros\.npy: every label is 0/],
    ["x-nan.npy", "y-negative.npy", /y-negative\.npy: label -1/],
    ["x-nan.npy", "y-half.npy", /y-half\.npy: label 1\.5/],
    ["x-nan.npy", "y-column.npy", /y-column\.npy has 12 labels but .*x-nan\.npy has 2 samples/],
    ["x-scalar.npy", "y.npy", /x-scalar\.npy: holds a single value/],
    ["x-empty.npy", "y.npy", /x-empty\.npy: shape \(0, 3\) holds no values/],
    ["missing.npy", "y.npy", /missing\.npy: cannot read the file \(ENOENT/],
  ])("rejects %s with %s", async (x, y, message) => {
    const error = await loadNpy(path(x), path(y)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toMatch(message);
  });

  it("names the sample and feature of a non-finite input", async () => {
    await writeFile(path("y2.npy"), i8([0, 1]));
    await expect(loadNpy(path("x-nan.npy"), path("y2.npy"))).rejects.toThrow(/x-nan\.npy: sample 1, feature 1 is NaN; inputs must be finite/);
  });

  it("loadDataFile splits an inputs file with options.labels by seed, then normalises with the training statistics", async () => {
    const { train, test } = await loadDataFile(path("x.npy"), { labels: path("y.npy"), testFraction: 0.25, seed: 5, normalize: [0, 255] });
    expect([train.count, test.count]).toEqual([9, 3]);
    expect(train.shape).toEqual([2, 3]);
    const again = await loadDataFile(path("x.npy"), { labels: path("y.npy"), testFraction: 0.25, seed: 5 });
    expect(Array.from(test.inputs)).toEqual(Array.from(again.test.inputs, (x) => Math.fround(x / 255)));
    // Every sample is in exactly one part.
    const firsts = [...Array.from({ length: 9 }, (_, n) => again.train.inputs[n * 6]), ...Array.from({ length: 3 }, (_, n) => again.test.inputs[n * 6])];
    expect(firsts.sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, n) => n * 10));
  });

  it("loadDataFile reads a directory's train and test files, sharing the class count", async () => {
    const { train, test } = await loadDataFile(path("split"));
    expect([train.count, test.count, train.classes, test.classes]).toEqual([12, 12, 5, 5]); // y_test holds label 4
    expect(Array.from(test.labels)).toEqual(labels.map((_, n) => n % 5));
    const trainOnly = await loadDataFile(path("train-only"), { testFraction: 0.5 });
    expect([trainOnly.train.count, trainOnly.test.count, trainOnly.test.classes]).toEqual([6, 6, 4]);
  });

  it("loadDataFile rejects what it cannot use, saying what to give", async () => {
    await expect(loadDataFile(path("x.npy"))).rejects.toThrow(/x\.npy holds inputs only: give the \.npy file of its labels as options\.labels/);
    await expect(loadDataFile(path("half-test"))).rejects.toThrow(/has x_test\.npy but not y_test\.npy; give both test files or neither/);
    await expect(loadDataFile(path("mismatch"))).rejects.toThrow(/x_test\.npy: samples have shape \(3,\) but those of .*x_train\.npy have \(2, 3\); both must match/);
    await expect(loadDataFile(path("split"), { seed: 3 })).rejects.toThrow(/has its own test files, so options\.testFraction and options\.seed do not apply/);
    await expect(loadDataFile(dir)).rejects.toThrow(/has no x_train\.npy; a data directory holds x_train\.npy and y_train\.npy/);
    await expect(loadDataFile(path("data.bin"))).rejects.toThrow(/data\.bin: cannot tell the format from the name; give a \.csv or \.tsv file, a \.npy inputs file/);
    await expect(loadDataFile(path("nothing.csv"))).rejects.toThrow(/nothing\.csv: no such file or directory/);
    await expect(loadDataFile(path("split"), { labelColumn: 2 })).rejects.toThrow(/options\.labelColumn applies to CSV files only/);
    await expect(loadDataFile(path("x.npy"), { labels: path("y.npy"), classes: 3 })).rejects.toThrow(/y\.npy: label 3 at index 3 is not below classes \(3\)/);
    await expect(loadDataFile(path("x.npy"), { labels: path("y.npy"), shuffle: true } as never)).rejects.toThrow(/options\.shuffle is not an option of loadDataFile/);
  });
});

describe("files written by NumPy", () => {
  const hasNumpy = pythonImports("numpy");
  if (!hasNumpy) console.log("skipping the NumPy cross-check: python3 with numpy is not available here");

  it.runIf(hasNumpy)("reads what np.save writes: dtypes, byte orders, Fortran order, version 2.0", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-numpy-"));
    try {
      // Each file holds arange(24).reshape(4, 2, 3) / 4 (exact in float16) in another dtype or layout.
      const script = `
import numpy as np, sys
d = sys.argv[1]
a = np.arange(24).reshape(4, 2, 3) / 4
np.save(d + '/f4.npy', a.astype('<f4'))
np.save(d + '/f8be.npy', a.astype('>f8'))
np.save(d + '/f2.npy', a.astype('<f2'))
np.save(d + '/u1.npy', (a * 4).astype(np.uint8))
np.save(d + '/fortran.npy', np.asfortranarray(a.astype('<f4')))
np.lib.format.write_array(open(d + '/v2.npy', 'wb'), a.astype('<f4'), version=(2, 0))
np.save(d + '/y.npy', np.array([0, 2, 1, 2], dtype=np.int64))
`;
      execFileSync("python3", ["-c", script, dir]);
      const expected = Array.from({ length: 24 }, (_, i) => i / 4);
      for (const name of ["f4", "f8be", "f2", "fortran", "v2"]) {
        const data = await loadNpy(join(dir, `${name}.npy`), join(dir, "y.npy"));
        expect(data.shape, name).toEqual([2, 3]);
        expect(Array.from(data.inputs), name).toEqual(expected);
        expect(Array.from(data.labels)).toEqual([0, 2, 1, 2]);
      }
      expect(Array.from((await loadNpy(join(dir, "u1.npy"), join(dir, "y.npy"))).inputs)).toEqual(expected.map((x) => x * 4));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("mutated .npy files", () => {
  it("load or fail with a DataFormatError, never another error (4000 seeded mutations)", () => {
    let state = 20261127;
    const random = (n: number) => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) % n;
    };
    const seeds = [
      npy({ descr: "<f4", shape: [3, 2, 2], payload: encode("<f4", Array.from({ length: 12 }, (_, i) => i / 3)) }),
      npy({ descr: ">i8", shape: [4], payload: encode(">i8", [0, 3, 1, 2]), fortran: true }),
      npy({ descr: "<f2", shape: [2, 3], payload: new Uint8Array(12).fill(0x3c), version: 2 }),
    ];
    let loaded = 0;
    for (let n = 0; n < 4000; n++) {
      const bytes = Buffer.from(seeds[n % seeds.length]);
      let file = bytes;
      for (let edits = 1 + random(3); edits > 0; edits--) {
        const kind = random(4);
        // Most edits land in the 64-byte header, where the parser's decisions are made.
        const at = random(4) === 0 ? random(file.length) : random(Math.min(64, file.length));
        if (kind === 0) file[at] = random(256);
        else if (kind === 1) file[at] = "0123456789(),:'{} TFLf<>|iu"[random(27)].charCodeAt(0);
        else if (kind === 2) file = file.subarray(0, at);
        else file = Buffer.concat([file.subarray(0, at), Buffer.from([random(256)]), file.subarray(at)]);
      }
      try {
        const array = parseNpy(file, "fuzz.npy");
        npyToFloat32(array, "fuzz.npy");
        loaded++;
      } catch (error) {
        if (!(error instanceof DataFormatError)) throw new Error(`case ${n} (${file.toString("latin1")}) threw ${String(error)}`);
        expect((error as Error).message).toMatch(/^fuzz\.npy: /);
      }
    }
    expect(loaded).toBeGreaterThan(20); // the mutations leave some files valid, so both paths are exercised
  });
});
