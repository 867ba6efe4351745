// The loader's explanation when no binary loads, on fabricated packages: binaries that are not
// ELF files, are built for another architecture, another platform or libc, or ask for a glibc or
// libstdc++ newer than this system's. The fabricated binaries are copies of the real local build
// with one field changed, so each fails for exactly one reason; the dynamic linker's own verdict
// (process.dlopen) is the independent reference for the version cases. The ELF reader is checked
// against binutils' objdump. Linux x86-64 only (the machine the fabrications are made for).
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { diagnoseBinaries } from "../lib/binary-diagnosis.js";
import { readElfNeeds } from "../lib/elf.js";
import { root } from "./helpers/child.js";
import { deepr } from "./helpers/cli.js";

const built = join(root, "build", "Release", "deepr.node");
const scratch = mkdtempSync(join(tmpdir(), "deepr-diagnosis-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A package directory holding the given files (relative path to contents). */
function fakePackage(name: string, files: Record<string, Buffer | string>): string {
  const dir = join(scratch, name);
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), contents);
  }
  return dir;
}

/** The local build with its ELF machine field set to `machine`. */
function withMachine(machine: number): Buffer {
  const bytes = Buffer.from(readFileSync(built));
  bytes.writeUInt16LE(machine, 18);
  return bytes;
}

/** The local build with one version name in its string table replaced by another of the same length. */
function withVersion(from: string, to: string): Buffer {
  const bytes = Buffer.from(readFileSync(built));
  const at = bytes.indexOf(`${from}\0`, 0, "latin1");
  expect(at, `${from} is not in the local build`).toBeGreaterThan(0);
  bytes.write(to, at, "latin1");
  return bytes;
}

/** The highest version per family objdump lists among the binary's dynamic symbols. */
function objdumpVersions(path: string): Record<string, string> {
  const out = execFileSync("objdump", ["-T", path], { encoding: "utf8" });
  const byFamily: Record<string, string[]> = {};
  for (const [, family, version] of out.matchAll(/\((GLIBC|GLIBCXX|CXXABI|GCC)_([\d.]+)\)/g)) (byFamily[family] ??= []).push(version);
  // Sorted by the numbers padded to fixed width, so "2.9" sorts below "2.34".
  const key = (v: string) => v.split(".").map((n) => n.padStart(6, "0")).join(".");
  return Object.fromEntries(Object.entries(byFamily).map(([family, vs]) => [family, vs.sort((a, b) => key(a).localeCompare(key(b))).at(-1)!]));
}

const reasons = (dir: string) => Object.fromEntries(diagnoseBinaries(dir).map(({ path, reason }) => [path, reason]));

describe.runIf(process.platform === "linux" && process.arch === "x64")("why no binary loads", () => {
  it("reads the architecture and the glibc and libstdc++ versions a binary needs, as objdump does", () => {
    const needs = readElfNeeds(built)!;
    expect(needs.arch).toBe("x64");
    expect(needs.versions).toEqual(objdumpVersions(built));
    expect(Object.keys(needs.versions)).toEqual(expect.arrayContaining(["GLIBC", "GLIBCXX"]));
    expect(readElfNeeds(join(root, "package.json"))).toBeUndefined();
  });

  it("names each binary with its reason: missing, not ELF, other architecture, other platform, other libc", () => {
    const dir = fakePackage("mixed", {
      "prebuilds/linux-x64/deepr.glibc.node": "this is not a shared object\n",
      "prebuilds/linux-x64/deepr.musl.node": readFileSync(built),
      "prebuilds/linux-arm64/deepr.glibc.node": withMachine(183),
      "prebuilds/darwin-arm64/deepr.node": "Mach-O",
    });
    expect(reasons(dir)).toEqual({
      "build/Release/deepr.node": "not there (no local build)",
      "prebuilds/linux-x64/deepr.glibc.node": "not an ELF shared object (a damaged or unfinished file?)",
      "prebuilds/linux-x64/deepr.musl.node": "for musl, this system uses glibc",
      "prebuilds/linux-arm64/deepr.glibc.node": "for linux-arm64, this is linux-x64",
      "prebuilds/darwin-arm64/deepr.node": "for darwin-arm64, this is linux-x64",
    });
  });

  it("reads a mislabelled binary's real architecture from its ELF header", () => {
    const dir = fakePackage("mislabelled", { "build/Release/deepr.node": withMachine(183), "prebuilds/linux-x64/deepr.glibc.node": withMachine(3) });
    expect(reasons(dir)).toEqual({
      "build/Release/deepr.node": "built for arm64, this process is x64",
      "prebuilds/linux-x64/deepr.glibc.node": "built for ia32, this process is x64",
    });
  });

  it("says when a binary needs a newer glibc or libstdc++ than this system has, as the dynamic linker finds", () => {
    const glibc = (process.report.getReport() as { header: { glibcVersionRuntime: string } }).header.glibcVersionRuntime;
    const dir = fakePackage("too-new", {
      "build/Release/deepr.node": withVersion("GLIBC_2.14", "GLIBC_9.99"),
      "prebuilds/linux-x64/deepr.glibc.node": withVersion("GLIBCXX_3.4.30", "GLIBCXX_9.9.99"),
    });
    expect(reasons(dir)).toEqual({
      "build/Release/deepr.node": `needs glibc >= 9.99, this system has ${glibc}`,
      "prebuilds/linux-x64/deepr.glibc.node": expect.stringMatching(/^needs a newer libstdc\+\+ than this system's \(it asks for GLIBCXX_9\.9\.99\): .*GLIBCXX_9\.9\.99' not found/),
    });
    // The reference: the dynamic linker refuses both for that reason.
    for (const [file, version] of [["build/Release/deepr.node", "GLIBC_9.99"], ["prebuilds/linux-x64/deepr.glibc.node", "GLIBCXX_9.9.99"]])
      expect(() => process.dlopen({ exports: {} } as NodeJS.Module, join(dir, file))).toThrow(`version \`${version}' not found`);
  });

  it("explains why the binary DEEPR_BINARY names does not load", async () => {
    const dir = fakePackage("override", { "arm64.node": withMachine(183), "text.node": "#!/bin/sh\n" });
    const [arm, text] = await Promise.all(["arm64.node", "text.node"].map((file) => deepr(["info"], { env: { DEEPR_BINARY: join(dir, file) } })));
    expect(arm.code).toBe(1);
    expect(arm.stderr).toMatch(/could not be loaded as the native addon \(built for arm64, this process is x64\); point it at a deepr\.node built for this platform/);
    expect(text.stderr).toMatch(/could not be loaded as the native addon \(not an ELF shared object \(a damaged or unfinished file\?\)\)/);
  });

  it("says so when a package ships no prebuilt binaries, and that a binary which loads is not the problem", () => {
    const dir = fakePackage("local-only", { "build/Release/deepr.node": readFileSync(built) });
    expect(reasons(dir)).toEqual({
      "build/Release/deepr.node": "loads (the failure was elsewhere)",
      "prebuilds/": "not there (this copy of deepr ships no prebuilt binaries)",
    });
  });
});
