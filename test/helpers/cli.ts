// Runs the compiled command line (dist/cli.js) as a user does, in a child process.
import { execFile, spawn } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { ensureBuilt, root } from "./child.js";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function deepr(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  ensureBuilt();
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(root, "dist", "cli.js"), ...args], {
      maxBuffer: 1 << 24,
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/**
 * Runs `deepr ARGS` (with --json, so each epoch prints a line) and sends it SIGINT once the first
 * line is out: the interrupt lands while it trains.
 */
export async function interruptedAfterFirstEpoch(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  ensureBuilt();
  const child = spawn(process.execPath, [join(root, "dist", "cli.js"), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "", stderr = "", sent = false;
  child.stderr.on("data", (d) => (stderr += d));
  child.stdout.on("data", (d) => {
    stdout += d;
    if (!sent && stdout.includes("\n")) sent = child.kill("SIGINT");
  });
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, stdout, stderr };
}

/** The JSON lines of --json output. */
export const jsonLines = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l));
