// The linux-x64 prebuilt binary (`npm run build:prebuild`; .ci/run makes it before the tests): what it
// asks of the machine it loads on, read with binutils. Its floor is glibc 2.34 (Debian 12, Ubuntu
// 22.04, RHEL 9) and nothing else: libstdc++ is linked in, so no GLIBCXX or CXXABI version is
// needed, and only glibc's libraries and libgcc_s (GCC 4.2's unwinder interface) are loaded.
// Without prebuilds/ (a plain `npm test`) these tests are skipped.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { root } from "./helpers/child.js";
import { deepr } from "./helpers/cli.js";

const prebuilt = join(root, "prebuilds", "linux-x64", "deepr.glibc.node");
const GLIBC_FLOOR = [2, 34];

/** Each symbol version the binary's dynamic symbols ask for, as "FAMILY_x.y". */
function versionsNeeded(path: string): string[] {
  const out = execFileSync("objdump", ["-T", path], { encoding: "utf8" });
  return [...new Set([...out.matchAll(/\*UND\*\s+\S+\s+\(?([A-Z]+_[\d.]+)\)?/g)].map((m) => m[1]))];
}

describe.runIf(process.platform === "linux" && process.arch === "x64" && existsSync(prebuilt))("the linux-x64 prebuilt binary", () => {
  it(`needs glibc ${GLIBC_FLOOR.join(".")} at most, no libstdc++ and libgcc_s from GCC 4.2`, () => {
    const needed = versionsNeeded(prebuilt);
    const glibc = needed.filter((v) => v.startsWith("GLIBC_")).map((v) => v.slice(6).split(".").map(Number));
    expect(glibc.length).toBeGreaterThan(0);
    const above = glibc.filter(([major, minor]) => major > GLIBC_FLOOR[0] || (major === GLIBC_FLOOR[0] && minor > GLIBC_FLOOR[1]));
    expect(above.map((v) => v.join("."))).toEqual([]);
    expect(needed.filter((v) => /^(GLIBCXX|CXXABI)_/.test(v))).toEqual([]);
    expect(needed.filter((v) => v.startsWith("GCC_") && !["GCC_3.0", "GCC_3.3", "GCC_4.2.0"].includes(v))).toEqual([]);
  });

  it("loads glibc's libraries and libgcc_s only, and exports Node-API's entry points only", () => {
    const dynamic = execFileSync("readelf", ["-d", prebuilt], { encoding: "utf8" });
    const libraries = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[(.+)\]/g)].map((m) => m[1]).sort();
    expect(libraries).toEqual(["ld-linux-x86-64.so.2", "libc.so.6", "libgcc_s.so.1", "libm.so.6"]);
    const exported = execFileSync("objdump", ["-T", prebuilt], { encoding: "utf8" })
      .split("\n")
      .filter((line) => /^[0-9a-f]{16}\s/.test(line) && !line.includes("*UND*"))
      .map((line) => line.trim().split(/\s+/).at(-1))
      .sort();
    expect(exported).toEqual(["napi_register_module_v1", "node_api_module_get_api_version_v1"]);
  });

  it("runs the core with the SIMD level of the local build, found as DEEPR_BINARY", async () => {
    const [own, local] = await Promise.all([deepr(["info", "--json"], { env: { DEEPR_BINARY: prebuilt } }), deepr(["info", "--json"])]);
    expect(own.code, own.stderr).toBe(0);
    expect(JSON.parse(own.stdout)).toMatchObject({ binary: prebuilt, binarySource: "DEEPR_BINARY", simd: JSON.parse(local.stdout).simd });
  });
});
