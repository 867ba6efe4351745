// Fuzzes the API boundary: every method of the native NativeNetwork and the public TypeScript API
// with wrong types, wrong lengths, NaN and Infinity, zero, negative and huge sizes, undersized,
// shared, resizable and detached buffers, missing options, and calls that overlap in time.
//
//   node test/children/api-fuzz.mjs --seed 1 --calls 10000 --part native|ts --log /tmp/case.log --tmp DIR
//
// Every call must succeed or throw (or reject with) an Error whose message names a parameter, or
// says the model is disposed or busy, or (training) that a value was not finite. Anything else is
// recorded as a violation. A crash kills the process: the parent then reads the case log, which
// holds the call that was running. Prints one JSON line: {calls, violations, ...}. With
// --messages it also lists every distinct error message; FUZZ_DEBUG=<text> prints the stack of
// each error whose message contains <text>.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { parseArgs } from "node:util";
import {
  CaseLog, NUMERIC, STATE, anything, badNumber, badTyped, detached, flipping, namesOne, oddValid, rng, show, throwingProxy,
} from "./fuzz-util.mjs";
import { layeredNetwork, layeredStateArrays, randomRule as randomLayeredRule, spoilLayered, spoilRule, spoilStateArrays } from "./fuzz-networks.mjs";

const { values: opts } = parseArgs({
  options: {
    seed: { type: "string", default: "1" },
    calls: { type: "string", default: "10000" },
    part: { type: "string", default: "native" },
    log: { type: "string" },
    tmp: { type: "string" },
    addon: { type: "string" },
    messages: { type: "boolean", default: false },
  },
});
const seed = Number(opts.seed);
const perFunction = Number(opts.calls);
const r = rng(seed);
const log = new CaseLog(opts.log);
const violations = [];
const counts = new Map();
let caseNo = 0;
let lastProgress = Date.now();

// A hang shows up as a case that never settles while the event loop idles.
const watchdog = setInterval(() => {
  if (Date.now() - lastProgress > 20_000) {
    process.stderr.write(`fuzz: case ${caseNo} has not settled for 20 s: a hang\n`);
    process.exit(3);
  }
}, 1000);
watchdog.unref();

function violation(desc, what) {
  if (violations.length < 50) violations.push({ case: desc, problem: what });
  else violations.length++;
}

/**
 * Runs one case. `names`: the words that count as naming a parameter. `valid`: no argument was
 * spoiled, so only a state or numeric error is acceptable.
 */
async function attempt(fn, args, invoke, names, o = {}) {
  caseNo++;
  lastProgress = Date.now();
  counts.set(fn, (counts.get(fn) ?? 0) + 1);
  const desc = `#${caseNo} ${fn}(${args.map((a) => show(a)).join(", ")})${o.note ? ` [${o.note}]` : ""}`;
  log.write(desc);
  try {
    let value = invoke();
    if (value && typeof value.then === "function") value = await value;
    if (o.check) {
      const problem = o.check(value);
      if (problem) violation(desc, problem);
    }
    return { ok: true, value };
  } catch (e) {
    judge(e, desc, names, o);
    return { ok: false, error: e };
  }
}

const messages = new Map(); // with --messages: the distinct error messages seen, per function
function judge(e, desc, names, o) {
  if (!(e instanceof Error)) return violation(desc, `threw a non-Error: ${show(e)}`);
  const m = String(e.message);
  if (opts.messages) {
    const fn = desc.split(" ")[1].split("(")[0];
    const key = `${fn}: ${e.name}: ${m.replace(/\d+(\.\d+)?(e[+-]?\d+)?/g, "N").replace(/\/tmp\/\S+/g, "PATH").slice(0, 160)}`;
    messages.set(key, (messages.get(key) ?? 0) + 1);
  }
  if (process.env.FUZZ_DEBUG && m.includes(process.env.FUZZ_DEBUG)) process.stderr.write(`${desc}\n${e.stack}\n`);
  if (m === "fuzz: trap" || m === "fuzz: aborted") return; // the caller's own proxy or abort reason, passed through unchanged
  if (STATE.test(m)) return;
  if (o.errorType && !o.errorType(e)) return violation(desc, `threw ${e.name} (${m}), not the documented error type`);
  if (o.numericOk && NUMERIC.test(m)) return;
  if (o.abortOk && (e.name === "TimeoutError" || e.name === "AbortError")) return;
  if (o.valid) return violation(desc, `a valid call failed: ${e.name}: ${m}`);
  if (!namesOne(m, names)) violation(desc, `the error does not name a parameter: ${e.name}: ${m}`);
}

const done = (fns) => fns.every((f) => (counts.get(f) ?? 0) >= perFunction);

function randomInputs(n, features) {
  const a = new Float32Array(n * features);
  for (let i = 0; i < a.length; i++) a[i] = r.next();
  return a;
}

// ---- the native addon -------------------------------------------------------------------------

