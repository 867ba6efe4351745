// One network timed as DEEP R over a sweep of connectivities against the same network dense
// (deepr's dense layers or dense rule, PyTorch, NumPy where written), for bench/cnn.mjs and
// bench/lstm.mjs: every configuration in its own process, deepr with DEEPR_THREADS=1 and 2, the
// Python baselines with 1 and 2 threads, each keeping its faster median. Yields the table (µs per full step, speed-up over the fastest
// dense) and the break-even density.
import { join } from "node:path";
import { BENCH, benchEnv, breakEvenDensity, fmtUs, fmtX, HYPER, pythonEnv, runJson } from "./common.mjs";

/** The Python each baseline runs on, as in bench/run.mjs (Debian's torch is for the system Python only). */
const PYTHON = { torch: process.env.BENCH_TORCH_PYTHON ?? "/usr/bin/python3", numpy: process.env.BENCH_NUMPY_PYTHON ?? "python3" };
const THREADS = [1, 2];

/**
 * `sweep`: [{ connectivity, layers }] trained by DEEP R; `dense`: { name, layers, rule, parameters },
 * deepr's dense version of the same network; `baselines`: [{ script, python: "torch" | "numpy",
 * label }] (bench/*.py taking {batches, threads, lr, warmup, steps, max_seconds}); `data`:
 * { features, classes }.
 */
export async function sparseVsDense({ title, batch, data, sweep, dense, baselines, quick, log = () => {} }) {
  const deeprSteps = quick ? { warmup: 2, steps: 10, chunk: 5 } : { warmup: 10, steps: 100, chunk: 10 };
  const pythonSteps = quick ? { warmup: 2, steps: 10 } : { warmup: 10, steps: 100, max_seconds: 10 };
  const rule = { optimiser: "sgd", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" };
  const cases = [
    ...sweep.map((s) => ({ name: `DEEP R ${s.connectivity * 100} %`, layers: s.layers, rule, batch })),
    { name: dense.name, layers: dense.layers, rule: dense.rule, batch },
  ];

  const deepr = {};
  for (const threads of THREADS) {
    log(`${title}: deepr, DEEPR_THREADS=${threads}`);
    const r = await runJson(process.execPath, [join(BENCH, "deepr.mjs"), JSON.stringify({ mode: "network", ...data, cases, ...deeprSteps })],
      { env: benchEnv({ DEEPR_THREADS: String(threads) }), label: `deepr.mjs (${title})` });
    deepr[threads] = r.results;
  }
  const pythonRuns = [];
  for (const baseline of baselines) {
    const runs = {};
    for (const threads of THREADS) {
      log(`${title}: ${baseline.label}, ${threads} thread(s)`);
      const spec = { batches: [batch], threads, lr: HYPER.lr, ...pythonSteps };
      runs[threads] = (await runJson(PYTHON[baseline.python], [join(BENCH, baseline.script), JSON.stringify(spec)], { env: pythonEnv(threads), label: baseline.script })).results[0];
    }
    pythonRuns.push({ name: baseline.label, runs });
  }

  /** The faster of the thread settings: { us, threads, ...the run's result }. */
  const faster = (byThreads) => THREADS.map((t) => ({ ...byThreads[t], us: byThreads[t].median_us, threads: t })).sort((a, b) => a.us - b.us)[0];
  const deeprRuns = (i) => Object.fromEntries(THREADS.map((t) => [t, deepr[t][i]]));
  const denseRuns = [
    ...pythonRuns.map(({ name, runs }) => ({ ...faster(runs), name, parameters: runs[1].parameters, runs })),
    { ...faster(deeprRuns(sweep.length)), name: `${dense.name} (deepr)`, parameters: dense.parameters, runs: deeprRuns(sweep.length) },
  ];
  const fastest = [...denseRuns].sort((a, b) => a.us - b.us)[0];
  const rows = sweep.map((s, i) => {
    const best = faster(deeprRuns(i));
    return { connectivity: s.connectivity, K: deepr[1][i].K, t1: deepr[1][i].median_us, t2: deepr[2][i].median_us, best, speedup: fastest.us / best.us };
  });
  const breakEven = breakEvenDensity(rows.map((r) => [r.connectivity, r.best.us]), fastest.us);

  const markdown = [
    `Median µs per full training step (forward, backward, update; DEEP R also rewires), batch ${batch}. Threads: DEEPR_THREADS for deepr; torch.set_num_threads and OpenBLAS threads for PyTorch; OpenBLAS threads for NumPy; each setting in its own process. The speed-up is the fastest dense step (the faster thread setting of each dense version, deepr's own included) over the faster of deepr's two.`,
    "",
    "| network | K or parameters | 1 thread | 2 threads | × vs fastest dense |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| DEEP R ${r.connectivity * 100} % | ${r.K} | ${fmtUs(r.t1)} | ${fmtUs(r.t2)} | ${fmtX(r.speedup)} |`),
    ...denseRuns.map((d) => `| ${d.name} | ${d.parameters} | ${fmtUs(d.runs[1].median_us)} | ${fmtUs(d.runs[2].median_us)} | ${fmtX(fastest.us / d.us)} |`),
    "",
    `Fastest dense: ${fastest.name}, ${fmtUs(fastest.us)} (${fastest.threads} thread(s)). Break-even density (DEEP R's step as long as the fastest dense, interpolated): ${breakEven.text}.`,
    "",
  ];
  return { title, batch, rows, dense: denseRuns, fastest, breakEven, markdown };
}

/** What bench/cnn.mjs and bench/lstm.mjs do with a result: the table, or with a JSON spec {"json": true} one JSON line for bench/run.mjs. */
export function report(result, spec) {
  if (spec.json) console.log(JSON.stringify(result));
  else console.log([`## ${result.title}`, "", ...result.markdown].join("\n"));
}
