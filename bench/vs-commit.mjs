// Step time of this build against an older commit's, measured in the same run: the two builds
// time the same MLP cases in separate processes that alternate (ABBA order, so that neither
// build always runs first or while the machine warms up), and each build's figure is the median
// over its processes of their per-process medians. bench/run.mjs puts the result in
// RESULTS.md; on its own this file prints just the comparison.
//
//   node bench/vs-commit.mjs [COMMIT] [--quick]    COMMIT defaults to commit-build.mjs's DEFAULT_COMMIT;
//                                                  exits 1 when a case is over the tolerance (not with --quick)
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { BENCH, benchEnv, DEEPR_MLP_STEPS, fmtUs, median, MLP, ROOT, runJson } from "./common.mjs";
import { commitBuild, DEFAULT_COMMIT } from "./commit-build.mjs";
import { staleAddon } from "./working-build.mjs";

/** The cases compared: the reference MLP at 1 %, batch 32 (the goal) and batch 10 (the reference recipe's). */
export const VS_COMMIT_CASES = [32, 10].map((batch) => ({ name: "1 %", sizes: MLP, connectivity: 0.01, batch }));
/** This build may be at most this much slower per step than the older commit. */
export const VS_COMMIT_TOLERANCE = 1.05;

/** Whether the step timer (bench/deepr.mjs and what it imports) is the same file in both builds. */
function sameTimer(sha) {
  try {
    execFileSync("git", ["-C", ROOT, "diff", "--quiet", sha, "--", "bench/deepr.mjs", "bench/common.mjs"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/**
 * Times VS_COMMIT_CASES with this build and with `build` (from commitBuild) in 2 × `rounds`
 * processes, DEEPR_THREADS=1 (at 1 % no layer is large enough to split over threads).
 * Each build runs its own bench/deepr.mjs, which loads its own addon through the interface of
 * its time. Returns { commit, short, sameTimer, processes, spec, cases: [{ ...case, ours, theirs, ratio, pass }] }.
 */
export async function compareWithCommit(build, { quick = false, rounds = quick ? 2 : 10, log = () => {} } = {}) {
  const stale = staleAddon();
  if (stale) throw new Error(`vs-commit: this working tree's addon is not current (${stale}), so it would not time the code as it is`);
  const spec = { mode: "mlp", cases: VS_COMMIT_CASES, ...(quick ? { warmup: 5, steps: 20, minMs: 0, chunk: 10 } : DEEPR_MLP_STEPS) };
  const timers = { ours: join(BENCH, "deepr.mjs"), theirs: build.timer };
  const medians = { ours: [], theirs: [] };
  for (let round = 0; round < rounds; round++)
    for (const side of round % 2 === 0 ? ["ours", "theirs"] : ["theirs", "ours"]) {
      log(`  round ${round + 1}/${rounds}: ${side === "ours" ? "this build" : build.short}`);
      const r = await runJson(process.execPath, [timers[side], JSON.stringify(spec)], { env: benchEnv({ DEEPR_THREADS: "1" }), label: `${side === "ours" ? "this build's" : `${build.short}'s`} bench/deepr.mjs` });
      medians[side].push(r.results.map((x) => x.median_us));
    }
  const cases = VS_COMMIT_CASES.map((c, i) => {
    const of = (side) => {
      const us = medians[side].map((m) => m[i]);
      return { us: median(us), min: Math.min(...us), max: Math.max(...us) };
    };
    const ours = of("ours"), theirs = of("theirs");
    const ratio = ours.us / theirs.us;
    return { ...c, ours, theirs, ratio, pass: ratio <= VS_COMMIT_TOLERANCE };
  });
  return { commit: build.sha, short: build.short, sameTimer: sameTimer(build.sha), processes: rounds, spec, cases };
}

/** The comparison as Markdown lines: a table and a note on the method. */
export function vsCommitMarkdown(result) {
  const { short, processes, spec, cases } = result;
  const range = (x) => `${fmtUs(x.us)} (${fmtUs(x.min)}–${fmtUs(x.max)})`;
  return [
    `| case | batch | this build | ${short} | this build / ${short} | within ${Math.round((VS_COMMIT_TOLERANCE - 1) * 100)} % |`,
    "|---|---|---|---|---|---|",
    ...cases.map((c) => `| 784-300-100-10, ${c.name} | ${c.batch} | ${range(c.ours)} | ${range(c.theirs)} | ${c.ratio.toFixed(3)}× | ${c.pass ? "**yes**" : "**no**"} |`),
    "",
    `Median µs per full step over ${processes} processes per build (each process's figure is its median over calls of ${spec.chunk} steps after ${spec.warmup} warm-up steps, as in deepr's MLP cases; the range of the ${processes} in brackets), DEEPR_THREADS=1. ` +
      `The ${2 * processes} processes alternate between the builds in ABBA order. ${short} was built by bench/commit-build.mjs from \`git archive\` outside the repository, with the same cmake-js build as this one. ` +
      (result.sameTimer
        ? "Both builds are timed by the same bench/deepr.mjs."
        : `Each build is timed by its own bench/deepr.mjs (the addon interface may differ between them), and the timers differ: check \`git diff ${short} -- bench/deepr.mjs bench/common.mjs\` before trusting the ratio.`),
    "",
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes("--quick");
  const commit = process.argv.slice(2).find((a) => !a.startsWith("--")) ?? DEFAULT_COMMIT;
  try {
    const build = commitBuild(commit);
    const result = await compareWithCommit(build, { quick, log: (line) => console.error(line) });
    console.log(`784-300-100-10 step, this build against ${build.short}${quick ? " (--quick: FEW STEPS, NUMBERS NOT MEANINGFUL)" : ""}\n`);
    console.log(vsCommitMarkdown(result).join("\n"));
    // A --quick run only checks that both builds run: its ratio decides nothing.
    process.exit(quick || result.cases.every((c) => c.pass) ? 0 : 1);
  } catch (e) {
    console.error(e.message);
    process.exit(2);
  }
}