async function fuzzNative(addon) {
  const N = addon.NativeNetwork;
  // {net, sizes, budgets, hyper, global, tainted, disposed}; a network of fuzz-networks.mjs also has
  // `layered` (its drawn shape: sizes are then [features, outputs]) and `rule` (the rule it trains with).
  const nets = [];
  const FNS = ["new NativeNetwork", "info", "train", "evaluate", "predict", "exportState", "importState", "check", "setRule", "dispose"];

  // The spec of an MLP of `sizes` and `budgets` as the addon takes it: a layer list and a rule.
  function mlpSpec({ sizes, budgets, bias, momentum, globalBudget, share, seed }) {
    const layers = [];
    budgets.forEach((budget, l) => {
      if (l > 0) layers.push({ kind: "relu" });
      layers.push({ kind: "sparse_linear", inputs: sizes[l], outputs: sizes[l + 1], budget, bias });
    });
    layers.push({ kind: "softmax_cross_entropy" });
    return { seed, layers, rule: randomRule(momentum, globalBudget, share) };
  }

  const randomRule = (momentum, global, share) => ({
    optimiser: momentum ? "momentum" : "sgd", prior: "deep-r", structure: "deep-r", budget: global ? "global" : "layer", globalShare: share ? "dormant" : "budget",
  });

  function validSpec() {
    const depth = r.int(2, 4);
    const sizes = Array.from({ length: depth }, () => r.int(1, 12));
    sizes[depth - 1] = r.int(2, 8);
    // A huge but valid input width: the network stores O(K + outputs), so this is cheap.
    if (r.chance(0.03)) sizes[0] = 2 ** 31 - 1;
    const budgets = sizes.slice(1).map((out, l) => r.int(1, Math.min(sizes[l] * out, 60)));
    // Now and then a larger one, so that operations last long enough to overlap with the garbage collector.
    if (r.chance(0.004)) return mlpSpec({ sizes: [400, 300, 10], budgets: [60000, 1500], bias: true, momentum: true, globalBudget: false, share: 0, seed: r.int(0, 1e6) });
    return mlpSpec({
      sizes, budgets, bias: r.chance(0.5), momentum: r.chance(0.5), globalBudget: r.chance(0.3), share: r.int(0, 1),
      seed: r.chance(0.05) ? 2 ** 53 - 1 : r.int(0, 1e6),
    });
  }

  // Never a valid spec with a huge hidden or output width: that costs O(width) memory by design.
  const badWidth = () => r.pick([0, -1, 1.5, NaN, Infinity, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, "4", null, undefined]);
  const badName = () => r.pick(["rmsprop", "", "SGD", 1, null, undefined, {}, throwingProxy()]);

  function spoilSpec(spec) {
    const s = { ...spec, layers: spec.layers.map((l) => ({ ...l })), rule: { ...spec.rule } };
    const linear = s.layers.filter((l) => l.kind === "sparse_linear");
    const one = r.pick(linear);
    switch (r.int(0, 13)) {
      case 0: return anything(r);
      case 1: one[r.pick(["inputs", "outputs"])] = badWidth(); return s;
      case 2: s.layers = r.pick([[], [{ kind: "softmax_cross_entropy" }], 7, "3,4", null, { length: 2 }, throwingProxy(), [{ kind: "relu" }, { kind: "softmax_cross_entropy" }]]); return s;
      case 3: one.budget = r.pick([0, -1, 1.5, NaN, Infinity, 2 ** 31, 2 ** 32, 2 ** 53, 10 ** 6, "2", null]); return s;
      case 4: s.layers = r.chance(0.5) ? s.layers.slice(1) : [...s.layers, { kind: "relu" }]; return s;
      case 5: one.bias = r.pick([0, 1, "true", null, undefined, {}]); return s;
      case 6: s.rule[r.pick(["optimiser", "prior", "structure", "budget", "globalShare"])] = badName(); return s;
      case 7: s.seed = r.pick([-1, 2 ** 53, 2 ** 64, NaN, 1.5, "1", null, undefined, Infinity]); return s;
      case 8: if (r.chance(0.5)) delete s[r.pick(["layers", "rule", "seed"])]; else delete one[r.pick(["inputs", "outputs", "budget", "bias", "kind"])]; return s;
      case 9: return flipping(s, "layers", s.layers, r.pick([5, null, [{ kind: "relu" }]]));
      case 10: one.budget = one.inputs * one.outputs + 1; return s; // more connections than positions
      case 11: s.layers[0].inputs = 2 ** 31 - 1; s.layers[0].budget = 2 ** 31; return s; // 2^31 connections
      case 12: one[r.pick(["kind", "stride", "extra"])] = r.pick(["sparse_conv2d", 3, true, null, {}]); return s;
      default: linear.at(-1).outputs = 1; return s; // one class
    }
  }

  const live = () => nets.filter((e) => !e.disposed);

  async function construct() {
    const layered = r.chance(0.3) ? layeredNetwork(r) : undefined;
    const spec = layered?.spec ?? validSpec();
    const spoiled = r.chance(0.7);
    const arg = spoiled ? (layered ? spoilLayered(r, spec) : spoilSpec(spec)) : spec;
    const res = await attempt("new NativeNetwork", [arg], () => new N(arg), ["spec"], { valid: !spoiled });
    if (res.ok && layered && spoiled) { // a change the core allows (another head, padding 0): not the drawn shape
      await attempt("dispose", [], () => res.value.dispose(), [], { valid: true, note: "spoiled spec accepted" });
      return;
    }
    if (res.ok) {
      const info = res.value.info();
      nets.push({
        net: res.value, sizes: layered ? [layered.features, layered.outputs] : [info.layers[0].inputs, ...info.layers.map((l) => l.outputs)],
        budgets: info.layers.map((l) => l.budget), hyper: info.hyper, global: arg.rule.budget === "global", tainted: false, disposed: false,
        ...(layered ? { layered, rule: arg.rule } : {}),
      });
      if (live().length > 6) {
        const old = live()[0];
        await attempt("dispose", [], () => old.net.dispose(), [], { valid: true });
        old.disposed = true;
      }
      // Drop disposed and some live ones entirely: the garbage collector frees those.
      while (nets.length > 10) nets.shift();
    }
  }

  // Class labels, or with a mean_squared_error head, n x outputs target values.
  const targetsOf = (e, n) => (e.layered?.targets === "values"
    ? Float32Array.from({ length: n * e.sizes.at(-1) }, () => r.real(-1, 1))
    : Int32Array.from({ length: n }, () => r.int(0, e.sizes.at(-1) - 1)));

  function trainArgs(e) {
    const features = e.sizes[0], classes = e.sizes[e.sizes.length - 1];
    const n = r.int(1, 20);
    const inputs = features <= 64 ? randomInputs(n, features) : new Float32Array(r.int(0, 8));
    const labels = targetsOf(e, n);
    const batchSize = r.int(1, n + 1);
    const per = Math.ceil(n / batchSize);
    const first = r.int(0, per - 1);
    const values = {
      lr: 10 ** r.real(-3, -0.3), alpha: r.chance(0.5) ? 1e-5 : 0, noiseStd: r.real(0, 0.05), momentum: r.chance(0.5) ? r.real(0, 0.95) : 0,
      beta1: r.real(0, 0.99), beta2: r.real(0.9, 0.9999), epsilon: 10 ** r.real(-10, -4), weightDecay: r.chance(0.5) ? r.real(0, 0.01) : 0,
    };
    const hyper = Object.fromEntries(e.hyper.map((name) => [name, values[name]]));  // the names of the network's rule
    let note = "";
    if (r.chance(0.03)) { hyper.lr = 10 ** r.real(3, 30); note = "diverging lr"; }
    return { args: [inputs, labels, r.int(0, 3), first, r.int(1, per - first), batchSize, hyper, r.chance(0.3)], valid: features <= 64, note, n, per, features, classes, values: labels instanceof Float32Array };
  }

  function spoilData(args, i, n, features, classes, values = false) {
    if (features > 64) features = 1; // a huge input width: no such buffer can be made, any small one is wrong
    if (i === 0) {
      switch (r.int(0, 4)) {
        case 0: { const a = new Float32Array(args[0]); a[r.int(0, Math.max(0, a.length - 1))] = r.pick([NaN, Infinity, -Infinity, 3e38]); return a; }
        case 1: return oddValid(r, Float32Array, n * features, (a) => a.fill(0.5));
        case 2: { const buffer = new ArrayBuffer(Math.max(n * features, n) * 4); args[1] = new Int32Array(buffer, 0, n); return new Float32Array(buffer, 0, n * features); }
        default: return badTyped(r, Float32Array, n * features, (a) => a.fill(0.25));
      }
    }
    if (values) { // the targets of a mean_squared_error head: n x outputs floats
      switch (r.int(0, 3)) {
        case 0: { const a = Float32Array.from(args[1]); a[r.int(0, a.length - 1)] = r.pick([NaN, Infinity, -Infinity]); return a; }
        case 1: return oddValid(r, Float32Array, n * classes, (a) => a.fill(0.5));
        case 2: return Int32Array.from({ length: n }, () => 0); // labels for a head that takes values
        default: return badTyped(r, Float32Array, n * classes, (a) => a.fill(0.5));
      }
    }
    switch (r.int(0, 3)) {
      case 0: { const a = Int32Array.from(args[1]); a[r.int(0, a.length - 1)] = r.pick([-1, classes, 2 ** 31 - 1, -(2 ** 31)]); return a; }
      case 1: return oddValid(r, Int32Array, n, (a) => a.fill(0));
      default: return badTyped(r, Int32Array, n);
    }
  }

  async function train(e) {
    const t = trainArgs(e);
    const { args, n, per, features, classes, values } = t;
    let spoiled = false;
    if (r.chance(0.75)) {
      spoiled = true;
      const i = r.int(0, 8);
      if (i <= 1) args[i] = spoilData(args, i, n, features, classes, values);
      else if (i === 2) args[2] = badNumber(r);
      else if (i === 3) args[3] = r.chance(0.5) ? per : badNumber(r);
      else if (i === 4) args[4] = r.chance(0.5) ? per - args[3] + 1 : badNumber(r);
      else if (i === 5) args[5] = r.chance(0.3) ? 2 ** 20 + 1 : badNumber(r);
      else if (i === 6) {
        if (r.chance(0.3)) args[6] = anything(r);
        else {
          const h = { ...args[6] };
          const key = r.pick(["lr", "alpha", "noiseStd", "momentum"]);  // momentum is no name of an SGD rule
          if (r.chance(0.2)) delete h[key];
          else h[key] = r.chance(0.5) ? r.pick([NaN, Infinity, -1, 1e39, 1.5, -1e-9]) : badNumber(r);
          args[6] = h;
        }
      } else if (i === 7) args[7] = r.pick([0, 1, "yes", null, undefined]);
      else args.length = r.int(0, 7); // missing arguments
    }
    const names = ["inputs", "labels", "label", "targets", "epoch", "firstBatch", "batches", "batchSize", "hyper", "check"];
    const res = await attempt("train", args, () => e.net.train(...args), names, {
      valid: !spoiled && t.valid, numericOk: true, note: t.note,
      check: (v) => (v.loss instanceof Float32Array && v.loss.length === args[4] ? "" : `train resolved with ${show(v)}`),
    });
    if (!res.ok && /diverged|no longer finite/.test(String(res.error?.message))) e.tainted = true;
  }

  async function evaluate(e) {
    const features = e.sizes[0], classes = e.sizes[e.sizes.length - 1];
    const n = r.int(0, 30);
    const args = [features <= 64 ? randomInputs(n, features) : new Float32Array(3), targetsOf(e, n)];
    let spoiled = false;
    if (r.chance(0.7)) {
      spoiled = true;
      const i = r.int(0, 2);
      if (i < 2) args[i] = spoilData(args, i, n, features, classes, e.layered?.targets === "values");
      else args.length = r.int(0, 1);
    }
    await attempt("evaluate", args, () => e.net.evaluate(...args), ["inputs", "labels", "label", "targets"], { valid: !spoiled && features <= 64 && !e.tainted, numericOk: true });
  }

  async function predict(e) {
    const features = e.sizes[0], classes = e.sizes[e.sizes.length - 1];
    const n = r.int(0, 30);
    const args = [features <= 64 ? randomInputs(n, features) : new Float32Array(3), new Float32Array(n * classes)];
    if (n === 0) args[0] = new Float32Array(0); // no samples: refused
    let spoiled = false;
    if (r.chance(0.7)) {
      spoiled = true;
      switch (r.int(0, 4)) {
        case 0: args[0] = badTyped(r, Float32Array, features <= 64 ? n * features : 2); break;
        case 1: args[1] = badTyped(r, Float32Array, n * classes); break;
        case 2: args[1] = args[0]; spoiled = args[0].length !== n * classes; break; // the same buffer for both: allowed
        case 3: args[0] = oddValid(r, Float32Array, features <= 64 ? n * features : 2); args[1] = oddValid(r, Float32Array, n * classes); spoiled = features > 64; break;
        default: args.length = r.int(0, 1);
      }
    }
    await attempt("predict", args, () => e.net.predict(...args), ["inputs", "logits"], { valid: !spoiled && features <= 64 && n > 0 });
  }

  // Per-layer arrays in the addon's layout: sparse linear layer l is network layer 2l, its stores
  // weight and bias; the relu and the head between have none.
  function storesOf(layers) {
    if (!Array.isArray(layers)) return layers;
    const graph = Array.from({ length: 2 * layers.length }, () => ({}));
    layers.forEach((l, n) => {
      graph[2 * n] = l && typeof l === "object"
        ? { weight: { positions: l.positions, theta: l.theta, sign: l.sign, velocity: l.velocity }, bias: { value: l.bias, velocity: l.biasVelocity } }
        : l;
    });
    return graph;
  }

  function stateArrays(e, active) {
    return e.sizes.slice(1).map((out, l) => ({
      positions: new Int32Array(2 * active[l]), theta: new Float32Array(active[l]), sign: new Int8Array(active[l]),
      bias: new Float32Array(out), velocity: new Float32Array(active[l]), biasVelocity: new Float32Array(out),
    }));
  }

  function spoilLayers(layers, e) {
    switch (r.int(0, 6)) {
      case 0: return anything(r);
      case 1: return r.chance(0.5) ? layers.slice(1) : [...layers, layers[0]];
      case 2: { const c = [...layers]; c[r.int(0, c.length - 1)] = anything(r); return c; }
      case 3: {
        const c = layers.map((l) => ({ ...l }));
        const l = r.int(0, c.length - 1);
        const key = r.pick(["positions", "theta", "sign", "bias", "velocity", "biasVelocity"]);
        const T = key === "positions" ? Int32Array : key === "sign" ? Int8Array : Float32Array;
        const length = key === "positions" ? c[l].theta.length * 2 : key === "bias" || key === "biasVelocity" ? e.sizes[l + 1] : c[l].theta.length;
        c[l][key] = r.chance(0.2) ? undefined : badTyped(r, T, length);
        return c;
      }
      case 4: { // time of check, time of use: a different array on the second read
        const c = layers.map((l) => ({ ...l }));
        const l = r.int(0, c.length - 1);
        c[l] = flipping(c[l], "theta", c[l].theta, r.pick([new Float32Array(1), 5, null, new Float32Array(c[l].theta.length + 7)]));
        return c;
      }
      case 5: { // the arrays are dropped (properties replaced) right after the call
        return layers.map((l) => ({ ...l }));
      }
      default: return layers.map((l) => ({ ...l, theta: oddValid(r, Float32Array, l.theta.length) }));
    }
  }

  async function exportState(e) {
    let active;
    try { active = e.net.info().layers.map((l) => l.active); } catch { active = e.budgets; }
    let layers = e.layered ? layeredStateArrays(e.layered.stores, active, e.rule.optimiser) : stateArrays(e, active);
    const spoiled = r.chance(0.6);
    if (spoiled) layers = e.layered ? spoilStateArrays(r, layers) : spoilLayers(layers, e);
    const big = e.budgets.reduce((a, b) => a + b, 0) > 10000;
    const collect = typeof gc === "function" && (big || r.chance(0.1));
    const res = await attempt("exportState", [layers], () => {
      const stores = e.layered ? layers : storesOf(layers);  // in the call: a spoiled entry may throw when read
      const p = e.net.exportState(stores);
      // Drop our hold on the arrays while the worker fills them, and collect them if nothing else
      // holds them: the worker must keep them alive itself.
      if (Array.isArray(stores)) for (const l of stores) if (l?.weight && typeof l.weight === "object" && !Object.isFrozen(l.weight)) try { l.weight.theta = null; l.weight.positions = null; l.weight.velocity = null; } catch {}
      if (collect) gc();
      return p;
    }, ["layers"], { valid: !spoiled && !e.disposed, note: collect ? "arrays dropped and collected" : "" });
    return res.ok ? layers : undefined;
  }

  /** The arrays of `e`'s stores, as its exportState filled them, in the addon's layout; undefined when it cannot export. */
  async function exportedState(e) {
    let active;
    try { active = e.net.info().layers.map((l) => l.active); } catch { return undefined; }
    const state = e.layered ? layeredStateArrays(e.layered.stores, active, e.rule.optimiser) : storesOf(stateArrays(e, active));
    try { await e.net.exportState(state); } catch { return undefined; }
    return state;
  }

  // A network of fuzz-networks.mjs: its own exported state (or another network's: wrong shapes),
  // perhaps with one connection's values, position or count spoiled, or the step.
  async function importLayeredState(e) {
    const source = r.chance(0.85) ? e : r.pick(nets);
    let state = await exportedState(source), step = r.int(0, 1000);
    if (!state) return;
    // A diverged step can leave Adam's v at Infinity with finite weights: such a state is refused on import (and by save).
    const finite = state.every((layer) => Object.values(layer).every((store) => Object.values(store).every((a) => !(a instanceof Float32Array) || a.every(Number.isFinite))));
    let spoiled = source !== e || e.tainted || !finite;
    const sparse = state.flatMap((layer) => Object.values(layer).filter((store) => store.positions && store.theta.length > 0));
    if (r.chance(0.7)) {
      spoiled = true;
      const store = sparse.length ? r.pick(sparse) : undefined;
      const k = store ? store.theta.length : 0;
      switch (store ? r.int(0, 5) : r.int(4, 5)) {
        case 0: store.theta[r.int(0, k - 1)] = r.pick([NaN, Infinity, -Infinity]); break;
        case 1: store.positions[r.int(0, 2 * k - 1)] = r.pick([-1, 2 ** 31 - 1, -(2 ** 31), 1e6]); break;
        case 2: if (k > 1) { store.positions[2] = store.positions[0]; store.positions[3] = store.positions[1]; } break; // the same position twice
        case 3: for (const field of Object.keys(store)) store[field] = store[field].subarray(0, field === "positions" ? 2 * (k - 1) : k - 1); break; // one fewer
        case 4: step = badNumber(r); break;
        default: state = spoilStateArrays(r, state);
      }
    }
    const res = await attempt("importState", [state, step], () => e.net.importState(state, step), ["layers", "step"], { valid: !spoiled });
    if (res.ok) {
      e.tainted = false;
      const problem = await e.net.check();
      if (problem) violation(`#${caseNo} importState`, `accepted a state that breaks an invariant: ${problem}`);
    }
  }

  async function importState(e) {
    if (e.layered) return importLayeredState(e);
    // A valid state: a fresh export of this network (or of another one: wrong shapes), or made up.
    let layers, step = r.int(0, 1000);
    const source = r.chance(0.85) ? e : r.pick(nets);
    let active;
    try { active = source.net.info().layers.map((l) => l.active); } catch { return; }
    const arrays = stateArrays(source, active);
    try { await source.net.exportState(storesOf(arrays)); } catch { return; }
    layers = arrays;
    let spoiled = source !== e || e.tainted;
    if (source === e && r.chance(0.3)) { // made up: distinct random positions, no signs (the core checks signs when given)
      layers = arrays.map((a, l) => {
        const n_in = e.sizes[l], out = e.sizes[l + 1], k = a.theta.length;
        const seen = new Set();
        const positions = new Int32Array(2 * k);
        for (let c = 0; c < k; c++) {
          let p;
          do p = r.int(0, Math.min(n_in * out, 2 ** 40) - 1); while (seen.has(p));
          seen.add(p);
          positions[2 * c] = p % n_in;
          positions[2 * c + 1] = Math.floor(p / n_in);
        }
        return { positions, theta: Float32Array.from(a.theta, () => r.next()), bias: a.bias, velocity: a.velocity, biasVelocity: a.biasVelocity };
      });
    }
    if (r.chance(0.7)) {
      spoiled = true;
      const l = r.int(0, layers.length - 1);
      const c = layers.map((x) => ({ ...x }));
      const k = c[l].theta.length;
      let changed = true;
      switch (r.int(0, 9)) {
        case 0: c[l].theta = Float32Array.from(c[l].theta); if (k) c[l].theta[r.int(0, k - 1)] = r.pick([NaN, -1, Infinity, -0.001]); break;
        case 1: c[l].positions = Int32Array.from(c[l].positions); if (k) c[l].positions[r.int(0, 2 * k - 1)] = r.pick([-1, 2 ** 31 - 1, -(2 ** 31), e.sizes[l], e.sizes[l + 1]]); break;
        case 2: c[l].positions = Int32Array.from(c[l].positions); if (k > 1) { c[l].positions[2] = c[l].positions[0]; c[l].positions[3] = c[l].positions[1]; } break;
        case 3: c[l].sign = Int8Array.from(c[l].sign ?? new Int8Array(k)); if (k) c[l].sign[r.int(0, k - 1)] = r.pick([0, 2, -2, 127]); break;
        case 4: c[l].velocity = Float32Array.from(c[l].velocity ?? new Float32Array(k)); if (k) c[l].velocity[0] = NaN; break;
        case 5: c[l].bias = Float32Array.from(c[l].bias ?? []); if (c[l].bias.length) c[l].bias[0] = Infinity; break;
        case 6: { // one connection fewer: breaks the budget
          const k1 = Math.max(0, k - 1);
          for (const key of ["theta", "sign", "velocity"]) if (c[l][key]) c[l][key] = c[l][key].subarray(0, k1);
          c[l].positions = c[l].positions.subarray(0, 2 * k1);
          break;
        }
        case 7: step = badNumber(r); changed = false; break;
        case 8: layers = spoilLayers(layers, e); changed = false; break;
        default: step = r.chance(0.5) ? 2 ** 53 - 1 : 0; spoiled = source !== e || e.tainted; changed = false; break; // extreme but valid steps
      }
      if (changed) layers = c;
    }
    const res = await attempt("importState", [layers, step], () => e.net.importState(storesOf(layers), step), ["layers", "step"], { valid: !spoiled });
    if (res.ok) {
      e.tainted = false;
      const problem = await e.net.check();
      if (problem) violation(`#${caseNo} importState`, `accepted a state that breaks an invariant: ${problem}`);
    }
  }

  // A network of fuzz-networks.mjs: any optimiser and prior under its own structure rule is valid
  // (leaving a global budget aside); another structure may be refused (dormant theta, a pruned budget).
  async function setLayeredRule(e) {
    const own = r.chance(0.7);
    let rule = randomLayeredRule(r, own ? { structure: e.rule.structure } : {});
    const spoiled = r.chance(0.5);
    if (spoiled) rule = spoilRule(r, rule);
    const leavesGlobal = !spoiled && e.global && rule.budget === "layer";
    const res = await attempt("setRule", [rule], () => e.net.setRule(rule), ["rule"], { valid: own && !spoiled && !e.disposed && !leavesGlobal });
    if (res.ok) {
      e.hyper = e.net.info().hyper;
      e.global = rule.budget === "global";
      e.rule = rule;
    }
  }

  async function setRule(e) {
    if (e.layered) return setLayeredRule(e);
    // Valid: either optimiser with the network's own budget (a per-layer budget holds after any step).
    let rule = randomRule(r.chance(0.5), e.global, r.int(0, 1));
    let spoiled = false;
    if (r.chance(0.6)) {
      spoiled = true;
      if (r.chance(0.2)) rule = anything(r);
      else if (r.chance(0.3)) delete rule[r.pick(["optimiser", "prior", "structure", "budget", "globalShare"])];
      else rule[r.pick(["optimiser", "prior", "structure", "budget", "globalShare"])] = badName();
    }
    // Leaving a global budget is refused once the stores no longer hold their own budgets.
    const leavesGlobal = !spoiled && e.global && r.chance(0.3);
    if (leavesGlobal) rule.budget = "layer";
    const res = await attempt("setRule", [rule], () => e.net.setRule(rule), ["rule"], { valid: !spoiled && !e.disposed && !leavesGlobal });
    if (res.ok) {
      e.hyper = e.net.info().hyper;
      e.global = rule.budget === "global";
    }
  }

  async function overlap(e) {
    // An operation is running: every other call must be refused cleanly (or, info, answered).
    const t = trainArgs(e);
    if (!t.valid) return;
    let running;
    const started = await attempt("train", t.args, () => { running = e.net.train(...t.args); }, [], { valid: true, note: "left running" });
    if (!started.ok) return;
    const which = r.pick(["info", "train", "evaluate", "predict", "exportState", "importState", "check", "setRule", "dispose"]);
    const args = which === "train" ? t.args : which === "evaluate" ? [t.args[0], t.args[1]] : which === "predict" ? [t.args[0], new Float32Array(t.n * t.classes)] : which === "exportState" || which === "importState" ? [e.layered ? layeredStateArrays(e.layered.stores, e.budgets, e.rule.optimiser) : storesOf(stateArrays(e, e.budgets)), 0] : which === "setRule" ? [e.rule ?? randomRule(true, e.global, 0)] : [];
    await attempt(which, args, () => e.net[which](...args), [], {
      note: "while busy",
      check: (v) => (which === "info" && v?.busy === true ? "" : which === "info" ? "info() during an operation did not say busy" : `${which} during an operation was not refused`),
    });
    const res = await attempt("train", ["(the running call)"], () => running, [], { valid: !e.tainted, numericOk: true });
    if (!res.ok && /diverged|no longer finite/.test(String(res.error?.message))) e.tainted = true;
  }

  while (!done(FNS)) {
    if (live().length === 0 || r.chance(0.06) || (counts.get("new NativeNetwork") ?? 0) < perFunction * (caseNo / (perFunction * FNS.length)) - 50) {
      await construct();
      continue;
    }
    const e = r.chance(0.93) ? r.pick(live()) : r.pick(nets);
    // Functions still short of their count first, so that every one reaches it.
    const short = FNS.slice(1).filter((fn) => (counts.get(fn) ?? 0) < perFunction);
    const which = r.chance(0.05) ? "overlap" : r.pick(short.length ? short : FNS.slice(1));
    switch (which) {
      case "info":
        await attempt("info", [], () => e.net.info(), [], { valid: !e.disposed, check: (v) => (Array.isArray(v?.layers) ? "" : "info() returned no layers") });
        break;
      case "train": await train(e); break;
      case "evaluate": await evaluate(e); break;
      case "predict": await predict(e); break;
      case "exportState": await exportState(e); break;
      case "importState": await importState(e); break;
      case "check":
        await attempt("check", [], () => e.net.check(), [], {
          valid: !e.disposed,
          check: (v) => (v === "" || e.tainted ? "" : `invariant broken: ${v}`),
        });
        break;
      case "setRule": await setRule(e); break;
      case "dispose":
        if (r.chance(0.3) || live().length > 3) {
          await attempt("dispose", [], () => e.net.dispose(), [], { valid: true });
          e.disposed = true;
        }
        break;
      default: await overlap(e);
    }
  }
  for (const e of live()) e.net.dispose();
  return FNS;
}

