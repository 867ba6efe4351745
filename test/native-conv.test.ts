// The convolution kinds through the addon: a NativeNetwork built from a layer list with
// sparse_conv2d, max_pool2d and dense_conv2d trains with the strict bound checked after every
// step, and its state exported and imported into a fresh network resumes bit for bit.
import { describe, expect, it } from "vitest";
import type { NativeLayerState, NativeNetwork, NativeSpec } from "../lib/native.js";
import { disposedAfterEach } from "./helpers/native.js";

const side = 8, classes = 3, samples = 48, batchSize = 8;
const spec: NativeSpec = {
  seed: 12,
  layers: [
    { kind: "sparse_conv2d", in_channels: 1, height: side, width: side, out_channels: 4, kernel_height: 3, kernel_width: 3, stride: 1, padding: 1, budget: 18, bias: true },
    { kind: "relu" },
    { kind: "max_pool2d", channels: 4, height: side, width: side, kernel_height: 2, kernel_width: 2, stride: 2 },
    { kind: "dense_conv2d", in_channels: 4, height: 4, width: 4, out_channels: 3, kernel_height: 3, kernel_width: 3, stride: 2, padding: 1, bias: true },
    { kind: "relu" },
    { kind: "sparse_linear", inputs: 12, outputs: classes, budget: 20, bias: true },
    { kind: "softmax_cross_entropy" },
  ],
  rule: { optimiser: "momentum", prior: "deep-r", structure: "deep-r", budget: "global", globalShare: "budget" },
};
// Dense store sizes per layer (weight, bias), from the spec: 3 x 4 x 3 x 3 kernel weights.
const denseSizes: Record<number, Record<string, number>> = { 0: { bias: 4 }, 3: { weight: 108, bias: 3 }, 5: { bias: classes } };
const hyper = { lr: 0.05, momentum: 0.9, alpha: 0.02, noiseStd: 0.003 };

// Images with a bright square whose place depends on the class, and noise (a fixed formula).
const labels = Int32Array.from({ length: samples }, (_, s) => (s * 7) % classes);
const inputs = Float32Array.from({ length: samples * side * side }, (_, n) => {
  const s = Math.floor(n / (side * side)), y = Math.floor((n % (side * side)) / side), x = n % side;
  const c = labels[s], inside = y >= 2 * c && y < 2 * c + 3 && x >= c && x < c + 3;
  return (inside ? 1 : 0) + 0.2 * Math.sin(n * 12.9898);
});

const build = disposedAfterEach();
const network = () => build(spec);

/** Every store of every layer, as exportState fills it. */
function exported(net: NativeNetwork): Promise<NativeLayerState[]> {
  const active = net.info().layers.map((l) => l.active);
  let sparse = 0;
  const state: NativeLayerState[] = spec.layers.map((layer, l) => {
    const stores: NativeLayerState = {};
    if (layer.kind === "sparse_conv2d" || layer.kind === "sparse_linear") {
      const k = active[sparse++];
      stores.weight = { positions: new Int32Array(2 * k), theta: new Float32Array(k), sign: new Int8Array(k), velocity: new Float32Array(k) };
    }
    for (const [name, size] of Object.entries(denseSizes[l] ?? {})) stores[name] = { value: new Float32Array(size), velocity: new Float32Array(size) };
    return stores;
  });
  return net.exportState(state).then(() => state);
}

const train = (net: NativeNetwork, firstBatch: number, batches: number) =>
  net.train(inputs, labels, 0, firstBatch, batches, batchSize, hyper, true);

describe("a convolutional NativeNetwork", () => {
  it("trains with rewiring and the strict bound checked after every step", async () => {
    const net = network();
    const result = await train(net, 0, 6);
    expect(result.step).toBe(6);
    expect(result.rewired.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(net.info().layers.map((l) => [l.inputs, l.outputs])).toEqual([[9, 4], [12, classes]]);  // kernel entries x out channels
    expect(await net.check()).toBe("");
  });

  it("resumes bit for bit from an exported state", async () => {
    const straight = network();
    await train(straight, 0, 3);
    const halfway = await exported(straight);
    await train(straight, 3, 3);

    const resumed = network();
    await resumed.importState(halfway, 3);
    await train(resumed, 3, 3);
    const [a, b] = [await exported(straight), await exported(resumed)];
    const names: string[] = [];
    a.forEach((stores, l) => {
      for (const [store, fields] of Object.entries(stores))
        for (const [field, values] of Object.entries(fields)) {
          names.push(`${l}.${store}.${field}`);
          expect(Buffer.from(b[l][store][field]!.buffer), `layers.${l}.${store}.${field}`).toEqual(Buffer.from(values!.buffer));
        }
    });
    expect(names).toContain("3.weight.velocity");
    // The training moved the state: the halfway export differs from the final one.
    expect(Array.from(halfway[3].weight.value!)).not.toEqual(Array.from(a[3].weight.value!));
    const [pa, pb] = [new Float32Array(samples * classes), new Float32Array(samples * classes)];
    await straight.predict(inputs, pa);
    await resumed.predict(inputs, pb);
    expect(Array.from(pb)).toEqual(Array.from(pa));
  });
});
