// The linux-arm64 prebuilt binary, cross-compiled on x64 (`npm run build:prebuild -- --arch=arm64`, with
// Debian's g++-aarch64-linux-gnu) and run under qemu-user by Debian's arm64 Node.js, unpacked by
// `scripts/arm64-sysroot.sh DIR` and named by DEEPR_ARM64_SYSROOT=DIR. That Node is 18, too old for
// dist/ (node:zlib's crc32), so test/children/native-train.cjs trains through the addon's own
// interface. The core computes bit-identical results on every SIMD level, and so on arm64: the
// training must equal, bit for bit, the same training on this machine's local x64 build.
// Skipped unless the binary, qemu-aarch64 and the sysroot are all there.
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { root } from "./helpers/child.js";

const prebuilt = join(root, "prebuilds", "linux-arm64", "deepr.glibc.node");
const sysroot = process.env.DEEPR_ARM64_SYSROOT;
const qemu = "qemu-aarch64";
const runnable =
  process.platform === "linux" && process.arch === "x64" && existsSync(prebuilt) && sysroot !== undefined &&
  existsSync(join(sysroot, "usr", "bin", "node")) && (() => { try { return execFileSync(qemu, ["--version"]).length > 0; } catch { return false; } })();

const driver = join(root, "test", "children", "native-train.cjs");

describe.runIf(runnable)("the linux-arm64 prebuilt binary", () => {
  it("needs glibc 2.34 at most, no libstdc++, and exports Node-API's entry points only", () => {
    // readelf reads any architecture's ELF files, so the host's binutils serve.
    const symbols = execFileSync("readelf", ["--dyn-syms", "-W", prebuilt], { encoding: "utf8" });
    expect(execFileSync("readelf", ["-h", prebuilt], { encoding: "utf8" })).toMatch(/Machine:\s+AArch64/);
    const glibc = [...symbols.matchAll(/@GLIBC_(\d+)\.(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(glibc.length).toBeGreaterThan(0);
    expect(glibc.filter(([major, minor]) => major > 2 || (major === 2 && minor > 34))).toEqual([]);
    expect(symbols).not.toMatch(/@(GLIBCXX|CXXABI)_/);
    const exported = symbols
      .split("\n")
      .filter((line) => /\s(GLOBAL|WEAK)\s/.test(line) && !/\sUND\s/.test(line))
      .map((line) => line.trim().split(/\s+/).at(-1))
      .sort();
    expect(exported).toEqual(["napi_register_module_v1", "node_api_module_get_api_version_v1"]);
  });

  it("trains under qemu-user bit-identically to the local x64 build", async () => {
    const arm = await promisify(execFile)(qemu, ["-L", sysroot!, join(sysroot!, "usr", "bin", "node"), driver, prebuilt], { maxBuffer: 1 << 26 });
    const x64 = await promisify(execFile)(process.execPath, [driver, join(root, "build", "Release", "deepr.node")], { maxBuffer: 1 << 26 });
    const [onArm, onX64] = [JSON.parse(arm.stdout), JSON.parse(x64.stdout)];
    expect(onArm).toMatchObject({ arch: "arm64", simd: "none" });
    expect(onArm.evaluation.correct).toBeGreaterThan(360); // 400 samples of learnable data, 4 classes
    const { loss, evaluation, layers } = onX64;
    expect(onArm).toMatchObject({ loss, evaluation, layers });
  }, 120_000);
});
