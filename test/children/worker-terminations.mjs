// Terminates worker threads in the middle of deepr operations, as Electron apps and servers do,
// and reports whether this process stayed sound. Run with --expose-gc:
//
//   node --expose-gc worker-terminations.mjs --rounds N --dir DIR
//
// Round r starts a worker (test/children/worker-operation.mjs) that repeats one of fit, evaluate,
// predict and save (r mod 4), waits until its first call is under way plus a random 0-15 ms, and
// terminates it. Each call lasts ~10-40 ms, so terminate() nearly always lands mid-call; the
// rounds where it did are counted from the worker's shared call counters. After each save round
// the checkpoint must load (its CRC32 covers every tensor) and be either the previous file or the
// one the worker was writing. Prints one JSON line: rounds, terminations mid-call per operation,
// resident memory in MiB after rounds 10 and N (after collections), and checkpoint results.
import { Worker } from "node:worker_threads";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Model } from "../../dist/index.js";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "120" }, dir: { type: "string" } } });
const rounds = Number(values.rounds);
const path = join(values.dir, "model.safetensors");
const operations = ["fit", "evaluate", "predict", "save"];

// Shared, so every worker reads the same memory instead of building its own copy.
const count = 256, features = 784, classes = 10;
const inputs = new Float32Array(new SharedArrayBuffer(count * features * 4));
const labels = new Int32Array(new SharedArrayBuffer(count * 4));
for (let n = 0; n < count; n++) {
  labels[n] = n % classes;
  for (let i = 0; i < features; i++) inputs[n * features + i] = ((n * 31 + i * 17) % 23) / 23;
}

// How long after the first call starts to terminate: 0-15 ms, cycling; saves wait up to 75 ms, so
// that some rounds end after a save completed (the checkpoint is then the new one).
const delay = (round, operation) => ((round * 7) % 16) * (operation === "save" ? 5 : 1);

const MiB = 2 ** 20;
const settledRss = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage().rss / MiB;
};

// The checkpoint before any save round: a model with seed 0.
const first = Model.create({ layers: [features, 512, classes], connectivity: 0.5, bias: true, seed: 0 });
await first.save(path);
first.dispose();
let checkpointSeed = 0;

const out = { rounds, midCall: Object.fromEntries(operations.map((o) => [o, 0])), checkpoints: { old: 0, new: 0, bad: [] } };
for (let round = 0; round < rounds; round++) {
  const operation = operations[round % operations.length];
  const seed = 1000 + round;
  const calls = new Int32Array(new SharedArrayBuffer(8));
  const worker = new Worker(new URL("./worker-operation.mjs", import.meta.url), {
    workerData: { operation, seed, path, inputs, labels, count, features, classes, calls },
  });
  const failed = new Promise((_, reject) => worker.once("error", reject));
  await Promise.race([new Promise((r) => worker.once("message", r)), failed]);
  await new Promise((r) => setTimeout(r, delay(round, operation)));
  if (Atomics.load(calls, 0) > Atomics.load(calls, 1)) out.midCall[operation]++;
  await worker.terminate();

  if (operation === "save") {
    try {
      const saved = await Model.load(path);
      const found = saved.options.seed;
      saved.dispose();
      if (found === checkpointSeed) out.checkpoints.old++;
      else if (found === seed) out.checkpoints.new++;
      else out.checkpoints.bad.push(`round ${round}: seed ${found}, expected ${checkpointSeed} or ${seed}`);
      checkpointSeed = found;
    } catch (error) {
      out.checkpoints.bad.push(`round ${round}: ${error.message}`);
    }
  }
  if (round + 1 === 10) out.rssAfter10 = await settledRss();
}
out.rssAfterAll = await settledRss();
// Temp files of saves cut short (the name of each begins with a dot).
out.leftoverTempFiles = readdirSync(values.dir).filter((name) => name.endsWith(".tmp")).length;
process.stdout.write(JSON.stringify(out) + "\n");
