// Model.create with a list of layer specs: the same network as the widths form gives the same
// bits; each kind's errors name `options.layers[i].field`; a layer list's state, store by store,
// round-trips through a checkpoint and resumes exactly; the rule and optimizer options resolve
// through the rule registry, naming the known names when one is not.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphOf } from "../lib/checkpoint/graph.js";
import { decodeSafetensors } from "../lib/checkpoint/safetensors.js";
import { Model } from "../lib/model.js";
import type { ModelOptions } from "../lib/options.js";
import { storeValues } from "./helpers/store-values.js";
import { blobs } from "./helpers/synthetic.js";
import { throwsExactly } from "./helpers/throws.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-layer-list-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const data = blobs(120, 20, 4);

/** The widths [20, 16, 12, 4] written as a layer list. */
function mlpList(connectivity: number[], bias: boolean[]): ModelOptions["layers"] {
  const outputs = [16, 12, 4];
  return outputs.flatMap((n, l) => [
    { kind: "sparse_linear", outputs: n, connectivity: connectivity[l], bias: bias[l] },
    l < 2 ? { kind: "relu" } : { kind: "softmax_cross_entropy" },
  ]);
}

describe("a layer list", () => {
  it("of the widths form's network trains to the same bits, with momentum and biases", async () => {
    const fit = { epochs: 2, lr: 0.2, batchSize: 7, noise: 1e-2, momentum: 0.5 };
    const widths = Model.create({ layers: [20, 16, 12, 4], connectivity: [0.2, 0.3, 0.5], bias: true, seed: 21 });
    const list = Model.create({ layers: mlpList([0.2, 0.3, 0.5], [true, true, true]), inputShape: [20], seed: 21 });
    expect(list.options.budgets).toEqual(widths.options.budgets);
    await widths.fit(data, fit);
    await list.fit(data, fit);
    const [a, b] = [await widths.exportLayers(), await list.exportLayers()];
    expect(Object.keys(storeValues(a))).toContain("0.bias.velocity");
    expect(storeValues(b)).toEqual(storeValues(a));
    widths.dispose();
    list.dispose();
  });

  it("keeps the flat fields of a sparse_linear layer as the same arrays as its stores", async () => {
    const model = Model.create({ layers: mlpList([0.2, 0.3, 0.5], [true, false, true]), inputShape: [20], seed: 3 });
    await model.fit(data, { epochs: 1, momentum: 0.5 });
    const [first, second] = await model.exportLayers();
    expect(first.theta).toBe(first.stores.weight.theta);
    expect(first.velocity).toBe(first.stores.weight.velocity);
    expect(first.bias).toBe(first.stores.bias.value);
    expect(first.biasVelocity).toBe(first.stores.bias.velocity);
    expect(Object.keys(second.stores)).toEqual(["weight"]);
    model.dispose();
  });

  it("reads a sample shape of any rank flattened, and predicts for samples of that shape", async () => {
    const model = Model.create({
      layers: [{ kind: "sparse_linear", outputs: 3, connectivity: 0.5 }, { kind: "softmax_cross_entropy" }],
      inputShape: [2, 2, 5],
      seed: 4,
    });
    expect(model.layers().map((l) => [l.inputs, l.outputs, l.budget])).toEqual([[20, 3, 30]]);
    const probabilities = await model.predict(new Float32Array(2 * 20).fill(0.5));
    expect(probabilities.length).toBe(2 * 3);
    for (let n = 0; n < 2; n++) expect(probabilities[3 * n] + probabilities[3 * n + 1] + probabilities[3 * n + 2]).toBeCloseTo(1, 6);
    model.dispose();
  });

  it("refuses a bad spec with a TypeError or RangeError naming the field and what is allowed", () => {
    const head = { kind: "softmax_cross_entropy" };
    const linear = (fields: Record<string, unknown>) => ({ kind: "sparse_linear", outputs: 4, connectivity: 0.5, ...fields });
    const cases: [unknown, typeof TypeError | typeof RangeError, string][] = [
      [[], RangeError, 'options.layers must list at least a loss head, e.g. [{ kind: "sparse_linear", outputs: 10, connectivity: 0.1 }, { kind: "softmax_cross_entropy" }]'],
      [[{ kind: "conv" }, head], RangeError, 'options.layers[0].kind must be one of "sparse_linear", "relu", "softmax_cross_entropy", "sparse_conv2d", "dense_conv2d", "max_pool2d", "sparse_lstm", "dense_linear", "mean_squared_error", got "conv"'],
      [[linear({}), "relu", head], TypeError, 'options.layers[1] must be an object, got "relu"'],
      [[linear({ outputs: 0 }), head], RangeError, "options.layers[0].outputs must be an integer in [1, 2147483647], got 0"],
      [[linear({ outputs: "4" }), head], TypeError, 'options.layers[0].outputs must be a number, got "4"'],
      [[linear({ connectivity: undefined }), head], TypeError, "options.layers[0].connectivity is required: the fraction of the 6 x 4 connections kept active, in (0, 1]"],
      [[linear({ connectivity: 1.5 }), head], RangeError, "options.layers[0].connectivity must be a finite number in (0, 1], got 1.5"],
      [[linear({ connectivity: 0.01 }), head], RangeError, `options.layers[0].connectivity = 0.01 leaves no connection in the 6 x 4 layer; it needs at least ${1 / 24}`],
      [[linear({ bias: 1 }), head], TypeError, "options.layers[0].bias must be true or false, got 1"],
      [[linear({ width: 4 }), head], TypeError, "options.layers[0].width is not an option of a sparse_linear layer; the options are kind, outputs, connectivity, bias"],
      [[linear({}), { kind: "relu", slope: 0.1 }, head], TypeError, "options.layers[1].slope is not an option of a relu layer; the options are kind"],
      [[linear({}), { kind: "relu" }], RangeError, "options.layers[1] is a relu layer, but the last layer must be a loss head (softmax_cross_entropy, mean_squared_error)"],
      [[head, linear({})], RangeError, "options.layers[0] is a softmax_cross_entropy loss head, which must be the last layer"],
      [[linear({ outputs: 1 }), head], RangeError, "options.layers[1] (softmax_cross_entropy) needs one logit per class, at least 2, as its input; the layer before it outputs [1]"],
    ];
    for (const [layers, type, message] of cases) throwsExactly(() => Model.create({ layers, inputShape: [6] } as ModelOptions), type, message);
    // What only the core checks, named as the options name it.
    throwsExactly(() => Model.create({ layers: [{ kind: "relu" }, linear({}), head], inputShape: [6] }), RangeError,
      "options.layers[0] (relu): a relu needs a layer below it");
    throwsExactly(() => Model.create({ layers: [head], inputShape: [3] }), RangeError, "options.layers: a network needs at least one layer and a loss head");
    const list = [linear({}), head] as ModelOptions["layers"];
    throwsExactly(() => Model.create({ layers: list }), TypeError, "options.inputShape is required with a layer list: the shape of one sample, e.g. [784]");
    throwsExactly(() => Model.create({ layers: list, inputShape: [6, 0] }), RangeError, "options.inputShape[1] must be an integer in [1, 2147483647], got 0");
    throwsExactly(() => Model.create({ layers: list, inputShape: [6], connectivity: 0.5 }), TypeError,
      "options.connectivity goes with layer widths; with a layer list, give each layer its own connectivity");
    throwsExactly(() => Model.create({ layers: [6, 4], connectivity: 0.5, inputShape: [6] }), TypeError,
      "options.inputShape goes with a list of layer specs; with widths, layers[0] is the input width");
  });
});

