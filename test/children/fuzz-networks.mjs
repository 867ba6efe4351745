// The addon fuzzer's networks beyond the sparse MLP: small layer lists of every other core kind
// (sparse_conv2d, dense_conv2d, max_pool2d, sparse_lstm, dense_linear, a mean_squared_error head)
// under every rule the core knows (optimisers sgd, momentum, adam; DEEP R, or the fixed and prune
// structures with the priors none, l2 and l1-shrink), valid or spoiled, and the state arrays
// exportState fills for them. Plain JavaScript, like the drivers.
import { anything, badTyped, flipping, throwingProxy } from "./fuzz-util.mjs";

/** The state arrays each optimiser keeps per parameter, as the core names them (cpp/rules/optimisers.hpp). */
const OPTIMISER_STATES = { sgd: [], momentum: ["velocity"], adam: ["m", "v"] };

/** A valid rule: DEEP R (layer or global budget), or fixed or prune with a signed-weight prior. */
export function randomRule(r, { optimiser = r.pick(["sgd", "momentum", "adam"]), structure = r.pick(["deep-r", "fixed", "prune"]) } = {}) {
  if (structure === "deep-r") {
    return { optimiser, prior: "deep-r", structure, budget: r.chance(0.3) ? "global" : "layer", globalShare: r.pick(["budget", "dormant"]) };
  }
  const rule = { optimiser, prior: r.pick(["none", "l2", "l1-shrink"]), structure, budget: "layer", globalShare: "budget" };
  if (structure === "prune") Object.assign(rule, { pruneStart: r.int(0, 6), pruneEvery: r.int(1, 3), pruneTimes: r.int(0, 3), quality: r.real(0, 1.5) });
  return rule;
}

/** A rule the core refuses: a name it does not know, a missing part, a prior of the other kind of weights, a setting out of range or misplaced. */
export function spoilRule(r, rule) {
  const s = { ...rule };
  switch (r.int(0, 6)) {
    case 0: return anything(r);
    case 1: s[r.pick(["optimiser", "prior", "structure", "budget", "globalShare"])] = r.pick(["rmsprop", "", "Adam", 1, null, {}, throwingProxy()]); return s;
    case 2: delete s[r.pick(["optimiser", "prior", "structure", "budget", "globalShare"])]; return s;
    case 3: s.prior = s.structure === "deep-r" ? r.pick(["none", "l2", "l1-shrink"]) : "deep-r"; return s;
    case 4: if (s.structure === "prune") s[r.pick(["pruneStart", "pruneEvery", "pruneTimes", "quality"])] = r.pick([-1, 1.5, NaN, Infinity, 2 ** 60, "3", null]); else s.pruneStart = 1; return s;
    case 5: if (s.structure === "prune") delete s[r.pick(["pruneStart", "pruneEvery", "pruneTimes", "quality"])]; else s.budget = s.structure === "deep-r" ? "all" : "global"; return s;
    default: s.structure = s.structure === "prune" ? "fixed" : "prune"; if (s.structure === "prune") s.prior = "l2"; return s; // prune without its settings, or fixed with them
  }
}

/** The optimiser state arrays of one parameter store of `size` values under `optimiser`. */
function optimiserStates(optimiser, size) {
  return Object.fromEntries(OPTIMISER_STATES[optimiser].map((name) => [name, new Float32Array(size)]));
}

/**
 * A random valid network: `spec` for the addon, its input `features` and head `outputs`, the
 * `targets` its head takes, and `stores`, per layer, each store's name and size (sparse stores by
 * their budget's position in info().layers, dense ones by their number of values).
 */
