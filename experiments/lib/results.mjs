// The raw numbers of an experiment: one object per run, stamped with what produced them (the deepr
// version and git commit, the machine), written to experiments/results/<name>[.quick].json.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const RESULTS_DIR = join(ROOT, "experiments", "results");

let info;

/** The deepr version, the git commit (with "-dirty" when the tree has changes) and the hardware. */
export function runInfo() {
  info ??= {
    deeprVersion: JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version,
    commit: gitCommit(),
    hardware: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length, memoryGiB: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`, node: process.version },
  };
  return info;
}

function gitCommit() {
  try {
    const git = (...args) => execFileSync("git", ["-C", ROOT, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    // The results directory itself does not make the tree dirty: it is where this run writes.
    const dirty = git("status", "--porcelain", "--", ".", ":(exclude)experiments/results") !== "";
    return git("rev-parse", "HEAD") + (dirty ? "-dirty" : "");
  } catch {
    return "unknown (not a git checkout)";
  }
}

/** The file the results of experiment `name` go to. */
export function resultsPath(name, { quick = false } = {}) {
  return join(RESULTS_DIR, `${name}${quick ? ".quick" : ""}.json`);
}

/** Writes `rows` (each stamped with the experiment's name and runInfo()) and returns the path. */
export async function writeResults(name, rows, { quick = false } = {}) {
  const path = resultsPath(name, { quick });
  await mkdir(dirname(path), { recursive: true });
  const stamped = rows.map((row) => ({ experiment: name, ...row, ...runInfo() }));
  await writeFile(path, JSON.stringify(stamped, null, 1) + "\n");
  return path;
}