describe("a layer list's state per store", () => {
  it("round-trips through a checkpoint with its input shape, and resumes exactly", async () => {
    const options: ModelOptions = { layers: mlpList([0.25, 0.4, 0.5], [false, true, false]), inputShape: [4, 5], budget: "global", seed: 9 };
    const fit = { batchSize: 10, lr: 0.3, noise: 1e-2, momentum: 0.5 };
    const straight = Model.create(options);
    await straight.fit(data, { ...fit, epochs: 3 });

    const first = Model.create(options);
    await first.fit(data, { ...fit, epochs: 1 });
    const path = join(dir, "list.safetensors");
    await first.save(path);
    const { metadata, tensors } = decodeSafetensors(await readFile(path));
    expect(JSON.parse(metadata["deepr.inputShape"])).toEqual([4, 5]);
    // Each store's fields are the tensors layers.{l}.{store}.{field}, l the layer's graph index.
    const names = [...tensors.keys()].sort();
    expect(names).toEqual(Object.keys(storeValues(await first.exportLayers())).map((name) => {
      const [l, store, field] = name.split(".");
      return `layers.${2 * Number(l)}.${store}.${field}`;
    }).sort());
    expect(names).toContain("layers.2.bias.velocity");
    expect(names).not.toContain("layers.0.bias.value");

    const loaded = await Model.load(path);
    expect(loaded.options).toEqual(first.options);
    expect(storeValues(await loaded.exportLayers())).toEqual(storeValues(await first.exportLayers()));
    await loaded.fit(data, { epochs: 3 });
    expect(storeValues(await loaded.exportLayers())).toEqual(storeValues(await straight.exportLayers()));
    for (const model of [straight, first, loaded]) model.dispose();
  });

  it("imports what exportLayers() gave, store by store, into another model", async () => {
    const options: ModelOptions = { layers: mlpList([0.3, 0.3, 0.5], [true, false, true]), inputShape: [20], seed: 10 };
    const trained = Model.create(options);
    await trained.fit(data, { epochs: 1, lr: 0.2 });
    // The signs are fixed by the seed: a model of the same seed, not yet trained.
    const copy = Model.create(options);
    await copy.importLayers((await trained.exportLayers()).map(({ stores }) => ({ stores })), trained.progress.step);
    expect(storeValues(await copy.exportLayers())).toEqual(storeValues(await trained.exportLayers()));
    expect(Array.from(await copy.predict(data.inputs))).toEqual(Array.from(await trained.predict(data.inputs)));
    trained.dispose();
    copy.dispose();
  });
});

