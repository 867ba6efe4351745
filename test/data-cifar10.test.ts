import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadCifar10, parseCifar10Batch } from "../lib/data/cifar10.js";
import { DataFormatError } from "../lib/data/idx.js";

const RECORD = 3073;
const RECORDS_PER_FILE = 3;

// Pixel byte of channel c, row y, column x in record r of file f: distinct enough to catch layout mix-ups.
const pixel = (f: number, r: number, c: number, y: number, x: number) => (f * 31 + r * 17 + c * 101 + y * 7 + x) % 256;
const label = (f: number, r: number) => (f * 3 + r) % 10;

/** A fake CIFAR-10 binary batch: each record is a label byte then red, green, blue 32×32 planes. */
function batch(f: number, records = RECORDS_PER_FILE): Uint8Array {
  const bytes = new Uint8Array(records * RECORD);
  for (let r = 0; r < records; r++) {
    bytes[r * RECORD] = label(f, r);
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 32; y++)
        for (let x = 0; x < 32; x++) bytes[r * RECORD + 1 + c * 1024 + y * 32 + x] = pixel(f, r, c, y, x);
  }
  return bytes;
}

// Files 1..5 are data_batch_1..5, file 6 is test_batch.
async function writeBatches(folder: string, skip?: string): Promise<void> {
  await mkdir(folder, { recursive: true });
  const names = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];
  await Promise.all(names.map((name, i) => (name === skip ? undefined : writeFile(join(folder, name), batch(i + 1)))));
}

describe("parseCifar10Batch", () => {
  it("keeps the channel-major layout and scales pixels to [0, 1]", () => {
    const { inputs, labels, count } = parseCifar10Batch(batch(2), "b.bin");
    expect(count).toBe(3);
    expect(Array.from(labels)).toEqual([6, 7, 8]);
    expect(inputs.length).toBe(3 * 3072);
    for (const [r, c, y, x] of [[0, 0, 0, 0], [1, 0, 5, 9], [1, 1, 31, 0], [2, 2, 31, 31], [2, 1, 16, 3]]) {
      expect(inputs[r * 3072 + c * 1024 + y * 32 + x], `${r},${c},${y},${x}`).toBe(Math.fround(pixel(2, r, c, y, x) / 255));
    }
  });

  it("maps byte 0 to 0 and byte 255 to 1", () => {
    const bytes = new Uint8Array(RECORD);
    bytes[1] = 255;
    const { inputs } = parseCifar10Batch(bytes, "b.bin");
    expect(inputs[0]).toBe(1);
    expect(inputs[1]).toBe(0);
  });

  it("rejects a length that is not a positive multiple of 3073", () => {
    for (const length of [0, 1, RECORD - 1, RECORD + 1, 2 * RECORD - 1, 3 * 3074]) {
      expect(() => parseCifar10Batch(new Uint8Array(length), "odd.bin"), `length ${length}`).toThrow(DataFormatError);
    }
    expect(() => parseCifar10Batch(new Uint8Array(RECORD + 1), "odd.bin")).toThrow(/odd\.bin: 3074 bytes is not a positive multiple of the 3073-byte/);
  });

  it("rejects label 10, naming the file and record", () => {
    const bytes = batch(1);
    bytes[2 * RECORD] = 10;
    expect(() => parseCifar10Batch(bytes, "bad.bin")).toThrow(/bad\.bin: record 2 has label 10/);
  });
});

describe("loadCifar10", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "deepr-cifar10-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("loads the five training batches in order and the test batch", async () => {
    const folder = join(dir, "flat");
    await writeBatches(folder);
    const { train, test } = await loadCifar10(folder);
    expect([train.count, train.features, train.classes]).toEqual([15, 3072, 10]);
    expect([test.count, test.features, test.classes]).toEqual([3, 3072, 10]);
    expect(train.inputs.length).toBe(15 * 3072);
    expect(Array.from(train.labels)).toEqual([1, 2, 3, 4, 5].flatMap((f) => [0, 1, 2].map((r) => label(f, r))));
    expect(Array.from(test.labels)).toEqual([8, 9, 0]);
    // Sample 13 is record 1 of data_batch_5.
    expect(train.inputs[13 * 3072 + 2 * 1024 + 7 * 32 + 20]).toBe(Math.fround(pixel(5, 1, 2, 7, 20) / 255));
    expect(test.inputs[2 * 3072 + 1024 + 33]).toBe(Math.fround(pixel(6, 2, 1, 1, 1) / 255));
  });

  it("finds the files in a cifar-10-batches-bin subfolder", async () => {
    const parent = join(dir, "extracted");
    await writeBatches(join(parent, "cifar-10-batches-bin"));
    const { train, test } = await loadCifar10(parent);
    expect(train.count).toBe(15);
    expect(Array.from(test.labels)).toEqual([8, 9, 0]);
  });

  it("names a missing file and the folder searched", async () => {
    const folder = join(dir, "missing");
    await writeBatches(folder, "data_batch_4.bin");
    const error = await loadCifar10(folder).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toContain("data_batch_4.bin");
    expect((error as Error).message).toContain(folder);
  });

  it("names the bad file when one batch is corrupt", async () => {
    const folder = join(dir, "corrupt");
    await writeBatches(folder);
    const bad = batch(3);
    bad[RECORD] = 10;
    await writeFile(join(folder, "data_batch_3.bin"), bad);
    await expect(loadCifar10(folder)).rejects.toThrow(/data_batch_3\.bin: record 1 has label 10/);
  });
});
