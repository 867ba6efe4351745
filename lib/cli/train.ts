// deepr train: a new network from a preset and flags, or one resumed from a checkpoint.
import { constants } from "node:fs";
import { access, readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import type { CommonArchitectureOptions } from "../architectures/architecture.js";
import { architecture, type ArchitectureName } from "../architectures/registry.js";
import type { Dataset, DatasetSplits, LabelledData } from "../data/dataset.js";
import { entry } from "../data/paths.js";
import { describeDevice, type BackendName } from "../backend.js";
import type { DistributedEngine } from "../distributed.js";
import type { RegressionSplits } from "../data/regression-file.js";
import { Model, type EpochStats } from "../model.js";
import { networkWidths, normalizeTrainOptions, type ModelOptions, type NormalizedTrainOptions, type TrainOptions } from "../options.js";
import { defaultPresets, presets, type Preset, type PresetName } from "../presets.js";
import { optimizer, type OptimizerName } from "../rules/optimiser.js";
import { findRule, rule, type RuleName } from "../rules/registry.js";
import { hyperparameters, structureSettings } from "../hyperparameters.js";
import { getThreads } from "../threads.js";
import { loadRenderer, writeSvg } from "../plot/render.js";
import { trainingChart } from "../plot/training-chart.js";
import { flagError, type OptionSources } from "./api-errors.js";
import type { Flags } from "./args.js";
import type { FlagName } from "./flags.js";
import { dataFlags, loadRegressionSplits, loadSplits, ownData, regressionModel, sampleShape, type SampleShape } from "./data.js";
import { describeLayers, percent } from "./format.js";
import { ProgressDisplay } from "./progress.js";
import { architectureInput, namedArchitecture } from "./architecture.js";
import { applyThreads } from "./threads.js";
import { UsageError } from "./usage-error.js";

const DEFAULT_LAYERS = [784, 300, 100, 10];
const MODEL_FLAGS = ["model", "layers", "connectivity", rule.flag, ...structureSettings.map((d) => d.flag), "bias", "seed", "preset"] as const;
/** The flags a --model file replaces. */
const LAYER_FLAGS = ["layers", "connectivity", "bias"] as const;

export async function train(flags: Flags): Promise<void> {
  applyThreads(flags);
  const out = flags.text("out");
  const built = !flags.has("resume") ? builtArchitecture(flags) : undefined;
  // The data is read first when it decides the network's input and output widths: the user's own
  // files for the default widths, any data for the cnn and lstm architectures.
  const readFirst = built === "mlp" ? ownData(flags) && !flags.has("layers") : built !== undefined;
  const early = readFirst ? await loadSplits(flags) : undefined;
  const { model, trainOptions, optimizer: presetOptimizer, sources } = await buildModel(flags, built, early?.train);
  let normalized: NormalizedTrainOptions;
  try {
    normalized = normalizeTrainOptions(trainOptions, model.trainOptions);
  } catch (e) {
    throw flagError(e, sources);
  }
  const { epochs, batchSize } = normalized;
  const limit = flags.number("limit");
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a positive integer, got ${limit}`);
  if (out !== undefined) await checkWritable(out, "out");
  const plot = flags.text("plot");
  if (plot !== undefined) {
    await checkWritable(plot, "plot");
    await loadRenderer();  // a missing vega fails now, not after the training
  }
  if (model.progress.epoch >= epochs) return nothingToTrain(flags, model, epochs);

  const regression = regressionModel(model.options);
  let data: DatasetSplits | RegressionSplits;
  if (regression) {
    data = firstRegressionSamples(await loadRegressionSplits(flags), limit);
    checkRegressionShape(flags, model, data.train);
  } else {
    checkShape(flags, model, sampleShape(flags));  // before a load that can take seconds
    data = firstSamples(early ?? (await loadSplits(flags)), limit);
    checkShape(flags, model, data.train);
  }
  // In a distributed run every process trains; rank 0 alone prints, saves and draws.
  const lead = model.distribution.rank === 0;
  const save = lead ? out : undefined;
  const json = flags.boolean("json") === true;
  const controller = new AbortController();
  const interrupt = () => controller.abort(new Error("interrupted"));
  process.once("SIGINT", interrupt);
  if (lead && !json) announceBackend(flags, model);
  const progress = new ProgressDisplay(process.stderr, epochs, batchSize);
  const started = performance.now();
  let finalStats: EpochStats | undefined;
  const trained: EpochStats[] = [];
  try {
    // fit() takes labelled or regression data; its overloads name one kind at a time.
    await model.fit(data.train as LabelledData, {
      ...trainOptions,
      optimizer: flags.choice<OptimizerName>(optimizer.flag) ?? presetOptimizer,
      validation: data.test,
      signal: controller.signal,
      onBatchEnd: json || !lead ? undefined : (b) => progress.batch(b),
      onEpochEnd: async (s) => {
        finalStats = s;
        trained.push(s);
        if (save !== undefined) await model.save(save);
        if (!lead) return;
        progress.epochEnd();
        if (json) console.log(JSON.stringify({ type: "epoch", ...s }));
        else {
          // A network without sparse stores (dense layers only) rewires nothing.
          const rewired = s.layers.length > 0 ? s.layers.map((l) => l.rewired).join("/") : "-";
          // A regression model has no accuracy: its test loss instead.
          const scores = regression ? `test loss ${s.testLoss?.toFixed(4)}` : `train ${percent(s.trainAccuracy)}  test ${percent(s.testAccuracy)}`;
          // Without a hard bound on K (soft-deep-r) the connectivity moves: each layer's, and the highest reached.
          const connectivity = model.options.rule === "soft-deep-r"
            ? `  connectivity ${s.layers.map((l) => percent(l.connectivity)).join("/")} (max ${percent(s.maxConnectivity)})`
            : "";
          console.log(
            `epoch ${s.epoch}/${epochs}  loss ${s.loss.toFixed(4)}  ${scores}  lr ${s.lr.toPrecision(3)}  rewired ${rewired}${connectivity}  ${s.seconds.toFixed(1)} s`,
          );
        }
      },
    });
  } catch (e) {
    progress.clear();
    // fit() checks what only it can (the batch size of a model stopped mid-epoch): name the flag.
    if (!controller.signal.aborted) throw flagError(e, sources);
    process.exitCode = 130;
    if (!lead) return;
    if (out !== undefined) await model.save(out);
    console.error(`\ninterrupted${out !== undefined ? `; saved the model at the last completed step to ${out}` : "; nothing was saved (give --out FILE to keep the model)"}`);
    // The epochs completed before the interrupt are drawn.
    if (plot !== undefined && trained.length > 0) {
      await drawRun(plot, model, trained);
      console.error(`drew the ${trained.length} completed epoch${trained.length > 1 ? "s" : ""} to ${plot}`);
    }
    return;
  } finally {
    process.off("SIGINT", interrupt);
  }
  if (!lead) return;
  if (plot !== undefined) await drawRun(plot, model, trained);
  report(flags, model, finalStats, (performance.now() - started) / 1000);
}

// --plot: the epochs trained, titled with the rule, the epochs and the final test accuracy.
function drawRun(path: string, model: Model, trained: EpochStats[]): Promise<void> {
  const last = trained.at(-1)!;
  const score = last.testAccuracy !== undefined ? `, test accuracy ${percent(last.testAccuracy)}` : "";
  return writeSvg(path, trainingChart(trained, `deepr train: rule ${model.options.rule}, epochs ${trained[0].epoch}-${last.epoch}${score}`));
}

/** --backend and --device as the API's options. */
function backendFlags(flags: Flags): { backend?: BackendName; device?: number } {
  return { backend: flags.choice<BackendName>("backend"), device: flags.number("device") };
}

/**
 * Where the steps run, on stderr before the progress: on a GPU, when --backend was given, or when
 * a CUDA library was found but cannot be used. The CPU alone, as chosen where no CUDA library is
 * installed, is not worth a line.
 */
function announceBackend(flags: Flags, model: Model): void {
  const b = model.backend;
  if (b.name === "cuda") console.error(`training on CUDA device ${b.device}: ${describeDevice(b.description!)}`);
  else if (flags.has("backend") || b.library !== undefined) console.error(`training on the CPU: ${b.reason}`);
}

// A new model from the preset and the flags, or the resumed one; its options are validated here,
// before any data is loaded (but the data that decides the network's widths, passed as `data`).
async function buildModel(
  flags: Flags, built: ArchitectureName | undefined, data?: Dataset,
): Promise<{ model: Model; trainOptions: TrainOptions; optimizer?: OptimizerName; sources: OptionSources }> {
  const resume = flags.text("resume");
  if (resume !== undefined) {
    const changed = MODEL_FLAGS.find((flag) => flags.has(flag));
    if (changed) throw new UsageError(`--${changed} cannot change a resumed model; drop it or start a new run`);
    let model: Model;
    try {
      model = await Model.load(resume, { distributed: flags.choice<DistributedEngine>("distributed"), ...backendFlags(flags) });
    } catch (e) {
      throw flagError(e, { flags, origin: "", values: {} });
    }
    const trainOptions = trainOptionsFrom(flags, {});
    return { model, trainOptions, sources: { flags, origin: `${resume}'s`, values: { ...model.options, ...model.trainOptions } } };
  }
  const presetName = flags.choice<PresetName>("preset");
  // Without --preset, an architecture trains with its own recipe (defaultPresets), a --model file with the reference recipe.
  const preset: Preset | undefined = presetName !== undefined ? presets[presetName] : presets[defaultPresets[built ?? "mlp"]];
  const file = built === undefined ? flags.text("model") : undefined;
  const ruleName = flags.choice<RuleName>(rule.flag) ?? preset?.model.rule;
  const connectivityFlag = flags.list("connectivity");
  // One value sets every layer.
  const connectivity = connectivityFlag?.length === 1 ? connectivityFlag[0] : (connectivityFlag ?? (findRule(ruleName)?.dense ? undefined : preset?.model.connectivity));
  const bias = flags.boolean("bias") ?? preset?.model.bias;
  const origin = flags.has("preset") ? `the "${presetName}" preset's` : "the default";
  const modelOptions: ModelOptions = {
    ...(file !== undefined
      ? await modelFile(flags, file)
      : built === undefined || built === "mlp"
        ? {
            layers: flags.list("layers") ?? (data ? [data.features, ...DEFAULT_LAYERS.slice(1, -1), data.classes] : DEFAULT_LAYERS),
            // Rule "dense" trains every connection: the preset's sparse connectivity is not for it.
            connectivity,
            bias,
          }
        : architectureOf(flags, origin, built, data!, { connectivity, rule: ruleName, bias })),
    ...(ruleName !== undefined ? { rule: ruleName } : {}),
    ...presetStructure(preset),
    ...structureFrom(flags),
    seed: flags.number("seed") ?? 1,
  };
  const trainOptions = trainOptionsFrom(flags, preset?.train ?? {});
  const sources = { flags, origin, values: { connectivity, ...modelOptions, ...trainOptions } };
  try {
    const distributed = flags.choice<DistributedEngine>("distributed");
    return { model: Model.create({ ...modelOptions, distributed, ...backendFlags(flags) }), trainOptions, optimizer: preset?.optimizer, sources };
  } catch (e) {
    // The file's layer specs and input shape are named as the file names them.
    const fileOption = /options\.(layers|inputShape)\b/g;
    if (file !== undefined && e instanceof Error && fileOption.test(e.message))
      throw new Error(`--model ${file}: ${e.message.replace(fileOption, "$1")}`, { cause: e });
    throw flagError(e, sources);
  }
}

