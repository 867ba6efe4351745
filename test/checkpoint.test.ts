import { mkdtemp, readFile, writeFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CheckpointError, decodeSafetensors, encodeSafetensors } from "../lib/checkpoint/safetensors.js";
import { Model } from "../lib/model.js";
import { blobs } from "./helpers/synthetic.js";

const spec = { layers: [30, 20, 10, 3], connectivity: [0.1, 0.3, 0.6], seed: 5, bias: true };

async function tempDir() {
  return mkdtemp(join(tmpdir(), "deepr-ckpt-"));
}

/** What a Python user does with the README: parse the file by hand, walk deepr.graph, rebuild W = sign * theta. */
function forwardFromFile(bytes: Buffer, inputs: Float32Array, features: number): number[][] {
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString("utf8"));
  const data = bytes.subarray(8 + headerLength);
  const read = (name: string) => {
    const { dtype, shape, data_offsets: [begin, end] } = header[name];
    const slice = data.subarray(begin, end);
    const values: number[] = [];
    for (let o = 0; o < slice.length; o += dtype === "I8" ? 1 : 4)
      values.push(dtype === "F32" ? slice.readFloatLE(o) : dtype === "I32" ? slice.readInt32LE(o) : slice.readInt8(o));
    return { shape: shape as number[], values };
  };
  const graph: { kind: string; outputs?: number; stores?: Record<string, unknown> }[] = JSON.parse(header.__metadata__["deepr.graph"]);
  const out: number[][] = [];
  for (let n = 0; n < inputs.length / features; n++) {
    let a = Array.from(inputs.subarray(n * features, (n + 1) * features), Number);
    graph.forEach((layer, l) => {
      if (layer.kind === "relu") a = a.map((v) => Math.max(v, 0));
      if (layer.kind !== "sparse_linear") return;
      const positions = read(`layers.${l}.weight.positions`).values, theta = read(`layers.${l}.weight.theta`).values;
      const sign = read(`layers.${l}.weight.sign`).values;
      const z = layer.stores!.bias ? read(`layers.${l}.bias.value`).values : new Array<number>(layer.outputs!).fill(0);
      for (let k = 0; k < theta.length; k++) z[positions[2 * k + 1]] += a[positions[2 * k]] * sign[k] * theta[k];
      a = z;
    });
    const top = Math.max(...a), e = a.map((v) => Math.exp(v - top)), s = e.reduce((x, y) => x + y, 0);
    out.push(e.map((v) => v / s));
  }
  return out;
}

