// A build of an older commit of this repository beside the working tree, for same-run
// comparisons (bench/vs-commit.mjs: step time; scripts/same-results.mjs: trained tensors).
// The commit is unpacked with `git archive` into $TMPDIR/deepr-baseline-<sha>, its own locked
// dependencies are installed from npm's cache (`npm ci --prefer-offline --ignore-scripts`), and
// its addon (cmake-js) and dist/ (tsc) are built there, once: a finished build is reused.
//
//   node bench/commit-build.mjs [COMMIT]    builds (if needed) and prints the directory
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ROOT } from "./common.mjs";

/**
 * The commit compared against when none is given: the last one before the core was reshaped
 * into layers, parameter stores and update rules (issue 12), whose speed and results the
 * reshaped core must keep.
 */
export const DEFAULT_COMMIT = "207c147ea8b1378e0bf81bd807232b7870e6863c";

/** Written last into a finished build; a directory without it is a build that was cut short. */
const DONE_MARKER = ".deepr-baseline-done";

/** The full SHA of `commit`, or an error that says how to name one. */
export function resolveCommit(commit) {
  try {
    return execFileSync("git", ["-C", ROOT, "rev-parse", "--verify", "--quiet", `${commit}^{commit}`], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    throw new Error(`commit-build: ${JSON.stringify(commit)} is not a commit of ${ROOT}; give a SHA, tag or branch that \`git log\` shows`);
  }
}

/**
 * Builds `commit` once and returns where: `dir` (the unpacked tree), `sha`, `short`, and the
 * paths of its `cli` (dist/cli.js) and its step timer (bench/deepr.mjs). Progress goes to stderr.
 */
export function commitBuild(commit = DEFAULT_COMMIT, log = (line) => console.error(line)) {
  const sha = resolveCommit(commit);
  const short = sha.slice(0, 7);
  const dir = join(tmpdir(), `deepr-baseline-${sha.slice(0, 12)}`);
  const build = { dir, sha, short, cli: join(dir, "dist", "cli.js"), timer: join(dir, "bench", "deepr.mjs") };
  if (isBuilt(dir, sha)) return build;

  // Built in a directory of its own and renamed when complete, so that a build cut short is
  // never used and two processes building the same commit do not write into one tree.
  const staging = `${dir}.partial-${process.pid}`;
  log(`commit-build: building ${short} in ${staging} (once; about a minute)`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const run = (what, command, args) => {
    log(`commit-build:   ${what}`);
    try {
      execFileSync(command, args, { cwd: staging, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
    } catch (e) {
      throw new Error(`commit-build: ${what} failed for ${short}:\n${(e.stderr ?? e.message).trim().split("\n").slice(-15).join("\n")}`);
    }
  };
  try {
    buildIn(staging, sha, run);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  if (!isBuilt(dir, sha)) {
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  } else rmSync(staging, { recursive: true, force: true }); // another process finished first
  return build;
}

/** Unpacks `sha` into `staging` and builds it there with `run(what, command, args)`. */
function buildIn(staging, sha, run) {
  const archive = join(staging, "source.tar");
  run("git archive", "git", ["-C", ROOT, "archive", "--format=tar", `--output=${archive}`, sha]);
  run("unpack", "tar", ["-xf", archive]);
  rmSync(archive);
  // --ignore-scripts: the package's install hook would build the addon; it is built below, the
  // same way for every commit. The dependencies come from npm's cache when they are there.
  run("npm ci (from the cache)", "npm", ["ci", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"]);
  run("addon (cmake-js build)", "npx", ["--no", "cmake-js", "build"]);
  run("dist/ (npm run build)", "npm", ["run", "build"]);
  for (const path of ["build/Release/deepr.node", "dist/cli.js", "bench/deepr.mjs"])
    if (!existsSync(join(staging, path))) throw new Error(`commit-build: ${sha.slice(0, 7)} built without ${path}; it predates the tools these comparisons need`);
  writeFileSync(join(staging, DONE_MARKER), `${sha}\n`);
}

/** Whether `dir` holds a finished build of `sha`. */
function isBuilt(dir, sha) {
  const marker = join(dir, DONE_MARKER);
  return existsSync(marker) && readFileSync(marker, "utf8").trim() === sha;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    console.log(commitBuild(process.argv[2] ?? DEFAULT_COMMIT).dir);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
