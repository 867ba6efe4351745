// deepr experiment NAME ...: runs one of the paper's experiments by handing the arguments to
// experiments/run.mjs, which exists only in a clone of the repository (the npm package leaves
// experiments/ out: they need vega, MNIST runs of an hour, and write into the source tree).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** experiments/run.mjs beside dist/ (this file is dist/cli/experiment.js). */
const RUNNER = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "experiments", "run.mjs");

/** Runs `node experiments/run.mjs ...args` with this terminal and takes its exit status. */
export async function experiment(args: readonly string[]): Promise<void> {
  if (!existsSync(RUNNER))
    throw new Error(
      "deepr experiment runs the paper's experiments from a clone of the deepr repository; the npm package does not ship them " +
        `(${RUNNER} is missing): clone the repository, run \`npm install\` there, then \`npx deepr experiment fig1-mlp --quick\``,
    );
  const child = spawn(process.execPath, [RUNNER, ...args], { stdio: "inherit" });
  const code = await new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (status, signal) => resolve(status ?? (signal === "SIGINT" ? 130 : 1)));
  });
  process.exitCode = code;
}