// ---- the public TypeScript API ----------------------------------------------------------------

function idx(shape, data) {
  const header = Buffer.alloc(4 + 4 * shape.length);
  header[2] = 0x08;
  header[3] = shape.length;
  shape.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, Buffer.from(data)]);
}

function fixtures(dir) {
  const f = {};
  const mnist = (name, count, gz, labelsCount = count) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const images = idx([count, 2, 3], Array.from({ length: count * 6 }, (_, i) => (i * 37) % 256));
    const labels = idx([labelsCount], Array.from({ length: labelsCount }, (_, i) => i % 10));
    for (const split of ["train", "t10k"]) {
      writeFileSync(join(d, `${split}-images-idx3-ubyte${gz ? ".gz" : ""}`), gz ? gzipSync(images) : images);
      writeFileSync(join(d, `${split}-labels-idx1-ubyte${gz ? ".gz" : ""}`), gz ? gzipSync(labels) : labels);
    }
    return d;
  };
  f.mnistDirs = [mnist("mnist-ok", 4, false), mnist("mnist-gz", 3, true), mnist("mnist-bad", 4, false, 5), join(dir, "missing"), dir];
  const cifar = (name, records, broken) => {
    const d = join(dir, name);
    mkdirSync(d, { recursive: true });
    const record = (label) => Buffer.concat([Buffer.from([label]), Buffer.alloc(3072, label * 20)]);
    for (const file of ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"]) {
      let bytes = Buffer.concat(Array.from({ length: records }, (_, i) => record(i % 10)));
      if (broken && file === "test_batch.bin") bytes = bytes.subarray(0, bytes.length - 7);
      writeFileSync(join(d, file), bytes);
    }
    return d;
  };
  f.cifarDirs = [cifar("cifar-ok", 1, false), cifar("cifar-bad", 1, true), join(dir, "missing"), dir];
  const plain = idx([5], [1, 2, 3, 4, 5]);
  const files = {
    "ok.idx": plain, "ok.idx.gz": gzipSync(plain), "truncated.idx": plain.subarray(0, 9), "magic.idx": Buffer.from([1, 2, 3, 4, 5, 6]),
    "corrupt.gz": Buffer.concat([gzipSync(plain).subarray(0, 12), Buffer.alloc(8, 0x55)]), "empty.idx": Buffer.alloc(0),
    "bomb.idx.gz": gzipSync(Buffer.concat([idx([3], [1, 2, 3]), Buffer.alloc(4 << 20)])), // says 3 bytes, inflates to 4 MiB
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(dir, name), bytes);
  f.idxPaths = [...Object.keys(files).map((n) => join(dir, n)), join(dir, "nope.idx"), dir];
  f.idxBytes = Object.values(files);
  f.ckptDir = join(dir, "ckpt");
  mkdirSync(f.ckptDir, { recursive: true });
  return f;
}

