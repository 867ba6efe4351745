// The layer kinds' registry (lib/layers/): every kind a network is made of appears in the graph
// metadata, its stores' tensors in the checkpoint, its line in `deepr inspect` and its nodes in the
// ONNX export; a kind the registry does not hold is refused by name.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../lib/checkpoint/safetensors.js";
import { toOnnx } from "../lib/export/onnx.js";
import { findLayerKind, layerKindNames } from "../lib/layers/registry.js";
import { Model } from "../lib/model.js";
import { editedCopy, loadError, metadataJson, setJson } from "./helpers/checkpoint-files.js";
import { deepr } from "./helpers/cli.js";
import { all, decode, text } from "./helpers/protobuf-fields.js";
import { blobs } from "./helpers/synthetic.js";

let dir: string, path: string, model: Model;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-layer-registry-"));
  model = Model.create({ layers: [10, 6, 5, 3], connectivity: [0.3, 0.5, 1], bias: true, seed: 2 });
  await model.fit(blobs(30, 10, 3), { epochs: 1, batchSize: 5, momentum: 0.5 });
  path = join(dir, "model.safetensors");
  await model.save(path);
});
afterAll(async () => {
  model.dispose();
  await rm(dir, { recursive: true, force: true });
});

describe("the layer registry", () => {
  it("holds every kind the graph metadata of a model is made of, and refuses others by name", async () => {
    const file = decodeSafetensors(await readFile(path), path);
    const graph: { kind: string }[] = metadataJson(file, "deepr.graph");
    expect(layerKindNames).toEqual(expect.arrayContaining([...new Set(graph.map((l) => l.kind))]));
    for (const layer of graph) expect(findLayerKind(layer.kind)?.kind).toBe(layer.kind);
    expect(findLayerKind("conv3d")).toBeUndefined();
    const unknown = await editedCopy(path, join(dir, "lstm.safetensors"), (f) => setJson(f, "deepr.graph", (g) => ((g as unknown as { kind: string }[])[1] = { kind: "lstm" })));
    expect(await loadError(unknown)).toBe(`${unknown}: deepr.graph layer 1 has kind "lstm", which this deepr does not know (it knows ${layerKindNames.join(", ")})`);
  });

  it("names exactly the tensors the graph's stores declare: layers.{l}.{store}.{field}", async () => {
    const file = decodeSafetensors(await readFile(path), path);
    const graph: { stores?: Record<string, { fields: string[] }> }[] = metadataJson(file, "deepr.graph");
    const declared = graph.flatMap((layer, l) =>
      Object.entries(layer.stores ?? {}).flatMap(([store, { fields }]) => fields.map((f) => `layers.${l}.${store}.${f}`)),
    );
    expect(declared).toContain("layers.4.bias.velocity");
    expect([...file.tensors.keys()].sort()).toEqual(declared.sort());
  });

  it("gives each layer of the graph its line in deepr inspect, starting with its kind", async () => {
    const graph: { kind: string }[] = metadataJson(decodeSafetensors(await readFile(path), path), "deepr.graph");
    const r = await deepr(["inspect", path]);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("  layer "));
    expect(lines.map((l) => l.split(" ")[4].replace(";", ""))).toEqual(graph.map((l) => l.kind));
  });

  it("exports each layer as its ONNX nodes, in graph order", async () => {
    const graph = decode(all(decode(await toOnnx(model)), 7)[0]);
    const nodes = all(graph, 1).map(decode);
    const ops = nodes.map((n) => text(n.get(4)![0]));
    // sparse_linear: MatMul and Add (biases); relu: Relu; softmax_cross_entropy: Softmax of the logits.
    expect(ops).toEqual(["MatMul", "Add", "Relu", "MatMul", "Add", "Relu", "MatMul", "Add", "Softmax"]);
    expect(text(nodes[7].get(2)![0])).toBe("logits");
    expect(all(graph, 12).map((o) => text(decode(o).get(1)![0]))).toEqual(["probabilities", "logits"]);
  });
});
