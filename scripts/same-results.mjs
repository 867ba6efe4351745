#!/usr/bin/env node
// Whether this build trains exactly what an older commit trains: the same four CLI runs (the
// default MNIST run, --preset tuned, --budget global, and momentum; all --seed 1) with both
// builds, then the SHA-256 of every tensor's data in the two checkpoints (not their metadata,
// which records versions and the training's own timings). Prints a table; exits 0 when every
// tensor of every run is bit-identical, 1 when any differs, 2 when a build or a run fails.
//
//   node scripts/same-results.mjs [COMMIT]    COMMIT defaults to bench/commit-build.mjs's DEFAULT_COMMIT
//
// This build is the working tree's dist/ and build/ (it must be built and current); the commit
// is built once outside the repository by bench/commit-build.mjs. Takes about a minute (the
// tuned preset trains 30 epochs, about 20 s per build).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { commitBuild, DEFAULT_COMMIT } from "../bench/commit-build.mjs";
import { ROOT } from "../bench/common.mjs";
import { staleAddon, staleDist } from "../bench/working-build.mjs";
import { compareDigests, tensorDigests } from "./tensor-digests.mjs";

/** The runs whose results must not change (issue 12), as CLI flags after `train --seed 1`. */
const RUNS = [
  { name: "default", flags: [] },
  { name: "tuned", flags: ["--preset", "tuned"] },
  { name: "global budget", flags: ["--budget", "global"] },
  { name: "momentum 0.9", flags: ["--momentum", "0.9"] },
];

/** Trains one run with the CLI at `cli` into `out`; the error says which build and run failed. */
function train(cli, label, run, out) {
  const args = [cli, "train", "--seed", "1", "--json", "--out", out, ...run.flags];
  try {
    // Without DEEPR_BINARY: both builds must load their own addon.
    const { DEEPR_BINARY: _ignored, ...env } = process.env;
    execFileSync(process.execPath, args, { cwd: dirname(out), env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  } catch (e) {
    throw new Error(`${label}: \`deepr ${args.slice(1).join(" ")}\` failed:\n${(e.stderr ?? e.message).trim().split("\n").slice(-10).join("\n")}`);
  }
}

const commit = process.argv[2] ?? DEFAULT_COMMIT;
const work = mkdtempSync(join(tmpdir(), "deepr-same-results-"));
try {
  const stale = staleDist() ?? staleAddon();
  if (stale) throw new Error(`same-results: this working tree's build is not current (${stale}), so it would not test the code as it is`);
  const older = commitBuild(commit);
  const rows = [];
  for (const run of RUNS) {
    const file = (side) => join(work, `${side}-${run.name.replace(/\W+/g, "-")}.safetensors`);
    const started = Date.now();
    train(join(ROOT, "dist", "cli.js"), "this build", run, file("ours"));
    train(older.cli, older.short, run, file("theirs"));
    console.error(`same-results: ${run.name} trained with both builds in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const digests = (side) => tensorDigests(readFileSync(file(side)), file(side));
    for (const row of compareDigests(digests("ours"), digests("theirs"))) rows.push({ run: run.name, ...row });
  }

  const describe = (t) => (t ? `${t.dtype} [${t.shape.join(", ")}]` : "–");
  const layout = (r) => (!r.ours || !r.theirs || describe(r.ours) === describe(r.theirs) ? describe(r.ours ?? r.theirs) : `${describe(r.ours)} vs ${describe(r.theirs)}`);
  const digest = (t) => (t ? t.sha256.slice(0, 16) : "missing");
  console.log(`Tensor data of \`deepr train --seed 1 --json --out FILE [flags]\`: this build (${ROOT}) against ${older.short} (${older.dir})\n`);
  console.log(`Runs: ${RUNS.map((r) => `${r.name} (${r.flags.join(" ") || "no flags"})`).join(", ")}.\n`);
  console.log(`| run | tensor | dtype [shape] | SHA-256 this build | SHA-256 ${older.short} | identical |`);
  console.log("|---|---|---|---|---|---|");
  for (const r of rows) console.log(`| ${r.run} | ${r.name} | ${layout(r)} | ${digest(r.ours)} | ${digest(r.theirs)} | ${r.same ? "yes" : "**NO**"} |`);
  const differing = rows.filter((r) => !r.same);
  console.log(
    differing.length === 0
      ? `\nAll ${rows.length} tensors of the ${RUNS.length} runs are bit-identical (SHA-256 of the data, first 16 hex digits shown).`
      : `\n${differing.length} of ${rows.length} tensors differ, in ${RUNS.filter((run) => differing.some((r) => r.run === run.name))
          .map((run) => `${run.name} (${differing.filter((r) => r.run === run.name).length} of ${rows.filter((r) => r.run === run.name).length})`)
          .join(", ")}.`,
  );
  process.exitCode = differing.length === 0 ? 0 : 1;
} catch (e) {
  console.error(e.message);
  process.exitCode = 2;
} finally {
  rmSync(work, { recursive: true, force: true });
}
