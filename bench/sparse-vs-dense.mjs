// One network timed as DEEP R over a sweep of connectivities against the same network dense
// (deepr's dense layers or dense rule, and PyTorch), for bench/cnn.mjs and bench/lstm.mjs: every
// configuration in its own process, deepr with DEEPR_THREADS=1 and 2, PyTorch with 1 and 2 threads,
// each keeping its faster median. Yields the table (µs per full step, speed-up over the fastest
// dense) and the break-even density.
import { join } from "node:path";
import { BENCH, benchEnv, breakEvenDensity, fmtUs, fmtX, HYPER, pythonEnv, runJson } from "./common.mjs";

const TORCH_PY = process.env.BENCH_TORCH_PYTHON ?? "/usr/bin/python3";
const THREADS = [1, 2];

/**
 * `sweep`: [{ connectivity, layers }] trained by DEEP R; `dense`: { name, layers, rule, parameters },
 * deepr's dense version of the same network; `torch`: { script, label } (a bench/*_torch.py taking
 * {batches, threads, lr, warmup, steps, max_seconds}); `data`: { features, classes }.
 */
export async function sparseVsDense({ title, batch, data, sweep, dense, torch, quick, log = () => {} }) {
  const deeprSteps = quick ? { warmup: 2, steps: 10, chunk: 5 } : { warmup: 10, steps: 100, chunk: 10 };
  const torchSteps = quick ? { warmup: 2, steps: 10 } : { warmup: 10, steps: 100, max_seconds: 10 };
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
  const torchRuns = {};
  for (const threads of THREADS) {
    log(`${title}: PyTorch, ${threads} thread(s)`);
    const spec = { batches: [batch], threads, lr: HYPER.lr, ...torchSteps };
    torchRuns[threads] = (await runJson(TORCH_PY, [join(BENCH, torch.script), JSON.stringify(spec)], { env: pythonEnv(threads), label: torch.script })).results[0];
  }

  /** The faster of the thread settings: { us, threads, ...the run's result }. */
  const faster = (byThreads) => THREADS.map((t) => ({ ...byThreads[t], us: byThreads[t].median_us, threads: t })).sort((a, b) => a.us - b.us)[0];
  const deeprCase = (i) => faster(Object.fromEntries(THREADS.map((t) => [t, deepr[t][i]])));
  const denseRuns = [
    { ...faster(torchRuns), name: `${torch.label} (PyTorch)`, parameters: torchRuns[1].parameters },
    { ...deeprCase(sweep.length), name: `${dense.name} (deepr)`, parameters: dense.parameters },
  ];
  const fastest = [...denseRuns].sort((a, b) => a.us - b.us)[0];
  const rows = sweep.map((s, i) => {
    const best = deeprCase(i);
    return { connectivity: s.connectivity, K: deepr[1][i].K, t1: deepr[1][i].median_us, t2: deepr[2][i].median_us, best, speedup: fastest.us / best.us };
  });
  const breakEven = breakEvenDensity(rows.map((r) => [r.connectivity, r.best.us]), fastest.us);

  const markdown = [
    `Median µs per full training step (forward, backward, update; DEEP R also rewires), batch ${batch}. deepr: DEEPR_THREADS=1 and 2, each in its own process; PyTorch: torch.set_num_threads and OpenBLAS threads 1 and 2; the speed-up is the fastest dense step (the faster thread setting of each, deepr's dense network included) over deepr's faster one.`,
    "",
    "| network | K or parameters | deepr 1 thr | deepr 2 thr | PyTorch 1 thr | PyTorch 2 thr | × vs fastest dense |",
    "|---|---|---|---|---|---|---|",
    ...rows.map((r) => `| DEEP R ${r.connectivity * 100} % | ${r.K} | ${fmtUs(r.t1)} | ${fmtUs(r.t2)} | – | – | ${fmtX(r.speedup)} |`),
    `| ${denseRuns[1].name} | ${dense.parameters} | ${fmtUs(deepr[1][sweep.length].median_us)} | ${fmtUs(deepr[2][sweep.length].median_us)} | – | – | ${fmtX(fastest.us / denseRuns[1].us)} |`,
    `| ${denseRuns[0].name} | ${torchRuns[1].parameters} | – | – | ${fmtUs(torchRuns[1].median_us)} | ${fmtUs(torchRuns[2].median_us)} | ${fmtX(fastest.us / denseRuns[0].us)} |`,
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