describe("the rule and optimizer options", () => {
  it("default to deep-r and to the optimiser momentum implies, and are resolved by name", async () => {
    const model = Model.create({ layers: [20, 8, 4], connectivity: 0.5, seed: 2 });
    expect(model.options.rule).toBe("deep-r");
    await model.fit(data, { epochs: 1, optimizer: "sgd" });
    expect((await model.exportLayers())[0].velocity).toBeUndefined();
    await model.fit(data, { epochs: 2, optimizer: "momentum", momentum: 0.9 });
    expect((await model.exportLayers())[0].stores.weight.velocity).toBeInstanceOf(Float32Array);
    model.dispose();
  });

  it("name the known rules and optimisers when given another, and refuse an optimiser that contradicts momentum", async () => {
    throwsExactly(() => Model.create({ layers: [20, 4], connectivity: 0.5, rule: "rigl" as "deep-r" }), RangeError,
      'options.rule must be one of "deep-r", "dense", "fixed", "prune", "l1", "soft-deep-r", got "rigl"');
    const model = Model.create({ layers: [20, 4], connectivity: 0.5 });
    await expect(model.fit(data, { optimizer: "adagrad" as "sgd" })).rejects.toThrow(new RangeError('options.optimizer must be one of "sgd", "momentum", "adam", got "adagrad"'));
    await expect(model.fit(data, { optimizer: "sgd", momentum: 0.9 })).rejects.toThrow(
      new RangeError('options.optimizer "sgd" keeps no velocity, but options.momentum is 0.9; give optimizer "momentum" or leave it out'),
    );
    await expect(model.fit(data, { optimizer: "momentum" })).rejects.toThrow(new RangeError('options.optimizer "momentum" needs options.momentum > 0, e.g. 0.9'));
    expect(model.progress.step).toBe(0);
    model.dispose();
  });
});

describe("the README's layer list", () => {
  it("is the default MNIST network: the same budgets and the same graph as its widths", async () => {
    const readme = await readFile(join(import.meta.dirname, "..", "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("### Layer lists"));
    const document = JSON.parse(/```json\n([\s\S]*?)```/.exec(section)![1]) as Pick<ModelOptions, "layers" | "inputShape">;
    const list = Model.create(document);
    const widths = Model.create({ layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3] });
    expect(list.options.budgets).toEqual([2352, 900, 300]);
    expect(graphOf(list.options, "sgd")).toEqual(graphOf(widths.options, "sgd"));
    list.dispose();
    widths.dispose();
  });
});
