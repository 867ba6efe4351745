// Thread scaling of one large layer: the 100000 x 100000 layer at 0.1 % (K = 10 M), timed by
// bench/deepr.mjs in one process per thread count (DEEPR_THREADS applies from the start), for
// 1, 2, 4, ... threads up to the machine's cores. Prints a Markdown table; --json FILE also
// writes the raw results with the machine's facts.
//
//   node bench/scaling.mjs [--batch=32] [--steps=7] [--json=FILE]
import { writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { BENCH, benchEnv, fmtUs, fmtX, machineInfo, runJson } from "./common.mjs";

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
const batch = Number(arg("batch", 32));
const steps = Number(arg("steps", 7));
const jsonFile = arg("json", undefined);

const cores = cpus().length;
const counts = [];
for (let t = 1; t < cores; t *= 2) counts.push(t);
counts.push(cores);

const spec = { mode: "layer", inputs: 100000, outputs: 100000, connectivity: 0.001, batch, warmup: 2, steps };
const machine = machineInfo();
const rows = [];
for (const threads of counts) {
  const r = await runJson(process.execPath, [join(BENCH, "deepr.mjs"), JSON.stringify(spec)], {
    env: benchEnv({ DEEPR_THREADS: String(threads) }),
    label: `deepr.mjs, ${threads} thread(s)`,
  });
  rows.push({ threads, ...r.results[0] });
  console.error(`${threads} thread(s): ${fmtUs(r.results[0].median_us)} per step`);
}

const one = rows[0].median_us;
console.log(`100000 x 100000 at 0.1 % (K = ${rows[0].K}), batch ${batch}, median of ${steps} steps after 2 of warm-up`);
console.log(`machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; commit ${machine.commit}\n`);
console.log("| threads | step | speed-up vs 1 | efficiency | regrowth / step | noise / step | peak RSS |");
console.log("|---|---|---|---|---|---|---|");
for (const r of rows)
  console.log(
    `| ${r.threads} | ${fmtUs(r.median_us)} | ${fmtX(one / r.median_us)} | ${((100 * one) / r.median_us / r.threads).toFixed(0)} % | ` +
      `${fmtUs(r.regrowth_us)} | ${fmtUs(r.noise_us)} | ${(r.peakRssMiB / 1024).toFixed(2)} GiB |`,
  );
if (jsonFile) writeFileSync(jsonFile, JSON.stringify({ machine, spec, rows }, null, 2));