/**
 * The architecture a new run builds: the one --model names, else the preset's (the default preset's
 * is the mlp); undefined for a --model file. A preset for another architecture than --model's is refused.
 */
function builtArchitecture(flags: Flags): ArchitectureName | undefined {
  const presetName = flags.choice<PresetName>("preset");
  const fromPreset = presetName === undefined ? undefined : ((presets[presetName] as Preset).architecture ?? "mlp");
  if (!flags.has("model")) return fromPreset ?? "mlp";
  const named = namedArchitecture(flags);
  if (fromPreset !== undefined && named !== fromPreset)
    throw new UsageError(`--preset ${presetName} is a recipe for the ${fromPreset} architecture, not for --model ${flags.text("model")}; drop one of them`);
  if (named !== undefined && named !== "mlp" && flags.has("layers"))
    throw new UsageError(`--layers cannot be given with --model ${named}, which sets the layers; use --model mlp (the default) for --layers`);
  return named;
}

/** The layer list and input shape of a ready-made architecture on the data it will train on; `origin` says where options not given by flags come from. */
function architectureOf(
  flags: Flags, origin: string, name: Exclude<ArchitectureName, "mlp">, data: Dataset, options: CommonArchitectureOptions,
): Pick<ModelOptions, "layers" | "inputShape"> {
  const inputShape = architectureInput(name, data.sampleShape, dataFlags(flags));
  try {
    return architecture(name, { ...options, inputShape, classes: data.classes });
  } catch (e) {
    throw flagError(e, { flags, origin, values: { ...options } });
  }
}

