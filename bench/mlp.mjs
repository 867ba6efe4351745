// Standalone: µs per full training step of 784-300-100-10 at 1 % and 10 % connectivity, batch
// 32 and 128, deepr next to dense NumPy (OpenBLAS, its faster of 1 and 2 threads), both
// measured now. Needs bench/setup.sh once (NumPy itself comes from the default python3).
//
//   node bench/mlp.mjs          (DEEPR_THREADS from the environment, if the addon reads it)
import { join } from "node:path";
import { BENCH, benchEnv, DEEPR_MLP_STEPS, fmtUs, fmtX, HYPER, MLP, pythonEnv, runJson } from "./common.mjs";

const NUMPY_PY = process.env.BENCH_NUMPY_PYTHON ?? "python3";
const BATCHES = [32, 128];
const DENSITIES = [0.01, 0.1];

const numpy = [];
for (const threads of [1, 2]) {
  try {
    numpy.push(await runJson(NUMPY_PY, [join(BENCH, "dense_numpy.py"), JSON.stringify({ sizes: MLP, batches: BATCHES, threads, lr: HYPER.lr, warmup: 20, steps: 200 })], { env: pythonEnv(threads), label: "dense_numpy.py" }));
  } catch (e) {
    console.error(`NumPy baseline with ${threads} thread(s) failed: ${e.message}`);
  }
}
const deepr = await runJson(
  process.execPath,
  [join(BENCH, "deepr.mjs"), JSON.stringify({ mode: "mlp", cases: DENSITIES.flatMap((p) => BATCHES.map((batch) => ({ sizes: MLP, connectivity: p, batch }))), ...DEEPR_MLP_STEPS })],
  { env: benchEnv(), label: "deepr.mjs" },
);

const rows = [];
for (const p of DENSITIES)
  for (const batch of BATCHES) {
    const d = deepr.results.find((r) => r.connectivity === p && r.batch === batch);
    let dense;
    for (const run of numpy) {
      const r = run.results.find((x) => x.batch === batch);
      if (r && (!dense || r.median_us < dense.us)) dense = { us: r.median_us, threads: run.threads };
    }
    rows.push([`${p * 100} %`, batch, d.K, fmtUs(d.median_us), dense ? `${fmtUs(dense.us)} (${dense.threads} thr)` : "–", dense ? fmtX(dense.us / d.median_us) : "–"]);
  }
const head = ["connectivity", "batch", "K", "deepr µs/step", "NumPy dense µs/step", "speed-up"];
console.log(`784-300-100-10, full training step, median after warm-up (DEEPR_THREADS=${process.env.DEEPR_THREADS ?? "unset"}; OPENBLAS_CORETYPE/L2_SIZE unset for NumPy)`);
console.log(`| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|`);
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
if (numpy[0]?.blas) console.log(`NumPy ${numpy[0].versions.numpy}, ${numpy[0].blas.config}`);
