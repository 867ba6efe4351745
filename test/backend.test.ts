// The backend option on a machine without a GPU: backend "cuda" trains through the test device
// library (the CPU table loaded with dlopen, as libdeepr_cuda.so would be) and must match backend
// "cpu" bit for bit, checkpoints move between the backends, and every way CUDA can be unusable
// gives "auto" the CPU with the reason and "cuda" a DEEPR_CUDA_UNAVAILABLE error naming the cause.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { Model, type EpochStats, type LayerState, type ModelOptions } from "../lib/index.js";
import { native } from "../lib/native.js";
import { root, scratch } from "./helpers/child.js";
import { blobs } from "./helpers/synthetic.js";
import { buildTestDeviceLibrary } from "./helpers/test-device.js";

let library = "";
beforeAll(() => {
  library = buildTestDeviceLibrary();
}, 600_000);

const saved = { lib: process.env.DEEPR_CUDA_LIB, disable: process.env.DEEPR_DISABLE_CUDA };
afterEach(() => {
  for (const [name, value] of [["DEEPR_CUDA_LIB", saved.lib], ["DEEPR_DISABLE_CUDA", saved.disable]] as const)
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
});

// The default MLP's widths, denser so that the synthetic data is learnt in a few epochs.
const mnistLike: ModelOptions = { layers: [784, 300, 100, 10], connectivity: [0.1, 0.1, 0.3] };
const train = blobs(600, 784, 10, 3);
const test = blobs(200, 784, 10, 4);
// 60 steps an epoch; alpha and the noise large enough that connections die and regrow in every layer and epoch.
const fitOptions = { batchSize: 10, lr: 0.05, alpha: 1e-3, noise: 1e-3, validation: test };