describe("checkpoints", () => {
  it("round-trips, and the file alone rebuilds the network's outputs", async () => {
    const dir = await tempDir();
    const data = blobs(90, 30, 3);
    const model = Model.create(spec);
    await model.fit(data, { epochs: 2, lr: 0.1, batchSize: 9, momentum: 0.9 });
    const file = join(dir, "m.safetensors");
    await model.save(file);
    const loaded = await Model.load(file);
    expect(loaded.options).toEqual(model.options);
    expect(loaded.progress).toEqual(model.progress);
    expect(loaded.trainOptions).toEqual(model.trainOptions);
    expect(await loaded.exportLayers()).toEqual(await model.exportLayers());
    const probabilities = await model.predict(data.inputs.subarray(0, 300));
    const reference = forwardFromFile(await readFile(file), data.inputs.subarray(0, 300), 30);
    reference.flat().forEach((p, n) => expect(probabilities[n]).toBeCloseTo(p, 5));
    model.dispose();
    loaded.dispose();
  });

  it("resumes exactly: 2 epochs + save + load + 1 epoch equals 3 epochs", async () => {
    const dir = await tempDir();
    const data = blobs(150, 30, 3);
    const options = { lr: 0.2, batchSize: 7, momentum: 0.8, noise: 1e-3, alpha: 1e-4 };
    const straight = Model.create(spec);
    await straight.fit(data, { ...options, epochs: 3 });
    const first = Model.create(spec);
    await first.fit(data, { ...options, epochs: 2 });
    await first.save(join(dir, "two.safetensors"));
    const resumed = await Model.load(join(dir, "two.safetensors"));
    await resumed.fit(data, { epochs: 3 });
    expect(resumed.progress).toEqual(straight.progress);
    expect(await resumed.exportLayers()).toEqual(await straight.exportLayers());
  });

  it("resumes exactly from the middle of an epoch after an abort", async () => {
    const dir = await tempDir();
    const data = blobs(300, 30, 3);
    const straight = Model.create(spec);
    await straight.fit(data, { epochs: 2, batchSize: 1, lr: 0.05 });
    const stopped = Model.create(spec);
    const controller = new AbortController();
    let n = 0;
    await expect(
      stopped.fit(data, { epochs: 2, batchSize: 1, lr: 0.05, signal: controller.signal, onBatchEnd: () => void (++n === 350 && controller.abort()) }),
    ).rejects.toThrow();
    expect(stopped.progress.epoch).toBe(1);
    await stopped.save(join(dir, "mid.safetensors"));
    const resumed = await Model.load(join(dir, "mid.safetensors"));
    await expect(resumed.fit(data, { batchSize: 2 })).rejects.toThrow(/batch size 1/);
    await resumed.fit(data, { epochs: 2 });
    expect(await resumed.exportLayers()).toEqual(await straight.exportLayers());
  });

  it("saves a consistent state when save() is called during fit()", async () => {
    const dir = await tempDir();
    const data = blobs(3000, 30, 3);
    const model = Model.create(spec);
    const training = model.fit(data, { epochs: 3, batchSize: 1, lr: 0.05 });
    await new Promise((r) => setTimeout(r, 50));
    await model.save(join(dir, "during.safetensors"));
    await training;
    const loaded = await Model.load(join(dir, "during.safetensors"));
    await loaded.checkInvariants();
    expect(loaded.progress.step).toBeGreaterThan(0);
    expect(loaded.progress.step).toBe(loaded.progress.epoch * 3000 + loaded.progress.batchInEpoch);
  });

  it("rejects corrupt, foreign and inconsistent files with a clear error", async () => {
    const dir = await tempDir();
    const model = Model.create(spec);
    const file = join(dir, "ok.safetensors");
    await model.save(file);
    const bytes = await readFile(file);

    const truncated = join(dir, "truncated.safetensors");
    await writeFile(truncated, bytes.subarray(0, bytes.length - 3));
    await expect(Model.load(truncated)).rejects.toThrow(CheckpointError);

    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 5] ^= 0x40;
    await writeFile(join(dir, "flipped.safetensors"), flipped);
    await expect(Model.load(join(dir, "flipped.safetensors"))).rejects.toThrow(/checksum/);

    await writeFile(join(dir, "foreign.safetensors"), Buffer.concat(encodeSafetensors({ w: { dtype: "F32", shape: [1], data: new Float32Array(1) } }, {})));
    await expect(Model.load(join(dir, "foreign.safetensors"))).rejects.toThrow(/not a deepr checkpoint/);
    await expect(Model.load(join(dir, "missing.safetensors"))).rejects.toThrow(/no such checkpoint/);

    // Valid files whose parameters break the strict bound.
    const parsed = decodeSafetensors(bytes, file);
    const rewrite = async (name: string, change: (t: typeof parsed.tensors) => void) => {
      const copy = decodeSafetensors(bytes, file);
      change(copy.tensors);
      const { ["deepr.crc32"]: _, ...metadata } = copy.metadata;
      await writeFile(join(dir, name), Buffer.concat(encodeSafetensors(copy.tensors, metadata)));
      return join(dir, name);
    };
    const duplicate = await rewrite("dup.safetensors", (t) => {
      const p = t.get("layers.0.weight.positions")!.data as Int32Array;
      p[2] = p[0];
      p[3] = p[1];
      (t.get("layers.0.weight.sign")!.data as Int8Array)[1] = (t.get("layers.0.weight.sign")!.data as Int8Array)[0];
    });
    await expect(Model.load(duplicate)).rejects.toThrow(/appears twice/);
    const sign = await rewrite("sign.safetensors", (t) => {
      const s = t.get("layers.2.weight.sign")!.data as Int8Array;
      s[0] = -s[0];
    });
    await expect(Model.load(sign)).rejects.toThrow(/fixed sign/);
    const range = await rewrite("range.safetensors", (t) => {
      (t.get("layers.4.weight.positions")!.data as Int32Array)[0] = 99;
    });
    await expect(Model.load(range)).rejects.toThrow(/outside the 10 x 3 weight matrix/);
    const negative = await rewrite("negative.safetensors", (t) => {
      (t.get("layers.0.weight.theta")!.data as Float32Array)[0] = -1;
    });
    await expect(Model.load(negative)).rejects.toThrow(/theta/);
    const shape = await rewrite("shape.safetensors", (t) => {
      t.delete("layers.2.bias.value");
    });
    await expect(Model.load(shape)).rejects.toThrow(/tensor layers\.2\.bias\.value is missing/);
    model.dispose();
  });

  it("a failed save leaves the previous file intact", async () => {
    const dir = await tempDir();
    const model = Model.create(spec);
    const file = join(dir, "keep.safetensors");
    await model.save(file);
    const before = await readFile(file);
    await expect(model.save(join(dir, "no-such-dir", "x.safetensors"))).rejects.toThrow();
    await model.fit(blobs(30, 30, 3), { epochs: 1 });
    await model.save(file);
    const after = await readFile(file);
    expect(after.equals(before)).toBe(false);
    expect((await readdir(dir)).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });
});