export function layeredNetwork(r) {
  const layers = [], stores = [];
  let sparse = 0;
  const add = (layer, layerStores = []) => {
    layers.push(layer);
    stores.push(layerStores);
  };
  const bias = (on, n) => (on ? [{ name: "bias", dense: n }] : []);
  const linear = (inputs, outputs) => {
    const withBias = r.chance(0.5);
    if (r.chance(0.5)) add({ kind: "dense_linear", inputs, outputs, bias: withBias }, [{ name: "weight", dense: inputs * outputs }, ...bias(withBias, outputs)]);
    else {
      const budget = r.int(1, Math.min(inputs * outputs, 40));
      add({ kind: "sparse_linear", inputs, outputs, budget, bias: withBias }, [{ name: "weight", sparse: sparse++ }, ...bias(withBias, outputs)]);
    }
  };
  let features, width; // the network's input width, and the output width of the layers so far
  switch (r.int(0, 2)) {
    case 0: { // an image through a convolution, perhaps pooled
      const channels = r.int(1, 2), imageHeight = r.int(2, 5), imageWidth = r.int(2, 5);
      const kernelHeight = r.int(1, Math.min(3, imageHeight)), kernelWidth = r.int(1, Math.min(3, imageWidth));
      const padding = r.int(0, Math.min(kernelHeight, kernelWidth) - 1), stride = r.int(1, 2), outChannels = r.int(1, 3);
      const conv = { in_channels: channels, height: imageHeight, width: imageWidth, out_channels: outChannels, kernel_height: kernelHeight, kernel_width: kernelWidth, stride, padding, bias: r.chance(0.5) };
      const entries = outChannels * channels * kernelHeight * kernelWidth;
      if (r.chance(0.5)) add({ kind: "sparse_conv2d", ...conv, budget: r.int(1, entries) }, [{ name: "weight", sparse: sparse++ }, ...bias(conv.bias, outChannels)]);
      else add({ kind: "dense_conv2d", ...conv }, [{ name: "weight", dense: entries }, ...bias(conv.bias, outChannels)]);
      const outHeight = Math.floor((imageHeight + 2 * padding - kernelHeight) / stride) + 1, outWidth = Math.floor((imageWidth + 2 * padding - kernelWidth) / stride) + 1;
      features = channels * imageHeight * imageWidth;
      width = outChannels * outHeight * outWidth;
      if (r.chance(0.5)) add({ kind: "relu" });
      if (r.chance(0.5)) {
        const kh = r.int(1, outHeight), kw = r.int(1, outWidth), poolStride = r.int(1, 2);
        add({ kind: "max_pool2d", channels: outChannels, height: outHeight, width: outWidth, kernel_height: kh, kernel_width: kw, stride: poolStride });
        width = outChannels * (Math.floor((outHeight - kh) / poolStride) + 1) * (Math.floor((outWidth - kw) / poolStride) + 1);
      }
      break;
    }
    case 1: { // a sequence through an LSTM: its last output, or every step's
      const steps = r.int(1, 4), inputs = r.int(1, 4), units = r.int(1, 5), sequence = r.chance(0.3);
      add({ kind: "sparse_lstm", steps, features: inputs, units, inputBudget: r.int(1, inputs * 4 * units), recurrentBudget: r.int(1, units * 4 * units), sequence }, [
        { name: "input_weight", sparse: sparse++ }, { name: "recurrent_weight", sparse: sparse++ }, ...bias(true, 4 * units),
      ]);
      features = steps * inputs;
      width = sequence ? steps * units : units;
      break;
    }
    default: { // linear layers, dense or sparse
      features = r.int(1, 10);
      width = r.int(1, 10);
      linear(features, width);
      if (r.chance(0.5)) add({ kind: "relu" });
    }
  }
  const values = r.chance(0.4);
  const outputs = values ? r.int(1, 4) : r.int(2, 5);
  linear(width, outputs);
  add({ kind: values ? "mean_squared_error" : "softmax_cross_entropy" });
  return { spec: { seed: r.int(0, 1e6), layers, rule: randomRule(r) }, features, outputs, targets: values ? "values" : "labels", stores };
}