/** Every typed array of the layers as its bytes: equal means the same bits. */
function bits(layers: LayerState[]): unknown {
  const walk = (value: unknown): unknown => {
    if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (value !== null && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  return walk(layers);
}

/** An epoch's statistics without its timings. */
const untimed = ({ seconds, regrowthSeconds, noiseSeconds, ...rest }: EpochStats) => rest;

/** The test device library's count of device contexts open in this process. */
function openContexts(): number {
  return JSON.parse(native().probeDeviceLibrary(library).devices[0]).openContexts;
}

describe('backend "cuda" through a device library', () => {
  for (const budget of ["layer", "global"] as const)
    it(`trains the MLP bit for bit as backend "cpu" does (${budget} budget, biases, momentum, 300 steps)`, async () => {
      process.env.DEEPR_CUDA_LIB = library;
      const options: ModelOptions = { ...mnistLike, budget, bias: true, seed: 7 };
      const cpu = Model.create({ ...options, backend: "cpu" });
      const cuda = Model.create({ ...options, backend: "cuda" });
      expect(cuda.backend).toMatchObject({ name: "cuda", requested: "cuda", device: 0, library, description: { name: "cpu" } });
      expect(cpu.backend).toEqual({ name: "cpu", requested: "cpu", reason: 'backend "cpu" was asked for' });
      const [a, b] = [await cpu.fit(train, { ...fitOptions, epochs: 5, momentum: 0.9 }), await cuda.fit(train, { ...fitOptions, epochs: 5, momentum: 0.9 })];
      expect(b.map(untimed)).toEqual(a.map(untimed));
      expect(a.every((e) => e.layers.every((l) => l.rewired > 0))).toBe(true);  // every layer rewired in every epoch
      expect(a.at(-1)!.testAccuracy).toBeGreaterThan(0.9);  // and the network learnt
      if (budget === "global") expect(a.at(-1)!.layers.map((l) => l.active)).not.toEqual(a.at(-1)!.layers.map((l) => l.K));
      expect(bits(await cuda.exportLayers())).toEqual(bits(await cpu.exportLayers()));
      expect(cuda.progress).toEqual(cpu.progress);
      await cuda.checkInvariants();
      cpu.dispose();
      cuda.dispose();
    });

  it('trains the paper\'s cnn layer order bit for bit as backend "cpu" does (strided, padded convolutions, pooling, global budget, momentum)', async () => {
    process.env.DEEPR_CUDA_LIB = library;
    const side = 12, classes = 4;
    const images = blobs(400, side * side, classes, 5);
    const validation = blobs(100, side * side, classes, 6);
    const shaped = { ...images, shape: [1, side, side] };
    const options: ModelOptions = {
      inputShape: [1, side, side],
      layers: [
        { kind: "sparse_conv2d", outChannels: 4, kernel: 5, padding: 2, connectivity: 0.3, bias: true },
        { kind: "relu" },
        { kind: "max_pool2d", kernel: 2 },
        { kind: "sparse_conv2d", outChannels: 6, kernel: 3, stride: 2, padding: 1, connectivity: 0.3, bias: true },
        { kind: "relu" },
        { kind: "max_pool2d", kernel: 2, stride: 1 },
        { kind: "sparse_linear", outputs: 16, connectivity: 0.3, bias: true },
        { kind: "relu" },
        { kind: "sparse_linear", outputs: classes, connectivity: 0.5, bias: true },
        { kind: "softmax_cross_entropy" },
      ],
      budget: "global",
      seed: 4,
    };
    const cpu = Model.create({ ...options, backend: "cpu" });
    const cuda = Model.create({ ...options, backend: "cuda" });
    expect(cuda.backend.name).toBe("cuda");
    const fit = { ...fitOptions, validation, epochs: 3, momentum: 0.9, checkInvariants: true };
    const [a, b] = [await cpu.fit(shaped, fit), await cuda.fit(shaped, fit)];
    expect(b.map(untimed)).toEqual(a.map(untimed));
    expect(a.every((e) => e.layers.every((l) => l.rewired > 0))).toBe(true);  // the convolutions rewired too
    expect(bits(await cuda.exportLayers())).toEqual(bits(await cpu.exportLayers()));
    cpu.dispose();
    cuda.dispose();
  });
  for (const [rule, optimizer] of [["deep-r", "adam"], ["fixed", "adam"], ["dense", "momentum"]] as const)
    it(`trains rule "${rule}" with ${optimizer} bit for bit as backend "cpu" does`, async () => {
      process.env.DEEPR_CUDA_LIB = library;
      const options: ModelOptions = { ...mnistLike, rule, bias: true, seed: 5, ...(rule === "dense" && { layers: [784, 30, 10], connectivity: undefined }) };
      const cpu = Model.create({ ...options, backend: "cpu" });
      const cuda = Model.create({ ...options, backend: "cuda" });
      expect(cuda.backend.name).toBe("cuda");
      const fit = { ...fitOptions, epochs: 3, optimizer, ...(optimizer === "adam" ? { lr: 1e-3 } : { momentum: 0.9 }) };
      const [a, b] = [await cpu.fit(train, fit), await cuda.fit(train, fit)];
      expect(b.map(untimed)).toEqual(a.map(untimed));
      // DEEP R rewires every layer in every epoch; the baselines never rewire.
      expect(a.every((e) => e.layers.every((l) => (rule === "deep-r" ? l.rewired > 0 : l.rewired === 0)))).toBe(true);
      expect(a.at(-1)!.testAccuracy).toBeGreaterThan(0.9);
      expect(bits(await cuda.exportLayers())).toEqual(bits(await cpu.exportLayers()));
      await cuda.checkInvariants();
      cpu.dispose();
      cuda.dispose();
    });

  it("resumes a checkpoint of either backend on the other, continuing as an uninterrupted run", async () => {
    process.env.DEEPR_CUDA_LIB = library;
    const options: ModelOptions = { ...mnistLike, budget: "global", seed: 2 };
    const straight = Model.create({ ...options, backend: "cpu" });
    const expected = await straight.fit(train, { ...fitOptions, epochs: 3 });
    const dir = scratch("deepr-backend-");
    for (const [first, second] of [["cuda", "cpu"], ["cpu", "cuda"]] as const) {
      const start = Model.create({ ...options, backend: first });
      const head = await start.fit(train, { ...fitOptions, epochs: 2 });
      const file = join(dir, `${first}.safetensors`);
      await start.save(file);
      start.dispose();
      const resumed = await Model.load(file, { backend: second });
      expect(resumed.backend.name).toBe(second);
      const tail = await resumed.fit(train, { epochs: 3, validation: test });
      expect([...head, ...tail].map(untimed)).toEqual(expected.map(untimed));
      expect(bits(await resumed.exportLayers())).toEqual(bits(await straight.exportLayers()));
      resumed.dispose();
    }
    straight.dispose();
  });

  it("skips a batch whose loss is not finite and checks invariants as the CPU does", async () => {
    process.env.DEEPR_CUDA_LIB = library;
    const bad = { ...train, inputs: train.inputs.slice() };
    bad.inputs[5 * 784 + 3] = Number.NaN;
    const run = async (backend: "cpu" | "cuda") => {
      const model = Model.create({ ...mnistLike, bias: true, seed: 5, backend });
      const stats = await model.fit(bad, { ...fitOptions, epochs: 2, onNonFinite: "skip", checkInvariants: true });
      const layers = bits(await model.exportLayers());
      model.dispose();
      return { stats: stats.map(untimed), layers };
    };
    const [cpu, cuda] = [await run("cpu"), await run("cuda")];
    expect(cpu.stats.map((e) => e.skipped)).toEqual([1, 1]);
    expect(cuda).toEqual(cpu);
  });

  it("closes the device context when the model is disposed", () => {
    process.env.DEEPR_CUDA_LIB = library;
    const before = openContexts();
    const model = Model.create({ ...mnistLike, backend: "cuda" });
    expect(openContexts()).toBe(before + 1);
    model.dispose();
    expect(openContexts()).toBe(before);
  });

  it("refuses a network the device does not train under \"cuda\", and puts it on the CPU under \"auto\"", async () => {
    process.env.DEEPR_CUDA_LIB = library;
    const lstm: ModelOptions = {
      inputShape: [6, 6],
      layers: [{ kind: "sparse_lstm", units: 4, connectivity: 0.3 }, { kind: "sparse_linear", outputs: 3, connectivity: 0.5 }, { kind: "softmax_cross_entropy" }],
    };
    expect(() => Model.create({ ...lstm, backend: "cuda" })).toThrow(
      'options.backend is "cuda", but the CUDA backend does not yet train layer 0 (sparse_lstm): a device trains sparse_linear, sparse_conv2d and max_pool2d layers, a relu only after a sparse layer, and a softmax_cross_entropy head; use backend "auto" or "cpu"',
    );
    const auto = Model.create(lstm);
    expect(auto.backend).toEqual({ name: "cpu", requested: "auto", reason: expect.stringMatching(/^the CUDA backend does not yet train layer 0 \(sparse_lstm\): a device trains sparse_linear, sparse_conv2d/) });
    auto.dispose();

    // The structures whose work is on the host's stores (pruning, soft-DEEP R's dormant theta) train on the CPU.
    for (const [rule, structure] of [["prune", "prune"], ["l1", "prune"], ["soft-deep-r", "soft-deep-r"]] as const) {
      expect(() => Model.create({ ...mnistLike, rule, backend: "cuda" })).toThrow(
        `options.backend is "cuda", but the CUDA backend does not yet train the ${structure} structure; use backend "auto" or "cpu"`,
      );
      const model = Model.create({ ...mnistLike, rule });
      expect(model.backend).toEqual({ name: "cpu", requested: "auto", reason: `the CUDA backend does not yet train the ${structure} structure` });
      model.dispose();
    }

    // Adam, chosen when fit() switches the optimiser, trains on the device: "auto" keeps the model there.
    const before = openContexts();
    const adam = Model.create({ ...mnistLike, seed: 3 });
    await adam.fit(train, { ...fitOptions, epochs: 1, optimizer: "adam", lr: 1e-3 });
    expect(adam.backend.name).toBe("cuda");
    expect(openContexts()).toBe(before + 1);
    adam.dispose();
  });

  it("takes the device by ordinal and refuses one that does not exist", () => {
    process.env.DEEPR_CUDA_LIB = library;
    expect(() => Model.create({ ...mnistLike, backend: "cuda", device: 1 })).toThrow(
      expect.objectContaining({ code: "DEEPR_CUDA_UNAVAILABLE", message: expect.stringContaining("there is no CUDA device 1 (1 found)") }),
    );
    expect(Model.create({ ...mnistLike, device: 1 }).backend).toMatchObject({ name: "cpu", requested: "auto", reason: "there is no CUDA device 1 (1 found)" });
    expect(() => Model.create({ ...mnistLike, device: -1 })).toThrow(new RangeError("options.device must be an integer in [0, 2147483647], got -1"));
    expect(() => Model.create({ ...mnistLike, backend: "gpu" as "cuda" })).toThrow(
      new RangeError('options.backend must be one of "auto", "cpu", "cuda", got "gpu"'),
    );
  });
});

describe("where CUDA is unusable", () => {
  const unavailable = (reason: RegExp) => expect.objectContaining({ code: "DEEPR_CUDA_UNAVAILABLE", reason: expect.stringMatching(reason) });

  it.skipIf(existsSync(join(root, "build", "Release", "libdeepr_cuda.so")))("auto trains on the CPU and says no library was found", () => {
    delete process.env.DEEPR_CUDA_LIB;
    const model = Model.create(mnistLike);
    expect(model.backend).toEqual({
      name: "cpu",
      requested: "auto",
      reason: "no CUDA device library was found (install @deepr/cuda-linux-x64, or set DEEPR_CUDA_LIB to the path of libdeepr_cuda.so)",
    });
    expect(() => Model.create({ ...mnistLike, backend: "cuda" })).toThrow(unavailable(/^no CUDA device library was found/));
    model.dispose();
  });

  it("names a missing file, a library that is not a device library, and DEEPR_DISABLE_CUDA", () => {
    process.env.DEEPR_CUDA_LIB = "/nonexistent/libdeepr_cuda.so";
    expect(() => Model.create({ ...mnistLike, backend: "cuda" })).toThrow(
      unavailable(/^there is no file \/nonexistent\/libdeepr_cuda\.so \(named by DEEPR_CUDA_LIB\)$/),
    );
    expect(Model.create(mnistLike).backend).toMatchObject({ name: "cpu", library: "/nonexistent/libdeepr_cuda.so" });
    // A shared library, but not a device library: the addon itself.
    const addon = join(root, "build", "Release", "deepr.node");
    process.env.DEEPR_CUDA_LIB = addon;
    expect(() => Model.create({ ...mnistLike, backend: "cuda" })).toThrow(unavailable(/is not a deepr device library \(it exports no deepr_device_table\)/));
    process.env.DEEPR_CUDA_LIB = library;
    process.env.DEEPR_DISABLE_CUDA = "1";
    expect(() => Model.create({ ...mnistLike, backend: "cuda" })).toThrow(unavailable(/^DEEPR_DISABLE_CUDA=1 is set$/));
    expect(Model.create(mnistLike).backend).toEqual({ name: "cpu", requested: "auto", reason: "DEEPR_DISABLE_CUDA=1 is set" });
    try {
      Model.create({ ...mnistLike, backend: "cuda" });
    } catch (error) {
      expect((error as Error).message).toBe('deepr: backend "cuda" is not available: DEEPR_DISABLE_CUDA=1 is set. Use backend "auto" or "cpu" to train on the CPU.');
    }
  });

  it("keeps distributed training on the CPU", () => {
    process.env.DEEPR_CUDA_LIB = library;
    expect(() => Model.create({ ...mnistLike, backend: "cuda", distributed: "mpi" })).toThrow(
      new RangeError('options.backend is "cuda", but distributed training (MPI) runs on the CPU only; use backend "auto" or "cpu"'),
    );
  });
});