/** The layer list and input shape of a --model JSON file, as ModelOptions' `layers` and `inputShape`. */
async function modelFile(flags: Flags, file: string): Promise<Pick<ModelOptions, "layers" | "inputShape">> {
  const replaced = LAYER_FLAGS.find((flag) => flags.has(flag));
  if (replaced) throw new UsageError(`--${replaced} cannot be given with --model ${file}, which sets the layers; put it in the file's layer specs`);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new Error(`--model ${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (e) {
    throw new Error(`--model ${file} is not JSON: ${(e as Error).message}`);
  }
  if (document === null || typeof document !== "object" || Array.isArray(document))
    throw new Error(`--model ${file} must hold a JSON object with "layers" (a list of layer specs) and "inputShape"`);
  const unknown = Object.keys(document).find((key) => key !== "layers" && key !== "inputShape");
  if (unknown !== undefined) throw new Error(`--model ${file}: "${unknown}" is not a key of a model file; it has "layers" and "inputShape"`);
  const { layers, inputShape } = document as Pick<ModelOptions, "layers" | "inputShape">;
  if (!Array.isArray(layers) || !layers.every((layer) => layer !== null && typeof layer === "object"))
    throw new Error(`--model ${file}: "layers" must be a list of layer specs ({"kind": ..., ...})`);
  return { layers, inputShape };
}

// The structure rules' settings a preset gives.
function presetStructure(preset: Preset | undefined): Pick<ModelOptions, (typeof structureSettings)[number]["option"]> {
  const model: Record<string, unknown> = preset?.model ?? {};
  return Object.fromEntries(structureSettings.flatMap((d) => (model[d.option] === undefined ? [] : [[d.option, model[d.option]]])));
}

// The structure rules' settings the flags give, read by their declarations; those not given are left out.
function structureFrom(flags: Flags): Pick<ModelOptions, (typeof structureSettings)[number]["option"]> {
  const given = structureSettings.flatMap((d) => {
    const value = d.type === "choice" ? flags.choice(d.flag) : flags.number(d.flag);
    return value === undefined ? [] : [[d.option, value]];
  });
  return Object.fromEntries(given);
}

// The training options the flags give, read by the hyper-parameters' own declarations.
function trainOptionsFrom(flags: Flags, preset: TrainOptions): TrainOptions {
  const given: Record<string, unknown> = {};
  for (const d of hyperparameters) {
    const flag = d.flag as FlagName;
    given[d.option] = d.type === "boolean" ? flags.boolean(flag) : d.type === "choice" ? flags.choice(flag) : flags.number(flag);
  }
  const merged: Record<string, unknown> = { ...preset };
  // --temperature replaces the preset's noise; giving both flags is an error of the API.
  if (given.temperature !== undefined) delete merged.noise;
  for (const [key, value] of Object.entries(given)) if (value !== undefined) merged[key] = value;
  return merged as TrainOptions;
}

/** Fails now, not after the first epoch, when --out cannot be written. */
async function checkWritable(out: string, flag: "out" | "plot"): Promise<void> {
  const dir = dirname(resolve(out));
  const folder = await entry(dir);
  if (!folder) throw new Error(`--${flag} ${out}: the directory ${dir} does not exist; create it first`);
  if (!folder.isDirectory()) throw new Error(`--${flag} ${out}: ${dir} is not a directory`);
  const example = flag === "out" ? "model.safetensors" : "training.svg";
  if ((await entry(out))?.isDirectory()) throw new Error(`--${flag} ${out} is a directory; give a file name, e.g. ${out.replace(/\/*$/, "")}/${example}`);
  try {
    await access(dir, constants.W_OK);
  } catch {
    throw new Error(`--${flag} ${out}: cannot write in ${dir} (permission denied)`);
  }
}

/** The model has already completed `epochs`: says so, and still writes --out when given. */
async function nothingToTrain(flags: Flags, model: Model, epochs: number): Promise<void> {
  if (model.distribution.rank !== 0) return;  // rank 0 speaks for a distributed run
  const out = flags.text("out");
  const { epoch } = model.progress;
  const what = flags.has("resume") ? flags.text("resume") : "the model";
  const message =
    `${what} is already at epoch ${epoch} and --epochs ${epochs} is the total to reach, so there is nothing to train ` +
    `(give --epochs ${epoch + 1} or more to train on)`;
  if (out !== undefined) await model.save(out);
  const saved = out !== undefined ? `; saved it unchanged to ${out}` : "";
  if (flags.boolean("json")) {
    console.error(`deepr: ${message}${saved}`);
    report(flags, model, undefined, 0);
  } else console.log(`${message}${saved}`);
}

// The model's input and output widths against the data set, before fit() would report them as
// data.features or data.labels. `features` is undefined before loading when the format leaves it open.
function checkShape(flags: Flags, model: Model, data: SampleShape): void {
  const { inputs, outputs } = networkWidths(model.options);
  const badInputs = data.features !== undefined && data.features !== inputs;
  if (!badInputs && (data.classes ?? 0) <= outputs) return;
  const dataset = dataFlags(flags);
  const problem = badInputs ? `${data.features} inputs per sample` : `${data.classes} classes`;
  const end = badInputs ? `starting with ${data.features}` : `ending with ${data.classes}`;
  if (flags.has("resume"))
    throw new UsageError(`${dataset} has ${problem} but ${flags.text("resume")} has ${describeLayers(model.options)}; resume it on the data set it was trained on`);
  if (flags.has("model")) throw new UsageError(`${dataset} has ${problem}, which --model ${flags.text("model")} (${describeLayers(model.options)}) does not fit`);
  const layers = flags.has("layers") ? flags.show("layers") : `the default --layers ${(model.options.layers as number[]).join(",")}`;
  throw new UsageError(`${dataset} has ${problem}, which ${layers} does not fit; give --layers ${end}`);
}

// The model's input and output widths against regression data: values per sample and targets per sample.
function checkRegressionShape(flags: Flags, model: Model, data: { features: number; outputs: number }): void {
  const { inputs, outputs } = networkWidths(model.options);
  if (data.features === inputs && data.outputs === outputs) return;
  const problem = data.features !== inputs ? `${data.features} inputs per sample` : `${data.outputs} targets per sample`;
  const what = flags.has("resume") ? `${flags.text("resume")} (${describeLayers(model.options)})` : `--model ${flags.text("model")} (${describeLayers(model.options)})`;
  throw new UsageError(`${dataFlags(flags)} has ${problem}, which ${what} does not fit`);
}

/** Regression splits with only the first `n` training samples (--limit). */
function firstRegressionSamples(splits: RegressionSplits, n: number | undefined): RegressionSplits {
  if (n === undefined) return splits;
  const t = splits.train, count = Math.min(n, t.count);
  return { ...splits, train: { ...t, count, inputs: t.inputs.subarray(0, count * t.features), targets: t.targets.subarray(0, count * t.outputs) } };
}

/** The splits with only the first `n` training samples (--limit). */
function firstSamples(splits: DatasetSplits, n: number | undefined): DatasetSplits {
  if (n === undefined) return splits;
  const t = splits.train, count = Math.min(n, t.count);
  return { ...splits, train: { ...t, count, inputs: t.inputs.subarray(0, count * t.features), labels: t.labels.subarray(0, count) } };
}

function report(flags: Flags, model: Model, last: EpochStats | undefined, seconds: number): void {
  const out = flags.text("out");
  const layers = model.layers();
  const active = layers.reduce((sum, l) => sum + l.active, 0);
  const positions = layers.reduce((sum, l) => sum + l.inputs * l.outputs, 0);
  const summary = {
    type: "final",
    epochs: model.progress.epoch,
    testAccuracy: last?.testAccuracy,
    testLoss: last?.testLoss,
    active,
    connectivity: active / positions,
    layers: layers.map((l) => ({ inputs: l.inputs, outputs: l.outputs, K: l.budget, active: l.active })),
    seconds,
    threads: getThreads(),
    backend: model.backend,
    out,
  };
  const score = regressionModel(model.options) ? `test loss ${summary.testLoss?.toFixed(4) ?? "-"}` : `test accuracy ${percent(summary.testAccuracy)}`;
  if (flags.boolean("json")) console.log(JSON.stringify(summary));
  else
    console.log(
      `done: ${score} ` +
        (positions > 0 ? `with ${active} of ${positions} connections active (${(100 * summary.connectivity).toFixed(3)} %)` : "with dense layers only") +
        `, ${seconds.toFixed(1)} s` +
        (out !== undefined ? `, saved to ${out}` : "; not saved (give --out FILE to save the model)"),
    );
}