/** `spec` with one thing the core refuses: a layer field out of range, missing or unknown, a width that does not chain, a wrong head, or a spoiled rule. */
export function spoilLayered(r, spec) {
  const s = { ...spec, layers: spec.layers.map((l) => ({ ...l })), rule: { ...spec.rule } };
  const withFields = s.layers.filter((l) => Object.keys(l).length > 1);
  const one = r.pick(withFields);
  const fields = Object.keys(one).filter((k) => k !== "kind");
  switch (r.int(0, 7)) {
    // Never a huge valid width (2^31 - 1 outputs): that costs O(width) memory by design.
    case 0: one[r.pick(fields)] = r.pick([0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 53, "4", null, undefined, true, {}]); return s;
    case 1: delete one[r.pick(fields)]; return s;
    case 2: one[r.pick(["extra", "budget", "padding", "sequence", "channels"])] = r.pick([1, true, "x"]); return s;
    case 3: { // the input width of a layer above the first no longer matches the layer below
      const above = s.layers.slice(1).filter((l) => "inputs" in l || "in_channels" in l || "channels" in l || "features" in l);
      if (above.length === 0) return anything(r);
      const l = r.pick(above);
      const key = "inputs" in l ? "inputs" : "in_channels" in l ? "in_channels" : "channels" in l ? "channels" : "features";
      l[key] += r.pick([1, -1]);
      return s;
    }
    case 4: s.layers[s.layers.length - 1] = { kind: r.pick(["mean_squared_error", "softmax_cross_entropy", "relu", "max_pool2d", "sparse_lstm", "conv3d"]) }; return s;
    case 5: s.layers = r.chance(0.5) ? s.layers.slice(0, -1) : [...s.layers.slice(0, -1), { kind: "relu" }, s.layers.at(-1), { kind: "relu" }]; return s;
    case 6: one.kind = r.pick(["sparse_conv2d", "dense_conv2d", "max_pool2d", "sparse_lstm", "dense_linear", "sparse_linear"]); return s;
    default: s.rule = spoilRule(r, s.rule); return s;
  }
}

/** Per layer, per store, the arrays exportState fills: a sparse store's positions, theta and sign of its `active` connections, a dense store's values, and the optimiser's states. */
export function layeredStateArrays(stores, active, optimiser) {
  return stores.map((layer) => Object.fromEntries(layer.map((store) => {
    if (store.dense !== undefined) return [store.name, { value: new Float32Array(store.dense), ...optimiserStates(optimiser, store.dense) }];
    const k = active[store.sparse];
    return [store.name, { positions: new Int32Array(2 * k), theta: new Float32Array(k), sign: new Int8Array(k), ...optimiserStates(optimiser, k) }];
  })));
}

/** `state` (as layeredStateArrays makes it) with one wrong thing: no array at all, a layer too many or too few, a store or field of the wrong kind, or a field that changes between two reads. */
export function spoilStateArrays(r, state) {
  const c = state.map((layer) => Object.fromEntries(Object.entries(layer).map(([name, fields]) => [name, { ...fields }])));
  const withStores = c.filter((layer) => Object.keys(layer).length > 0);
  switch (r.int(0, 4)) {
    case 0: return anything(r);
    case 1: return r.chance(0.5) ? c.slice(1) : [...c, {}];
    case 2: { if (withStores.length === 0) return anything(r); const layer = r.pick(withStores); layer[r.pick(Object.keys(layer))] = anything(r); return c; }
    case 3: {
      if (withStores.length === 0) return [{ weight: anything(r) }, ...c.slice(1)];
      const layer = r.pick(withStores), store = layer[r.pick(Object.keys(layer))];
      const field = r.pick(Object.keys(store).concat(["extra"]));
      const Type = store[field]?.constructor ?? Float32Array;
      store[field] = r.chance(0.2) ? undefined : badTyped(r, Type, store[field]?.length ?? 3);
      return c;
    }
    default: {
      if (withStores.length === 0) return anything(r);
      const layer = r.pick(withStores), name = r.pick(Object.keys(layer));
      const field = r.pick(Object.keys(layer[name]));
      layer[name] = flipping(layer[name], field, layer[name][field], r.pick([new Float32Array(1), 5, null, new Int32Array(layer[name][field].length + 7)]));
      return c;
    }
  }
}
