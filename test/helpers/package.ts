// The npm package as a user gets it: `npm pack` of this repository, installed offline from the
// tarball into a fresh project outside it (test/package.test.ts builds from source there,
// test/package-prebuilt.test.ts installs the prebuilt binary with no build tools on the PATH).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { root } from "./child.js";

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<Run> {
  try {
    const { stdout, stderr } = await promisify(execFile)(command, args, { cwd, env, maxBuffer: 1 << 26 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const error = e as { code: unknown; stdout?: string; stderr?: string };
    if (typeof error.code !== "number") throw e;
    return { code: error.code, stdout: error.stdout ?? "", stderr: error.stderr ?? "" };
  }
}

export function onPath(name: string): string {
  const dir = (process.env.PATH ?? "").split(delimiter).find((d) => d !== "" && existsSync(join(d, name)));
  if (!dir) throw new Error(`${name} is not on the PATH`);
  return join(dir, name);
}

// A user's shell: none of the npm_* variables that `npm test` sets for its scripts, and no
// DEEPR_SKIP_INSTALL_BUILD from a CI set-up.
export const userEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key) && key !== "DEEPR_SKIP_INSTALL_BUILD"),
);

/** A PATH holding only node, npm and sh, plus the given tools (name to target), so that others are missing. */
export async function barePath(dir: string, tools: Record<string, string>): Promise<string> {
  await mkdir(dir);
  const links = { node: process.execPath, npm: onPath("npm"), sh: onPath("sh"), ...tools };
  for (const [name, target] of Object.entries(links)) await symlink(target, join(dir, name));
  return dir;
}

/** `npm pack`s this repository into `dir`: the tarball's path and the files it holds. */
export async function pack(dir: string): Promise<{ tarball: string; files: string[] }> {
  if (!existsSync(join(root, "dist", "index.js"))) throw new Error("dist/ is missing: run `npm run build` first (`npm test` does)");
  // --ignore-scripts: pack the dist/ that `npm test` built, rather than rebuild it under the other test files.
  const packed = await run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", dir], root, userEnv);
  if (packed.code !== 0) throw new Error(`npm pack failed:\n${packed.stderr}`);
  const [report] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  return { tarball: join(dir, report.filename), files: report.files.map((f) => f.path).sort() };
}

/**
 * A new project in `dir`/`name` depending on the tarball. Its lockfile pins deepr's dependencies
 * to this repository's lockfile, so npm takes them from its cache (where this repository's
 * `npm install` put them) instead of asking the registry for their versions: nothing is fetched.
 */
export async function newProject(dir: string, name: string, tarball: string): Promise<string> {
  const project = join(dir, name);
  await mkdir(project);
  const lock = JSON.parse(await readFile(join(root, "package-lock.json"), "utf8"));
  const own = lock.packages[""];
  const dependencies = { deepr: `file:${tarball}` };
  const packages: Record<string, unknown> = {
    "": { name, dependencies },
    "node_modules/deepr": {
      version: own.version,
      resolved: `file:${tarball}`,
      license: own.license,
      hasInstallScript: true,
      dependencies: own.dependencies,
      bin: own.bin,
      engines: own.engines,
    },
  };
  for (const [path, entry] of Object.entries(lock.packages as Record<string, { dev?: boolean }>))
    if (path !== "" && !entry.dev) packages[path] = entry;
  await writeFile(join(project, "package.json"), JSON.stringify({ name, private: true, type: "module", dependencies }));
  await writeFile(join(project, "package-lock.json"), JSON.stringify({ name, lockfileVersion: 3, requires: true, packages }));
  return project;
}
