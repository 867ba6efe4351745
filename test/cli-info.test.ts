// deepr --version and deepr info: the version, which binary runs and how it was found, the SIMD
// level the core dispatched to (checked against the CPU's flags), and the threads.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./helpers/child.js";
import { deepr } from "./helpers/cli.js";

const version = JSON.parse(readFileSync(join(root, "package.json"), "utf8")).version;

/** The level the dispatch should pick on this CPU, from /proc/cpuinfo (x86-64 Linux only). */
function expectedSimd(): string | undefined {
  if (process.platform !== "linux" || process.arch !== "x64") return undefined;
  const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))![1].trim().split(/\s+/));
  const has = (...names: string[]) => names.every((n) => flags.has(n));
  // The psABI levels: x86-64-v3 and x86-64-v4 (each includes the one below).
  const v3 = has("avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave");
  if (v3 && has("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl")) return "avx512";
  return v3 ? "avx2" : "sse2";
}

describe("deepr info", () => {
  it("prints the package version for --version", async () => {
    const r = await deepr(["--version"]);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: "" });
  });

  it("reports version, binary, SIMD level and threads", async () => {
    const [json, text] = await Promise.all([deepr(["info", "--json"], { env: { DEEPR_THREADS: "3" } }), deepr(["info"])]);
    expect(json.code).toBe(0);
    const info = JSON.parse(json.stdout);
    expect(info).toMatchObject({ version, node: process.versions.node, platform: `${process.platform}-${process.arch}`, threads: 3 });
    expect(info.binary).toBe(join(root, "build", "Release", "deepr.node"));
    expect(info.binarySource).toBe("build");
    const simd = expectedSimd();
    if (simd !== undefined) expect(info.simd).toBe(simd);
    expect(text.stdout).toMatch(new RegExp(`^deepr ${version.replace(/\./g, "\\.")} \\(Node .*\\)\nbinary   .*deepr\\.node \\(local build\\)\nSIMD     .+\nthreads  \\d+`));
  });

  it("loads the binary DEEPR_BINARY names, and says clearly when it cannot", async () => {
    const relative = join("build", "Release", "deepr.node");
    const r = await deepr(["info", "--json"], { env: { DEEPR_BINARY: relative }, cwd: root });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ binary: resolve(root, relative), binarySource: "DEEPR_BINARY" });
    const missing = await deepr(["info"], { env: { DEEPR_BINARY: "/nonexistent/deepr.node" } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^deepr: DEEPR_BINARY=\/nonexistent\/deepr\.node could not be loaded as the native addon \(.*\); point it at a deepr\.node built for this platform, or unset it/);
  });
});
