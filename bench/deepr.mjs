// deepr timed through its addon directly (as lib/fit-loop.ts drives it), one process per call so
// that DEEPR_THREADS applies from the start and peak RSS belongs to one case.
//
//   node bench/deepr.mjs '{"mode":"mlp","cases":[{"name","sizes","connectivity","batch","hyper"?}]}'
//   node bench/deepr.mjs '{"mode":"layer","inputs":100000,"outputs":100000,"connectivity":0.001,"batch":32}'
//   node bench/deepr.mjs '{"mode":"sweep","inputs":10000,"outputs":10000,"ks":[1e4,...],"batch":32}'
//   node bench/deepr.mjs '{"mode":"network","features":784,"classes":10,"cases":[{"name","layers","rule","batch"}]}'
//
// A full step is forward + backward + DEEP R update + rewiring (one step of net.train). Steps run
// in calls of `chunk` steps; the per-step time of a call is its wall time / its steps, and the
// figure is the median over calls after the warm-up. Prints one JSON object on the last line.
import { budgetsOf, HYPER, loadAddon, median, quantile, syntheticData } from "./common.mjs";

const mib = (bytes) => +(bytes / 2 ** 20).toFixed(1);
const peakRss = () => process.resourceUsage().maxRSS * 1024;

/** Keeps the position in the epoch so calls never cross its end. */
class Feeder {
  constructor(data, batch) {
    this.data = data;
    this.batch = batch;
    this.perEpoch = Math.ceil(data.count / batch);
    this.epoch = 0;
    this.first = 0;
  }
  async run(net, steps, hyper) {
    const count = Math.min(steps, this.perEpoch - this.first);
    const t0 = performance.now();
    const r = await net.train(this.data.inputs, this.data.labels, this.epoch, this.first, count, this.batch, hyper, false);
    const ms = performance.now() - t0;
    this.first += count;
    if (this.first >= this.perEpoch) {
      this.first = 0;
      this.epoch++;
    }
    return { count, ms, rewired: r.rewired.reduce((a, b) => a + b, 0), regrowthMs: r.regrowthSeconds * 1000, noiseMs: r.noiseSeconds * 1000, loss: r.loss[count - 1] };
  }
}

/**
 * Warm-up of at least `warmup` steps, then calls of `chunk` steps until at least `steps` steps
 * and `minMs` ms are timed (at most `maxSteps`). Returns per-step times (µs) per call and stats.
 */
async function timeSteps(net, feeder, hyper, { warmup, steps, minMs = 0, maxSteps = Infinity, chunk = 0, chunkMs = 5 }) {
  let done = 0, warmMs = 0;
  while (done < warmup) {
    const r = await feeder.run(net, Math.min(warmup - done, 10), hyper);
    done += r.count;
    warmMs += r.ms;
  }
  const estimate = warmMs / Math.max(done, 1); // ms per step
  const size = chunk > 0 ? chunk : Math.max(1, Math.min(200, Math.round(chunkMs / Math.max(estimate, 1e-3))));
  const perStep = [];
  let timed = 0, ms = 0, rewired = 0, regrowthMs = 0, noiseMs = 0, loss = NaN;
  while ((timed < steps || ms < minMs) && timed < maxSteps) {
    const r = await feeder.run(net, size, hyper);
    perStep.push((r.ms * 1000) / r.count);
    timed += r.count;
    ms += r.ms;
    rewired += r.rewired;
    regrowthMs += r.regrowthMs;
    noiseMs += r.noiseMs;
    loss = r.loss;
  }
  return {
    median_us: median(perStep),
    p10_us: quantile(perStep, 0.1),
    p90_us: quantile(perStep, 0.9),
    mean_us: (ms * 1000) / timed,
    steps: timed,
    calls: perStep.length,
    chunk: size,
    warmup: done,
    rewired_per_step: rewired / timed,
    // Regrowth and noise, timed inside the core (a clock read before and after each).
    regrowth_us: (regrowthMs * 1000) / timed,
    noise_us: (noiseMs * 1000) / timed,
    loss,
  };
}

