// Data-parallel training on MPI against one process: one sparse layer big enough that compute
// dominates (20000 x 20000 at 1 %, K = 4 M, global batch 256), timed through the addon as
// bench/deepr.mjs times it: (a) 1 process, DEEPR_THREADS=1; (b) 1 process, DEEPR_THREADS=2;
// (c) N processes under mpirun, 1 thread each; (d) 1 process under mpirun, 1 thread (the step of
// (c) with an all-reduce over itself); (e) as (d) at batch 1, the work every process repeats
// whatever its share of the batch (the update of all K and rewiring); and (d) with the rows of one
// of 4, 8, ... 64 processes (--shares), one process's compute in a larger run. Every case trains
// the same global batches (under mpirun each process takes its share of every batch, as
// `distributed: "mpi"` does). The bytes per step are what the gradient exchange all-reduced,
// counted by the core, and the communication time is the core's clock around those all-reduces;
// compute is the rest.
// Prints a Markdown table and writes it to bench/RESULTS-distributed.md (--out=FILE elsewhere).
//
//   node bench/distributed.mjs [--inputs=20000] [--outputs=20000] [--connectivity=0.01] [--batch=256]
//                              [--ranks=2] [--warmup=3] [--steps=20] [--shares=4,8,16,32,64] [--out=FILE] [--json=FILE]
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join, relative } from "node:path";
import { BENCH, HYPER, benchEnv, budgetsOf, fmtUs, fmtX, loadAddon, machineInfo, median, runJson, syntheticData } from "./common.mjs";

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const SCRIPT = fileURLToPath(import.meta.url);

/**
 * One case, in this process (under mpirun: one of its processes). Trains `warmup` steps, then
 * `steps` steps one call each; prints, on process 0 only, one JSON line with the per-step medians.
 */
