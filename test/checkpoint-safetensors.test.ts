import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  writeSafetensorsAtomic,
  type Tensor,
} from "../lib/checkpoint/safetensors.js";

const bytesOf = (t: Tensor) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
const encode = (tensors: Record<string, Tensor>, metadata: Record<string, string> = {}) =>
  Buffer.concat(encodeSafetensors(tensors, metadata));

/** A safetensors file assembled from a raw header (object or text), data bytes and an optional length field. */
function raw(header: unknown, data: ArrayLike<number> = [], headerLength?: bigint): Buffer {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(headerLength ?? BigInt(json.length));
  return Buffer.concat([prefix, json, Buffer.from(data)]);
}

/** Decodes bytes that must be rejected, and returns the CheckpointError (any other exception fails the test). */
function rejection(bytes: Uint8Array): CheckpointError {
  try {
    decodeSafetensors(bytes, "bad.safetensors");
  } catch (err) {
    expect(err).toBeInstanceOf(CheckpointError);
    expect((err as CheckpointError).code).toBe("DEEPR_BAD_CHECKPOINT");
    expect((err as Error).message).toContain("bad.safetensors");
    return err as CheckpointError;
  }
  throw new Error("decoding unexpectedly succeeded");
}

function sample(): Record<string, Tensor> {
  const nan = new Float32Array(new Uint32Array([0x7fc12345]).buffer)[0]; // NaN with a payload
  return {
    "layer0.weight": { dtype: "F32", shape: [2, 3], data: new Float32Array([1.5, -0, Infinity, nan, 1e-45, -3.25]) },
    "layer0.indices": { dtype: "I32", shape: [3], data: new Int32Array([0, -1, 2 ** 31 - 1]) },
    "layer0.empty": { dtype: "F32", shape: [0], data: new Float32Array(0) },
    "step": { dtype: "I64", shape: [], data: new BigInt64Array([-(2n ** 63n)]) },
    "lr": { dtype: "F64", shape: [], data: new Float64Array([Math.PI]) },
    "signs": { dtype: "I8", shape: [1, 3], data: new Int8Array([-128, 0, 127]) },
    "mask": { dtype: "U8", shape: [5], data: new Uint8Array([0, 1, 255, 3, 4]) },
    "wide": { dtype: "I64", shape: [2, 0, 4], data: new BigInt64Array(0) },
    "f64s": { dtype: "F64", shape: [3], data: new Float64Array([-1e308, 5e-324, Number.NaN]) },
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-safetensors-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("round trip", () => {
  it("preserves every dtype, shape, metadata and bit pattern, with an 8-byte aligned data section", async () => {
    const tensors = sample();
    const metadata = { format: "deepr", note: "ünïcode ✓", empty: "" };
    const path = join(dir, "model.safetensors");
    await writeSafetensorsAtomic(path, new Map(Object.entries(tensors)), metadata);

    const file = await readFile(path);
    expect((8 + Number(file.readBigUInt64LE(0))) % 8).toBe(0);

    const back = await readSafetensors(path);
    expect(back.metadata).toEqual(metadata);
    expect([...back.tensors.keys()]).toEqual(Object.keys(tensors));
    for (const [name, t] of Object.entries(tensors)) {
      const got = back.tensors.get(name)!;
      expect(got.dtype).toBe(t.dtype);
      expect(got.shape).toEqual(t.shape);
      expect(got.data.constructor).toBe(t.data.constructor);
      expect(bytesOf(got)).toEqual(bytesOf(t));
    }
    // The decoded tensors can be written again unchanged (the checksum key is not handed back).
    expect(encode(Object.fromEntries(back.tensors), back.metadata)).toEqual(file);
  });

  it("accepts views into larger buffers and returns aligned copies from unaligned input", () => {
    const backing = new Float64Array([9, 1.25, 2.5, 9]);
    const tensors: Record<string, Tensor> = {
      a: { dtype: "U8", shape: [3], data: new Uint8Array([7, 8, 9]) }, // leaves the next tensor at data offset 3
      b: { dtype: "F64", shape: [2], data: backing.subarray(1, 3) },
    };
    const file = encode(tensors);
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    const back = decodeSafetensors(shifted.subarray(1), "shifted");
    expect(Array.from(back.tensors.get("b")!.data as Float64Array)).toEqual([1.25, 2.5]);
    expect(back.tensors.get("b")!.data.byteOffset).toBe(0);
  });

  it("reads files without a checksum, unpadded and unaligned, as Python writes them", () => {
    const header = { w: { dtype: "F32", shape: [2], data_offsets: [0, 8] }, __metadata__: { format: "pt" } };
    const data = new Uint8Array(new Float32Array([0.5, -4]).buffer);
    const back = decodeSafetensors(raw(header, data), "python.safetensors");
    expect(back.metadata).toEqual({ format: "pt" });
    expect(Array.from(back.tensors.get("w")!.data as Float32Array)).toEqual([0.5, -4]);
    expect(decodeSafetensors(raw({}), "empty").tensors.size).toBe(0);
  });

  it("keeps tensor names that look like numbers or __proto__ in write order", () => {
    const one = (v: number): Tensor => ({ dtype: "U8", shape: [1], data: new Uint8Array([v]) });
    const names = ["z", "10", "__proto__", "2"];
    const back = decodeSafetensors(Buffer.concat(encodeSafetensors(new Map(names.map((n, i) => [n, one(i)])), {})), "names");
    expect([...back.tensors.keys()]).toEqual(names);
    expect(back.tensors.get("__proto__")!.data[0]).toBe(2);
  });
});

describe("byte layout", () => {
  it("matches a file assembled by hand", async () => {
    const path = join(dir, "small.safetensors");
    await writeSafetensorsAtomic(
      path,
      {
        a: { dtype: "F32", shape: [2], data: new Float32Array([1.5, -2]) },
        b: { dtype: "U8", shape: [3], data: new Uint8Array([1, 2, 3]) },
      },
      { k: "v" },
    );
    const written = await readFile(path);

    const headerLength = Number(written.readBigUInt64LE(0));
    const header = JSON.parse(written.subarray(8, 8 + headerLength).toString("utf8"));
    expect(header).toEqual({
      __metadata__: { k: "v", "deepr.crc32": "531d447c" }, // CRC-32 of the 11 data bytes below
      a: { dtype: "F32", shape: [2], data_offsets: [0, 8] },
      b: { dtype: "U8", shape: [3], data_offsets: [8, 11] },
    });

    const json =
      '{"__metadata__":{"k":"v","deepr.crc32":"531d447c"},' +
      '"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},' +
      '"b":{"dtype":"U8","shape":[3],"data_offsets":[8,11]}}';
    const padded = json + " ".repeat((8 - (json.length % 8)) % 8);
    const length = [padded.length & 0xff, padded.length >> 8, 0, 0, 0, 0, 0, 0];
    const data = [0x00, 0x00, 0xc0, 0x3f, 0x00, 0x00, 0x00, 0xc0, 1, 2, 3]; // 1.5f, -2f little-endian, then u8s
    const expected = Buffer.from([...length, ...Buffer.from(padded, "ascii"), ...data]);
    expect(written).toEqual(expected);
    expect(headerLength % 8).toBe(0);
  });
});

describe("corruption", () => {
  const valid = () => encode(sample(), { format: "deepr" });

  it("rejects every truncation of a valid file", () => {
    const file = valid();
    for (let length = 0; length < file.length; length++) rejection(file.subarray(0, length));
  });

  it("detects every single flipped byte in the data section", () => {
    const file = valid();
    const dataStart = 8 + Number(file.readBigUInt64LE(0));
    expect(file.length).toBeGreaterThan(dataStart);
    for (let i = dataStart; i < file.length; i++) {
      const copy = Buffer.from(file);
      copy[i] ^= 0xff;
      expect(rejection(copy).message).toMatch(/checksum mismatch.*corrupted/);
    }
  });

  it("rejects a tampered checksum", () => {
    const header = { __metadata__: { "deepr.crc32": "00000000" }, a: { dtype: "U8", shape: [1], data_offsets: [0, 1] } };
    expect(rejection(raw(header, [5])).message).toMatch(/checksum mismatch/);
  });

  it("rejects impossible lengths without allocating them", () => {
    expect(rejection(raw("{}", [], 2n ** 53n)).message).toMatch(/header length/);
    expect(rejection(raw("{}", [], 2n ** 64n - 1n)).message).toMatch(/header length/);
    expect(rejection(raw("{}", [], 200n * 1024n * 1024n)).message).toMatch(/limit/);
    expect(rejection(raw("{}", [], 0n)).message).toMatch(/header length is 0/);
    expect(rejection(raw("{}", [], 3n)).message).toMatch(/past the end/);
    const huge = { w: { dtype: "F32", shape: [2 ** 31, 2 ** 31], data_offsets: [0, 4] } };
    expect(rejection(raw(huge, [0, 0, 0, 0])).message).toMatch(/does not match/);
    const overflow = { w: { dtype: "F32", shape: Array(30).fill(2 ** 52), data_offsets: [0, 0] } };
    expect(rejection(raw(overflow)).message).toMatch(/does not match/);
  });

  it("rejects bad tensor entries", () => {
    const cases: [unknown, number, RegExp][] = [
      [{ a: { dtype: "BF16", shape: [1], data_offsets: [0, 2] } }, 2, /unknown dtype/],
      [{ a: { dtype: "toString", shape: [1], data_offsets: [0, 1] } }, 1, /unknown dtype/],
      [{ a: { shape: [1], data_offsets: [0, 1] } }, 1, /unknown dtype/],
      [{ a: { dtype: "U8", shape: [-1], data_offsets: [0, 1] } }, 1, /shape/],
      [{ a: { dtype: "U8", shape: [1.5], data_offsets: [0, 1] } }, 1, /shape/],
      [{ a: { dtype: "U8", shape: "1", data_offsets: [0, 1] } }, 1, /shape/],
      [{ a: { dtype: "U8", shape: [2 ** 53], data_offsets: [0, 1] } }, 1, /shape/],
      [{ a: { dtype: "U8", shape: [1], data_offsets: [1, 0] } }, 1, /data_offsets/],
      [{ a: { dtype: "U8", shape: [1], data_offsets: [0] } }, 1, /data_offsets/],
      [{ a: { dtype: "U8", shape: [1], data_offsets: [0, "1"] } }, 1, /data_offsets/],
      [{ a: { dtype: "U8", shape: [1], data_offsets: [0, 2] } }, 1, /beyond/],
      [{ a: { dtype: "F32", shape: [1], data_offsets: [0, 3] } }, 3, /does not match/],
      [{ a: [1, 2] }, 0, /not an object/],
      [{ a: { dtype: "U8", shape: [2], data_offsets: [0, 2] }, b: { dtype: "U8", shape: [2], data_offsets: [1, 3] } }, 3, /overlaps/],
      [{ a: { dtype: "U8", shape: [1], data_offsets: [0, 1] }, b: { dtype: "U8", shape: [1], data_offsets: [0, 1] } }, 1, /overlaps/],
      [{ a: { dtype: "U8", shape: [1], data_offsets: [0, 1] }, b: { dtype: "U8", shape: [1], data_offsets: [2, 3] } }, 3, /unused bytes/],
      [{ a: { dtype: "U8", shape: [1], data_offsets: [1, 2] } }, 2, /unused bytes/],
      [{ a: { dtype: "U8", shape: [1], data_offsets: [0, 1] } }, 2, /unused bytes/],
    ];
    for (const [header, dataBytes, message] of cases) {
      expect(rejection(raw(header, new Uint8Array(dataBytes))).message).toMatch(message);
    }
  });

  it("rejects deeply nested header values with a CheckpointError, not a RangeError", () => {
    const deep = "[".repeat(1e5) + "]".repeat(1e5);
    for (const field of ["dtype", "shape", "data_offsets"]) {
      const entry = { dtype: '"U8"', shape: "[0]", data_offsets: "[0,0]", [field]: deep };
      const json = `{"a":{${Object.entries(entry).map(([k, v]) => `"${k}":${v}`).join(",")}}}`;
      expect(rejection(raw(json)).message).toMatch(new RegExp(field));
    }
  });

  it("keeps the checksum right across empty tensors", () => {
    // zlib.crc32 of an empty view on a zero-length ArrayBuffer resets the running value to 0.
    const tensors: Record<string, Tensor> = {
      a: { dtype: "U8", shape: [2], data: new Uint8Array([1, 2]) },
      e: { dtype: "F32", shape: [0], data: new Float32Array(0) },
      b: { dtype: "U8", shape: [1], data: new Uint8Array([3]) },
    };
    expect(decodeSafetensors(encode(tensors), "empty-middle").tensors.size).toBe(3);
  });

  it("rejects bad metadata", () => {
    for (const metadata of [{ n: 1 }, { nested: { a: "b" } }, "text", null, ["a"]]) {
      expect(rejection(raw({ __metadata__: metadata })).message).toMatch(/__metadata__/);
    }
  });

  it("rejects headers that are not JSON objects and files that are not safetensors", () => {
    expect(rejection(raw("{not json")).message).toMatch(/not valid UTF-8 JSON/);
    expect(rejection(raw("{} trailing")).message).toMatch(/not valid UTF-8 JSON/);
    expect(rejection(raw(Buffer.from([0x7b, 0xff, 0x7d]).toString("latin1"))).message).toMatch(/JSON/);
    const invalidUtf8 = raw("{}");
    invalidUtf8[9] = 0xc3; // a lead byte with no continuation, in place of "}"
    expect(rejection(invalidUtf8).message).toMatch(/UTF-8/);
    expect(rejection(raw("[]")).message).toMatch(/'\{'/);
    expect(rejection(raw("\ufeff{}")).message).toMatch(/'\{'/);
    expect(rejection(raw(" {}")).message).toMatch(/'\{'/);

    const png = Buffer.from("89504e470d0a1a0a0000000d4948445200000001000000010806000000", "hex");
    rejection(png);
    rejection(Buffer.from("hello, this is a text file and not a checkpoint\n"));
    rejection(Buffer.from('{"a": 1}'));
  });

  it("gives a clear error for a missing file", async () => {
    const path = join(dir, "missing.safetensors");
    await expect(readSafetensors(path)).rejects.toThrow(CheckpointError);
    await expect(readSafetensors(path)).rejects.toThrow(/no such checkpoint file.*missing\.safetensors/);
    await expect(readSafetensors(dir)).rejects.toThrow(CheckpointError);
  });
});

describe("encoder validation", () => {
  const f32 = (shape: number[], n: number): Tensor => ({ dtype: "F32", shape, data: new Float32Array(n) });
  it.each([
    ["dtype mismatch", { a: { dtype: "F32", shape: [1], data: new Float64Array(1) } }, {}, /Float32Array/],
    ["I64 needs BigInt64Array", { a: { dtype: "I64", shape: [1], data: new Int32Array(2) } }, {}, /BigInt64Array/],
    ["unknown dtype", { a: { dtype: "BF16", shape: [1], data: new Uint8Array(2) } }, {}, /dtype/],
    ["shape product", { a: f32([2, 2], 3) }, {}, /elements/],
    ["negative shape", { a: f32([-1], 0) }, {}, /shape/],
    ["fractional shape", { a: f32([0.5], 0) }, {}, /shape/],
    ["empty name", { "": f32([1], 1) }, {}, /name/],
    ["reserved name", { __metadata__: f32([1], 1) }, {}, /name/],
    ["non-string metadata", {}, { n: 1 }, /string/],
    ["reserved metadata key", {}, { "deepr.crc32": "00000000" }, /reserved/],
  ])("rejects %s", (_label, tensors, metadata, message) => {
    expect(() => encodeSafetensors(tensors as never, metadata as never)).toThrow(message);
  });
});

describe("atomic writes", () => {
  const tensorsA = { w: { dtype: "F32" as const, shape: [3], data: new Float32Array([1, 2, 3]) } };
  const tensorsB = { w: { dtype: "F32" as const, shape: [4], data: new Float32Array([4, 5, 6, 7]) } };

  it("replaces an existing file with the new content and leaves no temporary files", async () => {
    const path = join(dir, "ckpt.safetensors");
    await writeSafetensorsAtomic(path, tensorsA, { v: "1" });
    await writeSafetensorsAtomic(path, tensorsB, { v: "2" });
    const back = await readSafetensors(path);
    expect(back.metadata).toEqual({ v: "2" });
    expect(Array.from(back.tensors.get("w")!.data as Float32Array)).toEqual([4, 5, 6, 7]);
    expect(await readdir(dir)).toEqual(["ckpt.safetensors"]);
  });

  it("leaves the previous file byte-identical when a write fails", async () => {
    const path = join(dir, "ckpt.safetensors");
    await writeSafetensorsAtomic(path, tensorsA, { v: "1" });
    const before = await readFile(path);

    const invalid = { w: { dtype: "F32" as const, shape: [5], data: new Float32Array(4) } };
    const failure = writeSafetensorsAtomic(path, invalid, {});
    await expect(failure).rejects.toThrow(CheckpointError);
    await expect(failure).rejects.toThrow(/ckpt\.safetensors.*left intact/);
    expect(await readFile(path)).toEqual(before);
    expect(await readdir(dir)).toEqual(["ckpt.safetensors"]);

    await expect(writeSafetensorsAtomic(join(dir, "no-such-dir", "x.safetensors"), tensorsB, {})).rejects.toThrow(
      CheckpointError,
    );
    expect(await readdir(dir)).toEqual(["ckpt.safetensors"]);
  });

  it("removes the temporary file when the final rename fails", async () => {
    // Renaming a file over a non-empty directory fails after the temporary file has been fully written.
    const target = join(dir, "occupied");
    await mkdir(target);
    await writeFile(join(target, "keep.txt"), "keep");
    await expect(writeSafetensorsAtomic(target, tensorsA, {})).rejects.toThrow(/occupied.*left intact/);
    expect(await readdir(dir)).toEqual(["occupied"]);
    expect(await readFile(join(target, "keep.txt"), "utf8")).toBe("keep");
  });
});
