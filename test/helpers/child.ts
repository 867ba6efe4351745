// Runs a test driver in a child `node`, so that a crash (a signal), an abort or a hang is caught
// and reported with the input that caused it instead of taking the test runner down.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** The drivers import the built package (dist/): build it when lib/ is newer (`npm test` already did). */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  const built = join(root, "dist/index.js");
  if (existsSync(built) && statSync(built).mtimeMs >= newest(join(root, "lib"))) return;
  execFileSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", join(root, "tsconfig.json")], { stdio: "inherit" });
}

/** A scratch directory, in memory (/dev/shm) when there is one: the drivers write many small files. */
export function scratch(prefix: string): string {
  const base = existsSync("/dev/shm") && statSync("/dev/shm").isDirectory() ? "/dev/shm" : tmpdir();
  try {
    return mkdtempSync(join(base, prefix));
  } catch {
    return mkdtempSync(join(tmpdir(), prefix));
  }
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** The driver's case log: what it was doing when it stopped. */
  lastCases: string;
}

export function runDriver(
  script: string,
  args: string[],
  options: { timeoutMs: number; nodeArgs?: string[]; log?: string; env?: NodeJS.ProcessEnv },
): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), join(root, script), ...args], {
      cwd: root,
      env: { ...process.env, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "", stderr = "", timedOut = false;
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-20000)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, options.timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      let lastCases = "";
      if (options.log && existsSync(options.log)) lastCases = readFileSync(options.log, "utf8").trimEnd();
      resolvePromise({ code, signal, timedOut, stdout, stderr, lastCases });
    });
  });
}

/** A failure message for a child that did not exit cleanly: how it ended and what it was running. */
export function describeFailure(name: string, r: ChildResult): string {
  const how = r.timedOut ? "hung (killed after the time limit)" : r.signal ? `died by ${r.signal}` : `exited with code ${r.code}`;
  return [
    `${name} ${how}.`,
    r.lastCases ? `Last cases it logged (the final one was running):\n${r.lastCases}` : "",
    r.stderr ? `stderr:\n${r.stderr.slice(-4000)}` : "",
  ].filter(Boolean).join("\n");
}