async function fuzzTs(api, { networkWidths }) {
  const { Model, loadMnist, loadCifar10, parseIdx, readIdxFile, DataFormatError, CheckpointError } = api;
  const FNS = ["Model.create", "fit", "evaluate", "predict", "save", "Model.load", "exportLayers", "importLayers", "checkInvariants", "dispose", "loadMnist", "loadCifar10", "parseIdx", "readIdxFile"];
  const f = fixtures(opts.tmp);
  const models = []; // {model, disposed, broken}
  const saved = []; // checkpoint paths written
  const live = () => models.filter((m) => !m.disposed);

  /** What a model's data looks like: values per sample, outputs per sample, and whether its head takes target values. */
  function shapeOf(model) {
    const { inputs, outputs } = networkWidths(model.options);
    const head = model.options.layers.at(-1);
    return { features: inputs, outputs, values: head?.kind === "mean_squared_error", sampleShape: model.options.inputShape };
  }

  function validOptions() {
    if (r.chance(0.3)) return layerListOptions();
    const depth = r.int(2, 4);
    const layers = Array.from({ length: depth }, () => r.int(1, 10));
    layers[depth - 1] = r.int(2, 6);
    const o = { layers, connectivity: r.chance(0.5) ? r.real(0.3, 1) : layers.slice(1).map(() => r.real(0.3, 1)) };
    if (r.chance(0.03)) { // a huge but valid input width, with few connections (a valid request for 2^31 of them would get them)
      layers[0] = 2 ** 31 - 1;
      o.connectivity = layers.slice(1).map((_, l) => (l === 0 ? 4 / (2 ** 31 - 1) / layers[1] : r.real(0.3, 1)));
    }
    if (r.chance(0.5)) o.budget = r.pick(["layer", "global"]);
    if (r.chance(0.3)) o.globalShare = r.pick(["budget", "dormant"]);
    if (r.chance(0.5)) o.bias = r.chance(0.5);
    if (r.chance(0.5)) o.seed = r.int(0, 2 ** 20);
    return o;
  }

  // A layer list of the kinds beyond sparse_linear and relu (README, "Layer lists"), under any rule;
  // every sparse layer keeps at least one connection.
  function layerListOptions() {
    const rule = r.pick(["deep-r", "deep-r", "dense", "fixed", "prune", "l1"]);
    const connectivity = (positions) => (rule === "dense" || positions < 4 || r.chance(0.3) ? 1 : r.real(0.5, 1));
    const layers = [];
    let inputShape, width;
    switch (r.int(0, 2)) {
      case 0: {
        const channels = r.int(1, 2), side = r.int(3, 5), kernel = r.int(1, 3), stride = r.int(1, 2), padding = r.int(0, kernel - 1), outChannels = r.int(1, 3);
        inputShape = [channels, side, side];
        const conv = { outChannels, kernel, stride, padding, bias: r.chance(0.5) };
        layers.push(r.chance(0.5) ? { kind: "sparse_conv2d", ...conv, connectivity: connectivity(outChannels * channels * kernel * kernel) } : { kind: "dense_conv2d", ...conv });
        let out = Math.floor((side + 2 * padding - kernel) / stride) + 1;
        if (r.chance(0.5)) layers.push({ kind: "relu" });
        if (out >= 2 && r.chance(0.5)) {
          const pool = r.int(1, out);
          layers.push({ kind: "max_pool2d", kernel: pool });
          out = Math.floor((out - pool) / pool) + 1;
        }
        width = outChannels * out * out;
        break;
      }
      case 1: {
        const steps = r.int(1, 4), features = r.int(1, 3), units = r.int(1, 4), sequence = r.chance(0.3);
        inputShape = [steps, features];
        layers.push({ kind: "sparse_lstm", units, connectivity: connectivity(4), sequence });
        width = sequence ? steps * units : units;
        break;
      }
      default: {
        inputShape = [r.int(1, 8)];
        width = r.int(2, 8);
        layers.push(r.chance(0.5) ? { kind: "dense_linear", outputs: width } : { kind: "sparse_linear", outputs: width, connectivity: connectivity(inputShape[0] * width) });
        if (r.chance(0.5)) layers.push({ kind: "relu" });
      }
    }
    const values = r.chance(0.4), outputs = values ? r.int(1, 3) : r.int(2, 4);
    layers.push(r.chance(0.5) ? { kind: "dense_linear", outputs, bias: r.chance(0.5) } : { kind: "sparse_linear", outputs, connectivity: connectivity(width * outputs), bias: r.chance(0.5) });
    layers.push({ kind: values ? "mean_squared_error" : "softmax_cross_entropy" });
    const o = { inputShape, layers, rule };
    if (rule === "prune") Object.assign(o, { pruneStart: r.int(0, 6), pruneEvery: r.int(1, 4), pruneTimes: r.int(0, 2), quality: r.real(0, 1) });
    if (rule === "l1") o.pruneStart = r.int(0, 6);
    if (rule === "deep-r" && r.chance(0.3)) o.budget = "global";
    if (r.chance(0.5)) o.seed = r.int(0, 2 ** 20);
    return o;
  }

  function spoilLayerList(o) {
    const s = { ...o, layers: o.layers.map((l) => ({ ...l })) };
    const one = r.pick(s.layers.filter((l) => Object.keys(l).length > 1));
    switch (r.int(0, 6)) {
      case 0: one[r.pick(Object.keys(one).filter((k) => k !== "kind"))] = r.pick([0, -1, 1.5, NaN, 2 ** 31, "2", null, [1, 2, 3]]); return s;
      case 1: one[r.pick(["units", "kernel", "outChannels", "extra", "inputConnectivity"])] = r.pick([0, 1.01, -2, "3", {}]); return s;
      case 2: s.inputShape = r.pick([[], [0], [2, -1], "3", null, [1.5], [2 ** 31, 2 ** 31]]); return s;
      case 3: s.layers.splice(r.int(0, s.layers.length - 1), 0, { kind: r.pick(["conv3d", "softmax_cross_entropy", "mean_squared_error", "max_pool2d", 1]) }); return s;
      case 4: s.rule = r.pick(["deepr", "l2", 1, null, "dense"]); if (s.rule === "dense") one.connectivity = 0.5; return s;
      case 5: s[r.pick(["pruneStart", "pruneEvery", "quality"])] = r.pick([-1, 1.5, NaN, "1", 5]); return s; // out of range, or a setting of another rule
      default: s.budget = s.rule === "deep-r" ? "all" : "global"; return s;
    }
  }

  function spoilOptions(o) {
    if (o.inputShape) return r.chance(0.8) ? spoilLayerList(o) : anything(r);
    const s = { ...o, layers: [...o.layers] };
    switch (r.int(0, 10)) {
      case 0: return anything(r);
      case 1: s.layers[r.int(0, s.layers.length - 1)] = r.pick([0, -1, 1.5, NaN, Infinity, 2 ** 31, 2 ** 40, 2 ** 53, "4", null]); return s;
      case 2: s.layers = r.pick([[], [3], "3,4", null, undefined, { 0: 3, 1: 2 }, [2 ** 40, 2 ** 40]]); return s;
      case 3: s.connectivity = r.pick([0, -0.1, 1.01, NaN, Infinity, "0.5", null, [], [0.5, 0.5, 0.5, 0.5, 0.5], 1e-12]); return s;
      case 4: delete s.connectivity; return s;
      case 5: s.budget = r.pick(["all", 1, null, true]); return s;
      case 6: s.globalShare = r.pick(["none", 0, {}]); return s;
      case 7: s.bias = r.pick([1, "yes", null]); return s;
      case 8: s.seed = r.pick([-1, 2 ** 53, 1.5, NaN, "7", null]); return s;
      case 9: s[r.pick(["lr", "epochs", "layer", "__proto__x"])] = 1; return s;
      default: s.layers = [2 ** 31 - 1, 2]; s.connectivity = 1; return s; // 2^32 - 2 connections
    }
  }

  async function create() {
    const o = validOptions();
    const spoiled = r.chance(0.6);
    const arg = spoiled ? spoilOptions(o) : o;
    // A small connectivity can leave a layer without connections: a documented RangeError.
    const p = (l) => (Array.isArray(o.connectivity) ? o.connectivity[l] : o.connectivity);
    const empty = !o.inputShape && o.layers.slice(1).some((out, l) => Math.floor(o.layers[l] * out * p(l)) < 1);
    const res = await attempt("Model.create", [arg], () => Model.create(arg), ["options"], { valid: !spoiled && !empty });
    if (res.ok) {
      models.push({ model: res.value, disposed: false, broken: false });
      if (live().length > 6) {
        const old = live()[0];
        const res = await attempt("dispose", [], () => old.model.dispose(), [], { valid: true, note: "pool full" });
        if (res.ok) old.disposed = true;
      }
      while (models.length > 10) models.shift();
    }
  }

  function dataFor(model, n = r.int(1, 24)) {
    const { features, outputs: classes, values, sampleShape } = shapeOf(model);
    if (features > 64) return { inputs: new Float32Array(4), labels: new Int32Array(1), count: 1, features, classes };
    if (values) return { inputs: randomInputs(n, features), targets: Float32Array.from({ length: n * classes }, () => r.real(-1, 1)), sampleShape, features };
    const labels = Int32Array.from({ length: n }, () => r.int(0, classes - 1));
    return { inputs: randomInputs(n, features), labels, count: n, features, classes };
  }

  // Regression data with one wrong thing: its inputs, targets or sample shape, labels instead of targets, or no data at all.
  function spoilRegression(d) {
    const s = { ...d };
    switch (r.int(0, 5)) {
      case 0: return anything(r);
      case 1: s.targets = badTyped(r, Float32Array, d.targets.length, (a) => a.fill(0.5)); return s;
      case 2: s.targets = Float32Array.from(d.targets); s.targets[r.int(0, s.targets.length - 1)] = r.pick([NaN, Infinity, -Infinity]); return s;
      case 3: s.sampleShape = r.pick([[d.features + 1], [], null, "4", [0], undefined]); return s;
      case 4: delete s.targets; s.labels = new Int32Array(d.targets.length); return s;
      default: s.inputs = badTyped(r, Float32Array, d.inputs.length, (a) => a.fill(0.5)); return s;
    }
  }

  function spoilData(d) {
    if (d.targets) return spoilRegression(d);
    const s = { ...d };
    switch (r.int(0, 8)) {
      case 0: return anything(r);
      case 1: s.inputs = badTyped(r, Float32Array, d.inputs.length, (a) => a.fill(0.5)); return s;
      case 2: s.labels = badTyped(r, Int32Array, d.count); return s;
      case 3: s.count = r.pick([0, -1, 1.5, NaN, d.count + 1, 2 ** 32, "3", undefined]); return s;
      case 4: s.features = r.pick([0, d.features + 1, NaN, undefined, 2 ** 31]); return s;
      case 5: s.inputs = Float32Array.from(d.inputs); s.inputs[r.int(0, s.inputs.length - 1)] = r.pick([NaN, Infinity, -Infinity]); return s;
      case 6: s.labels = Int32Array.from(d.labels); s.labels[r.int(0, s.labels.length - 1)] = r.pick([-1, d.classes, 2 ** 31 - 1]); return s;
      case 7: delete s[r.pick(["inputs", "labels", "count", "features"])]; return s;
      default: s.inputs = oddValid(r, Float32Array, d.inputs.length, (a) => a.fill(0.3)); s.labels = oddValid(r, Int32Array, d.count); return s;
    }
  }

  function fitOptions() {
    const o = { epochs: r.int(0, 2) };
    if (r.chance(0.5)) o.lr = 10 ** r.real(-3, -0.5);
    if (r.chance(0.3)) o.batchSize = r.int(1, 30);
    if (r.chance(0.2)) o.momentum = r.real(0, 0.95);
    else if (r.chance(0.25)) { // an optimiser by name; a momentum the model kept would contradict sgd and adam
      o.optimizer = r.pick(["sgd", "momentum", "adam"]);
      o.momentum = o.optimizer === "momentum" ? r.real(0.1, 0.95) : 0;
      if (o.optimizer === "adam") Object.assign(o, { beta1: r.real(0, 0.99), beta2: r.real(0.9, 0.9999), epsilon: 10 ** r.real(-10, -4) });
    }
    if (r.chance(0.1)) o.weightDecay = r.real(0, 0.01);
    if (r.chance(0.2)) o[r.pick(["noise", "temperature"])] = r.real(0, 0.01);
    if (r.chance(0.2)) o.lrSchedule = r.pick(["exponential", "cosine"]);
    if (r.chance(0.2)) o.checkInvariants = true;
    if (r.chance(0.2)) o.onNonFinite = r.pick(["throw", "skip"]);
    if (r.chance(0.1)) o.onBatchEnd = () => {};
    return o;
  }

  function spoilFitOptions(o) {
    const s = { ...o };
    switch (r.int(0, 11)) {
      case 0: return anything(r);
      case 1: s[r.pick(["epochs", "batchSize"])] = r.pick([-1, 1.5, NaN, Infinity, 2 ** 31, 0, "2", null]); break;
      case 2: s[r.pick(["lr", "lrDecay", "alpha", "momentum", "noise", "temperature"])] = r.pick([-1, 0, NaN, Infinity, 1e7, 1, "0.1", null]); break;
      case 3: s.noise = 0.1; s.temperature = 0.1; break;
      case 4: s[r.pick(["onBatchEnd", "onEpochEnd"])] = r.pick([1, "f", {}, null]); break;
      case 5: s.signal = r.pick([{}, 1, "signal", null, AbortSignal.abort(new Error("fuzz: aborted"))]); break;
      case 6: s.onNonFinite = r.pick(["ignore", 1, null, true]); break;
      case 7: s.lrSchedule = r.pick(["linear", 0]); break;
      case 8: s.validation = r.pick([{}, 5, null]); break;
      case 9: s.optimizer = r.pick(["rmsprop", "Adam", 1, null]); break;
      case 10: Object.assign(s, r.pick([{ optimizer: "adam", momentum: 0.5 }, { optimizer: "momentum", momentum: 0 }, { beta1: 1 }, { epsilon: 0 }, { weightDecay: -1 }])); break;
      default: s.unknownOption = 1; break;
    }
    return s;
  }

  async function fit(m) {
    const d = dataFor(m.model);
    let data = d, o = fitOptions(), spoiled = false;
    if (r.chance(0.6)) {
      spoiled = true;
      if (r.chance(0.5)) data = spoilData(d);
      else o = spoilFitOptions(o);
    }
    const safe = (f, otherwise) => { try { return f(); } catch { return otherwise; } }; // o may be a throwing proxy
    if (safe(() => o && typeof o === "object" && !("signal" in o), false)) o.signal = AbortSignal.timeout(400);
    if (r.chance(0.03)) o = { ...safe(() => ({ ...o }), {}), lr: 1e6, epochs: 1, batchSize: 1 }; // diverges
    // Stopped mid-epoch: only the same batch size may resume (a documented RangeError otherwise).
    const progress = m.disposed ? undefined : m.model.progress;
    if (progress && progress.batchInEpoch > 0 && safe(() => o?.batchSize, undefined) !== undefined && o.batchSize !== progress.batchSize) spoiled = true;
    if (progress && progress.batchInEpoch > 0 && safe(() => o?.batchSize, undefined) === undefined && m.model.trainOptions.batchSize !== progress.batchSize) spoiled = true;
    const res = await attempt("fit", [data, o], () => m.model.fit(data, o), ["data", "options"], {
      valid: !spoiled && d.features <= 64 && !m.broken && !m.disposed, numericOk: true, abortOk: true,
      note: progress ? `progress ${JSON.stringify(progress)}, trained with batch size ${m.model.trainOptions.batchSize}` : "",
    });
    if (!res.ok && /no longer finite|diverged/.test(String(res.error?.message))) m.broken = true;
    if (res.ok || (res.error && (res.error.name === "TimeoutError" || res.error.name === "AbortError" || /not finite/.test(res.error.message)))) {
      if (!m.broken && !m.disposed) {
        await attempt("checkInvariants", [], () => m.model.checkInvariants(), [], { valid: true, note: "after fit" });
      }
    }
  }

  async function overlapFit(m) {
    const d = dataFor(m.model, 24);
    if (d.features > 64 || m.broken || m.disposed) return;
    let running;
    const o = { epochs: m.model.progress.epoch + 2, batchSize: 1, signal: AbortSignal.timeout(300) };
    await attempt("fit", [d, o], () => { running = m.model.fit(d, o); running.catch(() => {}); }, [], { note: "left running" });
    const which = r.pick(["fit", "evaluate", "predict", "save", "exportLayers", "importLayers", "checkInvariants", "dispose"]);
    const path = join(f.ckptDir, `during-${r.int(0, 3)}.safetensors`);
    const calls = {
      fit: () => m.model.fit(d, { epochs: 1 }), evaluate: () => m.model.evaluate(d), predict: () => m.model.predict(d.inputs),
      save: () => m.model.save(path), exportLayers: () => m.model.exportLayers(), importLayers: () => m.model.importLayers([], 0),
      checkInvariants: () => m.model.checkInvariants(), dispose: () => m.model.dispose(),
    };
    const res = await attempt(which, [which === "save" ? path : "…"], calls[which], [], { note: "during fit", valid: ["evaluate", "predict", "save", "exportLayers", "checkInvariants"].includes(which), numericOk: true });
    if (which === "save" && res.ok) saved.push(path);
    if (["fit", "dispose", "importLayers"].includes(which) && res.ok) violation(`#${caseNo} ${which} during fit`, `${which}() during fit() was not refused`);
    const done = await attempt("fit", ["(the running call)"], () => running, ["data", "options"], { valid: true, numericOk: true, abortOk: true });
    if (!done.ok && /no longer finite|diverged/.test(String(done.error?.message))) m.broken = true;
  }

  async function importLayers(m) {
    const source = r.chance(0.85) ? m : r.pick(models);
    let layers;
    try { layers = await source.model.exportLayers(); } catch { return; }
    let step = r.int(0, 100), spoiled = source !== m || m.broken;
    const flat = layers.every((l) => l.theta instanceof Float32Array); // a sparse MLP's layers, else a layer list's
    if (!flat && r.chance(0.7)) {
      spoiled = true;
      const withStores = layers.filter((l) => l.stores && Object.keys(l.stores).length > 0);
      const stores = withStores.length ? r.pick(withStores).stores : undefined;
      const store = stores?.[r.pick(Object.keys(stores))];
      switch (store ? r.int(0, 4) : r.int(3, 4)) {
        case 0: { const field = r.pick(Object.keys(store)); store[field] = badTyped(r, store[field].constructor, store[field].length); break; }
        case 1: if (store.theta?.length) store.theta[r.int(0, store.theta.length - 1)] = r.pick([NaN, Infinity]); else if (store.value?.length) store.value[0] = NaN; break;
        case 2: if (store.positions?.length) store.positions[r.int(0, store.positions.length - 1)] = r.pick([-1, 2 ** 31 - 1]); else delete store[r.pick(Object.keys(store))]; break;
        case 3: step = badNumber(r); break;
        default: layers = r.chance(0.5) ? layers.slice(1) : anything(r);
      }
    } else if (flat && r.chance(0.7)) {
      spoiled = true;
      const l = r.int(0, layers.length - 1);
      const k = layers[l].theta.length;
      switch (r.int(0, 6)) {
        case 0: layers[l].theta[r.int(0, k - 1)] = r.pick([NaN, -1, Infinity]); break;
        case 1: layers[l].positions[r.int(0, 2 * k - 1)] = r.pick([-1, 2 ** 31 - 1, layers[l].inputs, layers[l].outputs]); break;
        case 2: layers[l].sign[r.int(0, k - 1)] *= -1; break;
        case 3: step = badNumber(r); break;
        case 4: layers = anything(r); break;
        case 5: layers[l] = { ...layers[l], theta: badTyped(r, Float32Array, k) }; break;
        default: layers = layers.slice(1); break;
      }
    }
    const res = await attempt("importLayers", [layers, step], () => m.model.importLayers(layers, step), ["layers", "step"], { valid: !spoiled });
    if (res.ok) {
      m.broken = false;
      await attempt("checkInvariants", [], () => m.model.checkInvariants(), [], { valid: true, note: "after import" });
    }
  }

  async function save(m) {
    const good = join(f.ckptDir, `m-${r.int(0, 15)}.safetensors`);
    const path = r.chance(0.6) ? good : r.pick(["", 5, null, undefined, {}, f.ckptDir, join(opts.tmp, "no", "such", "dir", "x.safetensors"), `${good}\0x`, join(f.ckptDir, "x".repeat(300))]);
    const isString = typeof path === "string" && path !== "";
    const res = await attempt("save", [path], () => m.model.save(path), ["path", ...(isString ? [path.split("\0")[0]] : [])], {
      valid: path === good && !m.broken,
      errorType: (e) => !isString || e instanceof CheckpointError || (m.broken && /non-finite/.test(e.message)),
    });
    if (res.ok) saved.push(path);
  }

  async function load() {
    const options = [...saved.slice(-8), ...f.idxPaths.slice(0, 2), f.ckptDir, join(f.ckptDir, "none.safetensors"), "", 0, 1, null, undefined, {}, ["x"], `${f.ckptDir}\0`];
    const path = r.pick(options);
    const isString = typeof path === "string" && path !== "";
    const res = await attempt("Model.load", [path], () => Model.load(path), ["path", ...(isString ? [path.split("\0")[0]] : [])], {
      errorType: (e) => (isString ? e instanceof CheckpointError : e instanceof TypeError),
    });
    if (res.ok) {
      await attempt("checkInvariants", [], () => res.value.checkInvariants(), [], { valid: true, note: "after load" });
      models.push({ model: res.value, disposed: false, broken: false });
      while (models.length > 10) models.shift();
    }
  }

  while (!done(FNS)) {
    if (live().length === 0 || r.chance(0.05) || (counts.get("Model.create") ?? 0) < perFunction * (caseNo / (perFunction * FNS.length)) - 50) {
      await create();
      continue;
    }
    const m = r.chance(0.95) ? r.pick(live()) : r.pick(models);
    const which = r.pick(FNS.filter((fn) => fn !== "Model.create" && (counts.get(fn) ?? 0) < perFunction * 1.5).concat(["overlap"]));
    switch (which) {
      case "fit": await fit(m); break;
      case "overlap": if (r.chance(0.3)) await overlapFit(m); break;
      case "evaluate": {
        const d = dataFor(m.model);
        const spoiled = r.chance(0.6);
        const data = spoiled ? spoilData(d) : d;
        await attempt("evaluate", [data], () => m.model.evaluate(data), ["data"], { valid: !spoiled && d.features <= 64 && !m.broken });
        break;
      }
      case "predict": {
        const { features, outputs } = shapeOf(m.model);
        const n = r.int(1, 20);
        const good = features <= 64 ? randomInputs(n, features) : undefined;
        const inputs = good && r.chance(0.4) ? good : r.chance(0.5) ? badTyped(r, Float32Array, good ? good.length : 3) : r.pick([new Float32Array(0), oddValid(r, Float32Array, good ? good.length : 2), null]);
        await attempt("predict", [inputs], () => m.model.predict(inputs), ["inputs"], {
          valid: good !== undefined && inputs === good && !m.disposed,
          check: (p) => (p instanceof Float32Array && p.length === (inputs.length / features) * outputs ? "" : "predict returned the wrong shape"),
        });
        break;
      }
      case "save": await save(m); break;
      case "Model.load": await load(); break;
      case "exportLayers": await attempt("exportLayers", [], () => m.model.exportLayers(), [], { valid: true }); break;
      case "importLayers": await importLayers(m); break;
      case "checkInvariants": // after a diverged update the parameters are not a valid state: saying so is right
        await attempt("checkInvariants", [], () => m.model.checkInvariants(), m.broken ? ["invariant violated"] : [], { valid: !m.broken });
        break;
      case "dispose":
        if (r.chance(0.3) || live().length > 3) {
          const res = await attempt("dispose", [], () => m.model.dispose(), [], { valid: true });
          if (res.ok) m.disposed = true;
        }
        break;
      case "loadMnist": {
        const dir = r.chance(0.8) ? r.pick(f.mnistDirs) : r.pick(["", 0, null, {}, ["a"], 7, true]);
        const isString = typeof dir === "string" && dir !== "";
        await attempt("loadMnist", [dir], () => loadMnist(dir), ["dir", "MNIST", ...(isString ? [dir] : [])], {
          valid: dir === f.mnistDirs[0] || dir === f.mnistDirs[1],
          errorType: (e) => (isString ? e instanceof DataFormatError : e instanceof TypeError),
        });
        break;
      }
      case "loadCifar10": {
        const dir = r.chance(0.8) ? r.pick(f.cifarDirs) : r.pick(["", 0, null, {}, undefined, 7]);
        const isString = typeof dir === "string" && dir !== "";
        await attempt("loadCifar10", [dir], () => loadCifar10(dir), ["dir", "CIFAR", ...(isString ? [dir] : [])], {
          valid: dir === f.cifarDirs[0],
          errorType: (e) => (isString ? e instanceof DataFormatError : e instanceof TypeError),
        });
        break;
      }
      case "parseIdx": {
        const bytes = r.chance(0.7) ? r.pick(f.idxBytes) : r.pick([null, undefined, "00", new Int8Array(8), new Float32Array(2), [0, 0, 8, 1], 5, detached(Uint8Array, 8), oddValid(r, Uint8Array, 9)]);
        const source = r.chance(0.9) ? "fuzz.idx" : r.pick([undefined, 5, null]);
        await attempt("parseIdx", [bytes, source], () => parseIdx(bytes, source), ["bytes", "source", "fuzz.idx"], {
          errorType: (e) => e instanceof DataFormatError || e instanceof TypeError,
        });
        break;
      }
      default: {
        const path = r.chance(0.8) ? r.pick(f.idxPaths) : r.pick(["", 0, 1, 2, null, undefined, {}, new URL("file:///nonexistent.idx")]);
        const isString = typeof path === "string" && path !== "";
        await attempt("readIdxFile", [path], () => readIdxFile(path), ["path", ...(isString ? [path] : [])], {
          valid: path === f.idxPaths[0] || path === f.idxPaths[1],
          errorType: (e) => (isString ? e instanceof DataFormatError || typeof e.code === "string" : e instanceof TypeError),
        });
      }
    }
  }
  for (const m of live()) {
    try { m.model.dispose(); } catch {}
  }
  return FNS;
}

const started = performance.now();
let fns;
if (opts.part === "native") {
  const { createRequire } = await import("node:module");
  const addon = opts.addon ? createRequire(import.meta.url)(opts.addon) : (await import("../../dist/native.js")).native();
  fns = await fuzzNative(addon);
} else {
  fns = await fuzzTs(await import("../../dist/index.js"), await import("../../dist/options.js"));
}
log.write("finished");
if (opts.messages) for (const [m, n] of [...messages].sort()) process.stderr.write(`${String(n).padStart(6)} ${m}\n`);
log.close();
const perFn = Object.fromEntries(fns.map((fn) => [fn, counts.get(fn) ?? 0]));
process.stdout.write(
  JSON.stringify({ part: opts.part, seed, calls: caseNo, perFunction: perFn, seconds: (performance.now() - started) / 1000, violations: violations.length, examples: violations.slice(0, 20) }) + "\n",
);