async function worker(spec) {
  const addon = loadAddon();
  const budget = budgetsOf([spec.inputs, spec.outputs], spec.connectivity)[0];
  const net = new addon.NativeNetwork({
    seed: 1,
    layers: [{ kind: "sparse_linear", inputs: spec.inputs, outputs: spec.outputs, budget, bias: false }, { kind: "softmax_cross_entropy" }],
    rule: { optimiser: "sgd", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" },
  });
  let distribution = { rank: 0, ranks: 1 };
  if (spec.mpi) {
    // No state comparison (0): the table times the gradient exchange alone.
    distribution = net.distribute("mpi", 0);
    // MPI_Finalize at a clean exit, MPI_Abort otherwise (lib/distributed.ts does the same).
    process.once("exit", (code) => addon.setExitCode(code));
  }
  // Every process holds the same data and passes the same global batch size; the core shards each
  // batch. 4 batches an epoch: the epochs' shuffles vary the batches without 4 x 20 MB per step.
  const perEpoch = 4;
  const data = syntheticData(spec.batch * perEpoch, spec.inputs, spec.outputs, 7);
  const perStep = [], allReduce = [], bytes = [];
  for (let step = 0; step < spec.warmup + spec.steps; step++) {
    const started = performance.now();
    const r = await net.train(data.inputs, data.labels, Math.floor(step / perEpoch), step % perEpoch, 1, spec.batch, HYPER, false);
    const seconds = (performance.now() - started) / 1000;
    if (step < spec.warmup) continue;
    perStep.push(seconds);
    allReduce.push(r.allReduceSeconds);
    bytes.push(r.allReduceBytes);
  }
  net.dispose();
  if (distribution.rank !== 0) return;
  const stepSeconds = median(perStep), allReduceSeconds = median(allReduce);
  console.log(JSON.stringify({
    ranks: distribution.ranks, K: budget, steps: perStep.length, stepSeconds, allReduceSeconds,
    computeSeconds: median(perStep.map((s, n) => s - allReduce[n])),
    bytesPerStep: median(bytes), minBytes: Math.min(...bytes), maxBytes: Math.max(...bytes),
    peakRssMiB: +((process.resourceUsage().maxRSS * 1024) / 2 ** 20).toFixed(0),
  }));
}

if (process.argv[2] === "--worker") {
  await worker(JSON.parse(process.argv[3]));
} else {
  const spec = {
    inputs: Number(arg("inputs", 20000)), outputs: Number(arg("outputs", 20000)), connectivity: Number(arg("connectivity", 0.01)),
    batch: Number(arg("batch", 256)), warmup: Number(arg("warmup", 3)), steps: Number(arg("steps", 20)),
  };
  const ranks = Number(arg("ranks", 2));
  const shardCounts = arg("shares", "4,8,16,32,64").split(",").map(Number);
  if (!(Number.isInteger(ranks) && ranks >= 2)) throw new RangeError(`--ranks must be an integer of at least 2, not ${arg("ranks")}`);
  const out = arg("out", join(BENCH, "RESULTS-distributed.md"));
  const jsonFile = arg("json", undefined);
  if (spawnSync("mpirun", ["--version"]).status !== 0) throw new Error("bench/distributed.mjs needs mpirun: scripts/install-mpi.sh installs Open MPI");

  const machine = machineInfo();
  const one = (threads) =>
    runJson(process.execPath, [SCRIPT, "--worker", JSON.stringify(spec)], { env: benchEnv({ DEEPR_THREADS: String(threads) }), label: `1 process, ${threads} thread(s)` });
  const mpiArgs = (processes) => ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-x", "DEEPR_THREADS=1", "-np", String(processes)];
  const mpirun = (processes, batch = spec.batch) =>
    runJson("mpirun", [...mpiArgs(processes), process.execPath, SCRIPT, "--worker", JSON.stringify({ ...spec, batch, mpi: true })], { label: `mpirun -np ${processes}` });
  const cases = [
    { name: "(a) 1 process, 1 thread", run: () => one(1) },
    { name: "(b) 1 process, 2 threads", run: () => one(2) },
    { name: "(d) 1 process under mpirun, 1 thread", run: () => mpirun(1) },
    { name: `(c) ${ranks} processes under mpirun, 1 thread each`, run: () => mpirun(ranks) },
    { name: "(e) as (d), batch 1", run: () => mpirun(1, 1) },
  ];
  const rows = [];
  for (const c of cases) {
    const r = await c.run();
    rows.push({ name: c.name, ...r });
    console.error(`${c.name}: ${fmtUs(r.stepSeconds * 1e6)} per step`);
  }
  // One process's compute when N share the global batch: (d) with its share of the rows.
  const shares = [];
  for (const n of shardCounts.filter((n) => n <= spec.batch)) {
    const r = await mpirun(1, Math.floor(spec.batch / n));
    shares.push({ processes: n, rows: Math.floor(spec.batch / n), computeSeconds: r.computeSeconds });
    console.error(`share of ${n} processes: ${fmtUs(r.computeSeconds * 1e6)} compute per step`);
  }
  const [a, b, d, c, e] = rows;
  // The exchanging step (d, c) runs the backward pass, the all-reduce, then the update of all K.
  // The update and rewiring are every process's whole work, whatever its rows: about (e)'s step,
  // at one row. The rest of (d) is the forward and backward pass, which the processes split:
  // compute(N) = shared / N + repeated.
  const repeated = e.computeSeconds;
  const shared = d.computeSeconds - repeated;
  const gradientBytes = (a.K + 4) * 4;  // K float gradients and the 4 loss fields (cpp/distributed/data_parallel_exchange.hpp)
  const ms = (s) => fmtUs(s * 1e6);
  const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
  const lines = [
    `# Data-parallel training on MPI: one ${spec.inputs} × ${spec.outputs} layer at ${spec.connectivity * 100} %`,
    "",
    "Generated by `bench/distributed.mjs`; do not edit by hand.",
    "",
    `- Command: \`node bench/${relative(BENCH, SCRIPT)} ${process.argv.slice(2).join(" ")}\``.replace(/ `$/, "`"),
    `- Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.os}; Node ${machine.node}; ` +
      `${spawnSync("mpirun", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0]}`,
    `- Date: ${machine.date}; deepr ${machine.deepr}, commit ${machine.commit} (working tree differs: ${machine.dirty})`,
    `- Layer: ${spec.inputs} × ${spec.outputs}, K = ${a.K.toLocaleString("en")} connections (DEEP R, rewiring every step), ` +
      `softmax cross-entropy head, global batch ${spec.batch} (under mpirun ${spec.batch / ranks} rows per process), ` +
      `median of ${a.steps} steps after ${spec.warmup} of warm-up, one step per call`,
    "",
    "| case | step | steps/s | speed-up vs (a) | compute / step | all-reduce / step | bytes all-reduced / step / process | peak RSS / process |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.map((r) =>
      `| ${r.name} | ${ms(r.stepSeconds)} | ${(1 / r.stepSeconds).toFixed(2)} | ${fmtX(a.stepSeconds / r.stepSeconds)} | ${ms(r.computeSeconds)} | ` +
        `${r.bytesPerStep > 0 ? ms(r.allReduceSeconds) : "–"} | ${r.bytesPerStep > 0 ? mb(r.bytesPerStep) : "–"} | ${r.peakRssMiB} MiB |`),
    "",
    `- (c) over (a): **${fmtX(a.stepSeconds / c.stepSeconds)}**; (c)'s steps/s over (b)'s: **${((100 * b.stepSeconds) / c.stepSeconds).toFixed(0)} %**.`,
    `- Bytes all-reduced per step by each process, counted by the core: ${c.bytesPerStep.toLocaleString("en")} ` +
      `(every step between ${c.minBytes.toLocaleString("en")} and ${c.maxBytes.toLocaleString("en")}); ` +
      `(K + 4) × 4 = ${gradientBytes.toLocaleString("en")}: the K gradients and 4 loss fields in float32, no indices.`,
    `- Split of (c)'s step: compute ${ms(c.computeSeconds)} (${((100 * c.computeSeconds) / c.stepSeconds).toFixed(1)} %), ` +
      `all-reduce ${ms(c.allReduceSeconds)} (${((100 * c.allReduceSeconds) / c.stepSeconds).toFixed(1)} %). The all-reduce time is the core's clock ` +
      `around MPI_Allreduce on process 0: it includes waiting for the slower process, so it bounds the transfer from above.`,
    `- Under mpirun: \`${["mpirun", ...mpiArgs(ranks)].join(" ")}\`, processes on the same machine (Open MPI's shared-memory transport); ` +
      "the processes' state comparison (every 100 steps in `distributed: \"mpi\"`) is off. docs/SCALING.md extrapolates these numbers to clusters.",
    `- The exchanging step (d) against the fused one (a): ${fmtX(d.stepSeconds / a.stepSeconds)} the time (alone, the backward pass and the ` +
      "update of the layer run in one sweep; with an exchange, in two, since the update waits for the summed gradients).",
    `- compute(N) = F / N + R: R = ${ms(repeated)}, (e)'s compute (update, noise and rewiring of all K, which every process repeats), ` +
      `F = ${ms(shared)}, the rest of (d) (forward and backward of the global batch, which the processes split). ` +
      `For N = ${ranks} that predicts ${ms(shared / ranks + repeated)} against (c)'s ${ms(c.computeSeconds)} measured: ` +
      "the difference is what the model leaves out (a process's cost per row changes with its share of the batch, as its rows fit its caches better).",
    "",
    "One process's compute per step when N processes share the global batch, measured as (d) with its rows (what docs/SCALING.md builds on):",
    "",
    `| processes N | rows per process | compute / step | × (d)'s compute / N |`,
    "|---|---|---|---|",
    ...shares.map((s) => `| ${s.processes} | ${s.rows} | ${ms(s.computeSeconds)} | ${((s.computeSeconds * s.processes) / d.computeSeconds).toFixed(2)} |`),
    "",
  ];
  const table = lines.join("\n");
  console.log(table);
  if (out !== "-") writeFileSync(out, table);
  if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ machine, spec, ranks, rows, shared, repeated, shares }, null, 2));
}