function create(addon, sizes, connectivity, seed = 1) {
  const budgets = budgetsOf(sizes, connectivity);
  const t0 = performance.now();
  // sparse_linear layers with relu between them and a softmax cross-entropy head, trained with plain SGD.
  const layers = budgets.flatMap((budget, l) => [
    ...(l > 0 ? [{ kind: "relu" }] : []),
    { kind: "sparse_linear", inputs: sizes[l], outputs: sizes[l + 1], budget, bias: false },
  ]);
  const rule = { optimiser: "sgd", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" };
  const net = new addon.NativeNetwork({ seed, layers: [...layers, { kind: "softmax_cross_entropy" }], rule });
  return { net, budgets, createMs: performance.now() - t0 };
}

const spec = JSON.parse(process.argv[2] ?? "{}");
const addon = loadAddon();
const out = { mode: spec.mode, threadsEnv: process.env.DEEPR_THREADS ?? null, results: [] };

if (spec.mode === "mlp") {
  const samples = spec.samples ?? 4096;
  const data = syntheticData(samples, spec.cases[0].sizes[0], spec.cases[0].sizes.at(-1), 7);
  for (const c of spec.cases) {
    const { net, budgets } = create(addon, c.sizes, c.connectivity, c.seed ?? 1);
    const feeder = new Feeder(data, c.batch);
    const hyper = { ...HYPER, ...(c.hyper ?? {}) };
    const r = await timeSteps(net, feeder, hyper, {
      warmup: spec.warmup ?? 40,
      steps: spec.steps ?? 400,
      minMs: spec.minMs ?? 400,
      maxSteps: spec.maxSteps ?? 20000,
      chunk: spec.chunk ?? 20,
    });
    out.results.push({ ...c, hyper, budgets, K: budgets.reduce((a, b) => a + b, 0), ...r });
    net.dispose();
  }
} else if (spec.mode === "layer") {
  // One big layer, alone in its process: peak RSS is the case's.
  const sizes = [spec.inputs, spec.outputs];
  const samples = spec.samples ?? 2 * spec.batch;
  const data = syntheticData(samples, spec.inputs, spec.outputs, 7);
  const rssData = process.memoryUsage().rss;
  const peakBefore = peakRss();
  const { net, budgets, createMs } = create(addon, sizes, spec.connectivity);
  const rssCreated = process.memoryUsage().rss;
  const peakCreated = peakRss();
  const feeder = new Feeder(data, spec.batch);
  const r = await timeSteps(net, feeder, HYPER, { warmup: spec.warmup ?? 2, steps: spec.steps ?? 7, chunk: 1 });
  const rssTrained = process.memoryUsage().rss;
  const K = budgets[0];
  out.results.push({
    inputs: spec.inputs, outputs: spec.outputs, connectivity: spec.connectivity, batch: spec.batch, K, createMs, ...r,
    inputMiB: mib(data.inputs.byteLength + data.labels.byteLength),
    rssBeforeNetMiB: mib(rssData), peakBeforeNetMiB: mib(peakBefore), rssCreatedMiB: mib(rssCreated), peakAfterCreateMiB: mib(peakCreated), rssAfterStepsMiB: mib(rssTrained),
    peakRssMiB: mib(peakRss()),
    // Everything the network added to the process (parameters, indices, optimizer state,
    // activations and gradients of a batch), over K.
    bytesPerConnectionSteady: (rssTrained - rssData) / K,
    bytesPerConnectionPeak: (peakRss() - rssData) / K,
  });
  net.dispose();
} else if (spec.mode === "sweep") {
  const sizes = [spec.inputs, spec.outputs];
  const data = syntheticData(spec.samples ?? 1024, spec.inputs, spec.outputs, 7);
  for (const k of spec.ks) {
    const p = k / (spec.inputs * spec.outputs);
    const { net, budgets, createMs } = create(addon, sizes, p);
    const feeder = new Feeder(data, spec.batch);
    const r = await timeSteps(net, feeder, HYPER, {
      warmup: spec.warmup ?? 3,
      steps: spec.steps ?? 5,
      minMs: spec.minMs ?? 1000,
      maxSteps: spec.maxSteps ?? 2000,
      chunk: 0,
      chunkMs: 20,
    });
    out.results.push({ K: budgets[0], connectivity: p, createMs, ...r, ns_per_connection: (r.median_us * 1000) / budgets[0] });
    net.dispose();
  }
} else if (spec.mode === "network") {
  // Any layer list of the addon (bench/cnn.mjs, bench/lstm.mjs), each case with its own rule.
  const data = syntheticData(spec.samples ?? 1024, spec.features, spec.classes, 7);
  for (const c of spec.cases) {
    const net = new addon.NativeNetwork({ seed: c.seed ?? 1, layers: c.layers, rule: c.rule });
    const info = net.info();
    // Active connections of the sparse stores (dense kinds have none); the hyper-parameters the rule declares.
    const K = info.layers.reduce((sum, l) => sum + l.active, 0);
    const hyper = Object.fromEntries(info.hyper.map((name) => [name, HYPER[name]]));
    const r = await timeSteps(net, new Feeder(data, c.batch), hyper, {
      warmup: spec.warmup ?? 10,
      steps: spec.steps ?? 100,
      minMs: spec.minMs ?? 0,
      chunk: spec.chunk ?? 10,
    });
    out.results.push({ name: c.name, batch: c.batch, K, ...r });
    net.dispose();
  }
} else if (spec.mode === "overhead") {
  // Per-call cost of the addon: the same steps in calls of 1 step versus calls of `chunk`.
  const data = syntheticData(spec.samples ?? 4096, spec.sizes[0], spec.sizes.at(-1), 7);
  for (const chunk of [1, spec.chunk ?? 20]) {
    const { net } = create(addon, spec.sizes, spec.connectivity);
    // The same step count as the MLP cases: the churn, hence the step time, grows with training time.
    const r = await timeSteps(net, new Feeder(data, spec.batch), HYPER, { warmup: 40, steps: spec.steps ?? 1000, chunk });
    out.results.push({ chunk, ...r });
    net.dispose();
  }
} else {
  throw new Error(`unknown mode ${spec.mode}`);
}
out.peakRssMiB = mib(peakRss());
console.log(JSON.stringify(out));
