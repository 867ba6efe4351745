// Memory lifetimes, run with --expose-gc in a child so that resident memory is this test's alone.
//
//   node --expose-gc lifetime.mjs gc | cycles | steps | dropped-arrays
//
// Prints one JSON line with resident-set sizes in MiB: {before, after, peak, ...}.
import { Model } from "../../dist/index.js";
import { native } from "../../dist/native.js";

const MiB = 2 ** 20;
const rss = () => process.memoryUsage().rss / MiB;
const settle = async () => {
  // Finalizers of collected wrappers run after the collection; give them a turn, twice.
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((r) => setImmediate(r));
  }
};

function data(count, features, classes) {
  const inputs = new Float32Array(count * features), labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = n % classes;
    for (let i = 0; i < features; i++) inputs[n * features + i] = ((n * 13 + i * 7) % 11) / 11 + (i % classes === labels[n] ? 0.5 : 0);
  }
  return { inputs, labels, count, features, classes };
}

const mode = process.argv[2];
const out = { mode };

if (mode === "gc") {
  // Models that are never disposed: 150 of about 8 MiB of native memory each. Unless the garbage
  // collector frees their native memory, this grows by more than a gigabyte.
  const spec = { layers: [1000, 600, 10], connectivity: [0.5, 0.5], bias: true };
  await settle();
  out.before = rss();
  out.peak = 0;
  for (let i = 0; i < 150; i++) {
    const model = Model.create({ ...spec, seed: i });
    if (i === 0) out.perModel = model.layers().reduce((s, l) => s + l.active, 0);
    if (i % 10 === 9) await settle();
    out.peak = Math.max(out.peak, rss());
  }
  await settle();
  out.after = rss();
} else if (mode === "cycles") {
  // 1000 create / train / dispose cycles.
  const d = data(64, 20, 4);
  const cycle = async (seed) => {
    const model = Model.create({ layers: [20, 16, 4], connectivity: 0.5, bias: true, seed });
    await model.fit(d, { epochs: 1, batchSize: 8, lr: 0.1, momentum: 0.5 });
    await model.evaluate(d);
    model.dispose();
  };
  for (let i = 0; i < 50; i++) await cycle(i); // warm up: JIT, allocator pools
  await settle();
  out.before = rss();
  for (let i = 0; i < Number(process.env.CYCLES ?? 1000); i++) await cycle(i);
  await settle();
  out.after = rss();
  out.cycles = 1000;
} else if (mode === "steps") {
  // 10 000 training steps (batch size 1) on one model, with checkpoints of its state in between.
  const d = data(1000, 64, 10);
  const model = Model.create({ layers: [64, 128, 10], connectivity: 0.3, bias: true, seed: 1 });
  await model.fit(d, { epochs: 1, batchSize: 1, lr: 0.05, momentum: 0.9, noise: 1e-3 }); // warm up
  await settle();
  out.before = rss();
  await model.fit(d, { epochs: 11, batchSize: 1, lr: 0.05, momentum: 0.9, noise: 1e-3 });
  out.steps = model.progress.step - 1000;
  await settle();
  out.after = rss();
  model.dispose();
} else if (mode === "dropped-arrays") {
  // The caller drops the arrays it handed to exportState() while the worker fills them: the addon
  // must keep them alive itself (this was a use-after-free). 40 rounds with a collection each.
  const N = native().NativeNetwork;
  const net = new N({
    seed: 1,
    layers: [
      { kind: "sparse_linear", inputs: 1000, outputs: 500, budget: 100000, bias: true },
      { kind: "relu" },
      { kind: "sparse_linear", inputs: 500, outputs: 10, budget: 5000, bias: true },
      { kind: "softmax_cross_entropy" },
    ],
    rule: { optimiser: "momentum", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" },
  });
  // Per network layer (relu and head have none), per store, per field.
  const layers = () => net.info().layers.flatMap((l) => [
    {
      weight: { positions: new Int32Array(2 * l.active), theta: new Float32Array(l.active), sign: new Int8Array(l.active), velocity: new Float32Array(l.active) },
      bias: { value: new Float32Array(l.outputs), velocity: new Float32Array(l.outputs) },
    },
    {},
  ]);
  const reference = layers();
  await net.exportState(reference);
  let mismatches = 0;
  for (let round = 0; round < 40; round++) {
    const given = layers();
    const kept = given.map((l) => ({ ...l.weight }));
    const pending = net.exportState(given);
    for (const l of given) for (const store of Object.values(l)) for (const key of Object.keys(store)) store[key] = null;
    globalThis.gc();
    await pending;
    kept.forEach((l, n) => {
      if (l.theta && l.theta.some((v, k) => v !== reference[n].weight.theta[k])) mismatches++;
    });
  }
  net.dispose();
  out.mismatches = mismatches;
}

process.stdout.write(JSON.stringify(out) + "\n");
