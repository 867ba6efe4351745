// The CUDA package, @deepr/cuda-linux-x64 (`npm run prebuild:cuda`, scripts/prebuild-cuda.sh): the
// tarball holds the library, its manifest and README only, at deepr's version; unpacked beside deepr
// it is the library deepr finds, loads and probes (on a machine without a GPU, the probe says why
// none is usable). Needs nvcc to build; skipped, saying so, without it.
import { execFile, execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { root } from "./helpers/child.js";

const run = promisify(execFile);
const nvcc = (() => {
  try {
    execFileSync(process.env.NVCC || "nvcc", ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
if (!nvcc) console.log("test/cuda-package.test.ts: skipped: nvcc is not on the PATH (the CUDA package cannot be built)");
const linuxX64 = process.platform === "linux" && process.arch === "x64";

describe.skipIf(!nvcc || !linuxX64)("the CUDA package", () => {
  let copy = "";
  afterAll(() => (copy ? rm(copy, { recursive: true, force: true }) : undefined));

  it("packs libdeepr_cuda.so at deepr's version, and deepr finds and probes it once installed", async () => {
    const { stdout } = await run("npm", ["run", "--silent", "prebuild:cuda"], { cwd: root, env: { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: "2" } });
    const tarball = /prebuild-cuda: (\S+\.tgz):/.exec(stdout)?.[1];
    expect(tarball, stdout).toBeDefined();
    const contents = (await run("tar", ["tzf", join(root, tarball!)])).stdout.trim().split("\n").sort();
    expect(contents).toEqual(["package/README.md", "package/libdeepr_cuda.so", "package/package.json"]);
    const manifest = JSON.parse((await run("tar", ["xzf", join(root, tarball!), "-O", "package/package.json"])).stdout);
    const deepr = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(manifest).toMatchObject({ name: "@deepr/cuda-linux-x64", version: deepr.version, os: ["linux"], cpu: ["x64"] });

    // A copy of deepr (its dist/ and addon) with the package unpacked into its node_modules.
    copy = await mkdtemp(join(tmpdir(), "deepr-cuda-package-"));
    await cp(join(root, "package.json"), join(copy, "package.json"));
    await cp(join(root, "dist"), join(copy, "dist"), { recursive: true });
    await mkdir(join(copy, "build", "Release"), { recursive: true });
    await symlink(join(root, "build", "Release", "deepr.node"), join(copy, "build", "Release", "deepr.node"));
    await mkdir(join(copy, "node_modules", "@deepr", "cuda-linux-x64"), { recursive: true });
    for (const name of await readdir(join(root, "node_modules"))) await symlink(join(root, "node_modules", name), join(copy, "node_modules", name));
    await run("tar", ["xzf", join(root, tarball!), "-C", join(copy, "node_modules", "@deepr", "cuda-linux-x64"), "--strip-components=1"]);
    const installed = join(copy, "node_modules", "@deepr", "cuda-linux-x64", "libdeepr_cuda.so");
    expect(existsSync(installed)).toBe(true);

    const info = JSON.parse((await run(process.execPath, [join(copy, "dist", "cli.js"), "info", "--json"], { env: { ...process.env, DEEPR_CUDA_LIB: "" } })).stdout);
    expect(info.cuda).toMatchObject({ library: installed, source: "package" });
    // The real library answered the probe: with a GPU it lists the devices; without one it says why.
    if (info.cuda.unavailable === undefined) expect(info.cuda.devices.length).toBeGreaterThan(0);
    else expect(info.cuda.unavailable).toMatch(/driver|device/);
  }, 300_000);
});
