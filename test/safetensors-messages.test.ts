// The safetensors reader and writer at the edges the other suites leave: the exact limits
// (8 bytes, the 100 MiB header, 80 characters of a quoted value), what each error says and keeps
// as its cause, and the directory fsync errors that are not failures.
import { promises as fsp } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CheckpointError, decodeSafetensors, readSafetensors, writeSafetensorsAtomic } from "../lib/checkpoint/safetensors.js";

/** A safetensors file from a raw header (object or text), data bytes and an optional length field. */
function raw(header: unknown, data: ArrayLike<number> = [], headerLength?: bigint): Buffer {
  const json = Buffer.from(typeof header === "string" ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(headerLength ?? BigInt(json.length));
  return Buffer.concat([prefix, json, Buffer.from(data)]);
}

/** The whole message of the CheckpointError that decoding `bytes` gives. */
function rejection(bytes: Uint8Array): string {
  try {
    decodeSafetensors(bytes, "x.safetensors");
  } catch (e) {
    expect(e).toBeInstanceOf(CheckpointError);
    expect((e as Error).name).toBe("CheckpointError");
    return (e as Error).message;
  }
  throw new Error("decoded");
}

/** The error `promise` rejects with (it must reject). */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

const tensor = { w: { dtype: "F32" as const, shape: [1], data: new Float32Array([1]) } };
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-safetensors-messages-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(() => vi.restoreAllMocks());

describe("decodeSafetensors limits", () => {
  it("8 bytes is long enough to read a header length; 7 is not", () => {
    expect(rejection(new Uint8Array(7))).toBe("checkpoint x.safetensors: file is only 7 bytes, too short for a safetensors file");
    // Eight zero bytes: a header length of 0, which no safetensors file has.
    expect(rejection(new Uint8Array(8))).toBe("x.safetensors: not a deepr checkpoint (no safetensors header)");
  });

  it("a header of exactly the 100 MiB limit is allowed (and here runs past the end)", () => {
    expect(rejection(raw("{}", [], 100n * 1024n * 1024n))).toBe(
      "checkpoint x.safetensors: header length 104857600 runs past the end of the 10-byte file (truncated?)",
    );
    expect(rejection(raw("{}", [], 100n * 1024n * 1024n + 1n))).toBe(
      "checkpoint x.safetensors: header length 104857601 exceeds the 104857600-byte limit",
    );
  });

  it("quotes a bad value whole up to 80 characters, then cut with an ellipsis", () => {
    const dtype = (value: unknown) => rejection(raw({ a: { dtype: value, shape: [1], data_offsets: [0, 1] } }, [0]));
    const at80 = "x".repeat(78), at81 = "x".repeat(79);  // 80 and 81 characters once quoted
    expect(dtype(at80)).toBe(`checkpoint x.safetensors: tensor "a": unknown dtype "${at80}"`);
    expect(dtype(at81)).toBe(`checkpoint x.safetensors: tensor "a": unknown dtype "${at81.slice(0, 79)}…`);
    expect(rejection(raw({ a: { shape: [1], data_offsets: [0, 1] } }, [0]))).toBe('checkpoint x.safetensors: tensor "a": unknown dtype undefined');
    const deep = "[".repeat(1e5) + "]".repeat(1e5);
    expect(rejection(raw(`{"a":{"dtype":"U8","shape":${deep},"data_offsets":[0,0]}}`))).toBe(
      'checkpoint x.safetensors: tensor "a": shape a deeply nested object is not a list of non-negative integers',
    );
  });

  it("counts a tensor's bytes from its own offsets", () => {
    expect(rejection(raw({ a: { dtype: "U8", shape: [1], data_offsets: [0, 1] }, b: { dtype: "F32", shape: [1], data_offsets: [1, 4] } }, [0, 0, 0, 0]))).toBe(
      'checkpoint x.safetensors: tensor "b": shape [1] of F32 does not match its 3 data bytes',
    );
  });

  it("an empty tensor may sit where another begins, in either header order", () => {
    for (const header of [
      { w: { dtype: "F32", shape: [1], data_offsets: [0, 4] }, e: { dtype: "F32", shape: [0], data_offsets: [0, 0] } },
      { e: { dtype: "F32", shape: [0], data_offsets: [0, 0] }, w: { dtype: "F32", shape: [1], data_offsets: [0, 4] } },
    ]) {
      const file = decodeSafetensors(raw(header, new Uint8Array(new Float32Array([2.5]).buffer)), "ok");
      expect(Array.from(file.tensors.get("w")!.data as Float32Array)).toEqual([2.5]);
      expect(file.tensors.get("e")!.data.length).toBe(0);
    }
  });

  it("refuses invalid UTF-8 even inside a JSON string", () => {
    const file = raw('{"__metadata__":{"k":"??"}}');
    file[8 + '{"__metadata__":{"k":"'.length] = 0xff;
    expect(rejection(file)).toMatch(/^checkpoint x\.safetensors: header is not valid UTF-8 JSON \(.+\)$/);
  });
});

describe("file errors keep their cause", () => {
  it("reading a missing file or a directory", async () => {
    const missing = join(dir, "missing.safetensors");
    const error = await failure(readSafetensors(missing));
    expect(error.message).toBe(`no such checkpoint file: ${missing}`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe("ENOENT");
    const directory = await failure(readSafetensors(dir));
    expect(directory).toBeInstanceOf(CheckpointError);
    expect(directory.message).toMatch(new RegExp(`^cannot read checkpoint: EISDIR.*: ${dir}$`));
    expect((directory.cause as NodeJS.ErrnoException).code).toBe("EISDIR");
  });

  it("writing into a missing directory", async () => {
    const path = join(dir, "no-such-dir", "m.safetensors");
    const error = await failure(writeSafetensorsAtomic(path, tensor, {}));
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toMatch(new RegExp(`^cannot write checkpoint ${path}: ENOENT.*; the previous file, if any, is left intact$`));
    expect((error.cause as NodeJS.ErrnoException).code).toBe("ENOENT");
  });
});

describe("the directory fsync after the rename", () => {
  /** Makes fsync of `dir` itself fail with `code`. */
  function failDirectorySync(code: string): void {
    const realOpen = fsp.open.bind(fsp);
    vi.spyOn(fsp, "open").mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      if (String(args[0]) !== dir) return handle;
      const error = Object.assign(new Error(`${code}: injected, fsync`), { code });
      return new Proxy(handle, {
        get: (target, key) => (key === "sync" ? async () => { throw error; } : Reflect.get(target, key, target)?.bind?.(target) ?? Reflect.get(target, key, target)),
      });
    });
  }

  it.each(["EISDIR", "EPERM", "EINVAL"])("%s (a platform that cannot fsync a directory) is not a failure", async (code) => {
    failDirectorySync(code);
    const path = join(dir, `sync-${code}.safetensors`);
    await writeSafetensorsAtomic(path, tensor, {});
    vi.restoreAllMocks();
    expect((await readSafetensors(path)).tensors.get("w")!.data).toEqual(new Float32Array([1]));
  });

  it("any other error says the file is written but may not be durable, with the cause", async () => {
    failDirectorySync("EIO");
    const path = join(dir, "sync-EIO.safetensors");
    const error = await failure(writeSafetensorsAtomic(path, tensor, {}));
    vi.restoreAllMocks();
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toBe(`checkpoint ${path} was written but its directory could not be synced, so it may not survive a crash: EIO: injected, fsync`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe("EIO");
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
