// The addon moves a network's state per layer, store and field under the names of checkpoint
// format 2's tensors, `layers.{l}.{store}.{field}` (lib/checkpoint/graph.ts): an export through the
// addon, laid out by the graph's own field lists, holds exactly the tensors format 2 writes for the
// same state, and an import refuses a state that lacks a store the layer has.
import { describe, expect, it } from "vitest";
import type { CheckpointState } from "../lib/checkpoint/checkpoint-state.js";
import { format2Tensors } from "../lib/checkpoint/format-2.js";
import { graphOf } from "../lib/checkpoint/graph.js";
import { Model } from "../lib/model.js";
import { buildNetwork, importState } from "../lib/model-state.js";
import type { NativeLayerState, NativeNetwork } from "../lib/native.js";
import type { OptimizerName } from "../lib/rules/optimiser.js";
import { blobs } from "./helpers/synthetic.js";
import { disposables } from "./helpers/disposables.js";

const data = blobs(60, 12, 3, 2);
const disposable = disposables<{ dispose(): void }>();

/** Arrays for every field of every store of the graph, in the graph's layout, sized from the network. */
function graphArrays(network: NativeNetwork, model: Model, optimizer: OptimizerName): NativeLayerState[] {
  const active = network.info().layers.map((l) => l.active);
  let sparse = 0;
  return graphOf(model.options, optimizer).map((layer) => {
    if (layer.kind !== "sparse_linear") return {};
    const k = active[sparse++];
    const state: NativeLayerState = {};
    for (const [name, store] of Object.entries(layer.stores)) {
      const size = store.kind === "sparse" ? k : layer.outputs;
      state[name] = Object.fromEntries(
        store.fields.map((field) => [field, field === "positions" ? new Int32Array(2 * size) : field === "sign" ? new Int8Array(size) : new Float32Array(size)]),
      );
    }
    return state;
  });
}

describe("the addon's state layout", () => {
  for (const optimizer of ["sgd", "momentum", "adam"] as const)
    it(`is checkpoint format 2's tensors, field for field, with ${optimizer}`, async () => {
      const model = Model.create({ layers: [12, 8, 6, 3], connectivity: [0.3, 0.4, 0.5], bias: true, seed: 5 });
      disposable.push(model);
      await model.fit(data, { epochs: 1, batchSize: 6, lr: 0.1, noise: 1e-2, optimizer, momentum: optimizer === "momentum" ? 0.5 : 0 });
      const layers = await model.exportLayers();
      const network = buildNetwork(model.options, optimizer);
      disposable.push(network);
      await importState(network, model.options, layers, model.progress.step);

      const exported = graphArrays(network, model, optimizer);
      await network.exportState(exported);
      const tensors = format2Tensors({ options: model.options, layers } as CheckpointState);
      const names: string[] = [];
      exported.forEach((stores, l) => {
        for (const [store, fields] of Object.entries(stores))
          for (const [field, values] of Object.entries(fields)) {
            const name = `layers.${l}.${store}.${field}`;
            names.push(name);
            expect(Array.from(values!), name).toEqual(Array.from(tensors[name].data));
          }
      });
      expect(names.sort()).toEqual(Object.keys(tensors).sort());
      expect(names.some((n) => n.endsWith(".velocity"))).toBe(optimizer === "momentum");
      expect(names.filter((n) => n.endsWith(".m") || n.endsWith(".v")).length).toBe(optimizer === "adam" ? 12 : 0);
    });

  it("refuses a state without a store of the layer, naming it", async () => {
    const model = Model.create({ layers: [12, 8, 3], connectivity: 0.5, bias: true, seed: 6 });
    disposable.push(model);
    const network = buildNetwork(model.options, "sgd");
    disposable.push(network);
    const state = graphArrays(network, model, "sgd");
    await network.exportState(state);
    delete state[2].bias;
    expect(() => network.importState(state, 0)).toThrow(/^layers\[2\]\.bias must be an object$/);  // arguments are checked before the promise
    // Through lib, the same error names the caller's per-layer arrays: a sparse_linear layer's flat
    // arrays by their names, a layer's stores by store and field.
    const layers = await model.exportLayers();
    const { stores, ...flat } = layers[1];
    await expect(importState(network, model.options, [layers[0], { ...flat, theta: new Float32Array(2) }], 0)).rejects.toThrow(
      /^layers\[1\]\.positions must have 4 elements, got \d+$/,
    );
    const shortWeight = { ...stores, weight: { ...stores.weight, theta: new Float32Array(2) } };
    await expect(importState(network, model.options, [layers[0], { stores: shortWeight }], 0)).rejects.toThrow(
      /^layers\[1\]\.stores\.weight\.positions must have 4 elements, got \d+$/,
    );
  });
});
