// Runs the compiled command line (dist/cli.js) as a user does, in a child process.
import { execFile } from "node:child_process";
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

/** The JSON lines of --json output. */
export const jsonLines = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l));
