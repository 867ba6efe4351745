// Why no addon binary loads: every binary the package has (its local builds and each prebuilt
// one) with the reason it does not fit this process, as sharp's loader explains its failures.
import { createRequire } from "node:module";
import { existsSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { compareVersions, readElfNeeds } from "./elf.js";

/** The Node-API version the addon is built for (CMakeLists.txt: NAPI_VERSION). */
const NAPI_VERSION = 8;

/** The glibc this process runs with, or undefined (musl, or not Linux). */
function runtimeGlibc(): string | undefined {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return header?.glibcVersionRuntime;
}

/** Why the addon binary at `path` cannot be loaded here, in words, or undefined when it loads. */
export function whyBinaryFails(path: string): string | undefined {
  return whyNot(path, process.platform === "linux" ? runtimeGlibc() : undefined);
}

/** Why `path` cannot be loaded here, or undefined when it loads. Loads it only when nothing else rules it out. */
function whyNot(path: string, libc: string | undefined): string | undefined {
  if (!existsSync(path)) return "not there";
  if (process.platform === "linux") {
    const elf = readElfNeeds(path);
    if (elf === undefined) return "not an ELF shared object (a damaged or unfinished file?)";
    if (elf.arch !== process.arch) return `built for ${elf.arch}, this process is ${process.arch}`;
    const glibc = elf.versions.GLIBC;
    if (glibc !== undefined && libc === undefined) return `built for glibc, this system's C library is another (musl?)`;
    if (glibc !== undefined && libc !== undefined && compareVersions(glibc, libc) > 0) return `needs glibc >= ${glibc}, this system has ${libc}`;
  }
  try {
    createRequire(import.meta.url)(path);
    return undefined;
  } catch (error) {
    const message = (error as Error).message;
    const cxx = /version `((?:GLIBCXX|CXXABI)_[\d.]+)' not found/.exec(message);
    if (cxx) return `needs a newer libstdc++ than this system's (it asks for ${cxx[1]}): ${message.split("\n")[0]}`;
    return `does not load: ${message.split("\n")[0]}`;
  }
}

/** Why a prebuilt binary in prebuilds/<dir>/<file> does not fit this process, from its name alone. */
function wrongTarget(dir: string, file: string, libc: string | undefined): string | undefined {
  const here = `${process.platform}-${process.arch}`;
  if (dir !== here) return `for ${dir}, this is ${here}`;
  const tags = file.split(".");
  if (process.platform === "linux" && tags.includes("musl") && libc !== undefined) return "for musl, this system uses glibc";
  if (process.platform === "linux" && tags.includes("glibc") && libc === undefined) return "for glibc, this system's C library is another (musl?)";
  return undefined;
}

/** Each binary the package at `root` has, relative to it, with why it does not load here. */
export function diagnoseBinaries(root: string): { path: string; reason: string }[] {
  const libc = process.platform === "linux" ? runtimeGlibc() : undefined;
  const tried: { path: string; reason: string }[] = [];
  const note = (path: string, reason: string | undefined) => tried.push({ path: relative(root, path), reason: reason ?? "loads (the failure was elsewhere)" });
  if (Number(process.versions.napi) < NAPI_VERSION)
    tried.push({ path: "every binary", reason: `deepr needs Node-API ${NAPI_VERSION}, this Node has ${process.versions.napi}: upgrade Node` });
  // node-gyp-build's order: a local build first, then the prebuilt binaries.
  const local = join(root, "build", "Release", "deepr.node");
  note(local, existsSync(local) ? whyNot(local, libc) : "not there (no local build)");
  const prebuilds = join(root, "prebuilds");
  const dirs = existsSync(prebuilds) ? readdirSync(prebuilds, { withFileTypes: true }).filter((e) => e.isDirectory()) : [];
  if (dirs.length === 0) tried.push({ path: "prebuilds/", reason: "not there (this copy of deepr ships no prebuilt binaries)" });
  for (const dir of dirs) {
    for (const file of readdirSync(join(prebuilds, dir.name)).filter((f) => f.endsWith(".node"))) {
      const path = join(prebuilds, dir.name, file);
      note(path, wrongTarget(dir.name, file, libc) ?? whyNot(path, libc));
    }
  }
  return tried;
}
