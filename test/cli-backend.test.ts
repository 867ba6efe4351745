// --backend and --device on the command line, and the backends deepr info lists: CUDA through the
// test device library (the CPU table loaded as a device library), the reasons it is unusable, and
// that the default run says nothing about backends where no CUDA library is installed.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { root } from "./helpers/child.js";
import { deepr, jsonLines } from "./helpers/cli.js";
import { buildTestDeviceLibrary } from "./helpers/test-device.js";

const small = ["--limit", "600", "--layers", "784,20,10", "--connectivity", "0.05,0.5", "--lr", "0.1", "--epochs", "1"];
const cudaLibraryBuilt = existsSync(join(root, "build", "Release", "libdeepr_cuda.so"));

let library = "";
beforeAll(() => {
  library = buildTestDeviceLibrary();
}, 600_000);

describe("deepr train --backend", () => {
  it("trains on the device library's device, with the same results as on the CPU, and resumes on the CPU", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-cli-backend-"));
    const env = { DEEPR_CUDA_LIB: library };
    const [cuda, cpu] = await Promise.all([
      deepr(["train", ...small, "--backend", "cuda", "--out", join(dir, "cuda.safetensors")], { env }),
      deepr(["train", ...small, "--backend", "cpu", "--json"], { env }),
    ]);
    expect(cuda.code, cuda.stderr).toBe(0);
    expect(cuda.stderr).toMatch(/^training on CUDA device 0: cpu\n/);
    expect(cpu.stderr).toBe("");  // --json: no header
    const [cpuEpoch, cpuFinal] = jsonLines(cpu.stdout);
    expect(cpuFinal.backend).toEqual({ name: "cpu", requested: "cpu", reason: 'backend "cpu" was asked for' });
    expect(cuda.stdout).toContain(`epoch 1/1  loss ${cpuEpoch.loss.toFixed(4)}  train `);

    const resumed = await deepr(["train", "--resume", join(dir, "cuda.safetensors"), "--epochs", "2", "--backend", "cpu"], { env });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/^training on the CPU: backend "cpu" was asked for\n/);
  }, 120_000);

  it("fails with the reason where CUDA cannot be used, and names a bad --device", async () => {
    const missing = await deepr(["train", ...small, "--backend", "cuda"], { env: { DEEPR_CUDA_LIB: "/nonexistent/libdeepr_cuda.so" } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(
      'deepr: backend "cuda" is not available: there is no file /nonexistent/libdeepr_cuda.so (named by DEEPR_CUDA_LIB). Use backend "auto" or "cpu" to train on the CPU.\n',
    );
    const device = await deepr(["train", ...small, "--device", "-2"], { env: { DEEPR_CUDA_LIB: library } });
    expect(device.code).toBe(2);
    expect(device.stderr).toMatch(/^deepr train: --device must be an integer in \[0, 2147483647\], got -2/);
    const fallback = await deepr(["train", ...small, "--device", "4"], { env: { DEEPR_CUDA_LIB: library } });
    expect(fallback.code, fallback.stderr).toBe(0);
    expect(fallback.stderr).toMatch(/^training on the CPU: there is no CUDA device 4 \(1 found\)\n/);
  }, 120_000);

  it.skipIf(cudaLibraryBuilt)("prints nothing about backends by default where no CUDA library is installed", async () => {
    const r = await deepr(["train", ...small], { env: { DEEPR_CUDA_LIB: "" } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/CUDA|backend|training on/);
  }, 120_000);
});

describe("deepr info", () => {
  it("lists the backends, the CUDA library and each device's description", async () => {
    const [text, json] = await Promise.all([
      deepr(["info"], { env: { DEEPR_CUDA_LIB: library } }),
      deepr(["info", "--json"], { env: { DEEPR_CUDA_LIB: library } }),
    ]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(
      `\nbackends cpu, cuda (backend auto trains on CUDA device 0 where the device trains the network)\nlibrary  ${library} (named by DEEPR_CUDA_LIB)\ndevice 0 cpu\n`,
    );
    expect(JSON.parse(json.stdout).cuda).toEqual({ library, source: "DEEPR_CUDA_LIB", devices: [{ name: "cpu", openContexts: 0 }] });
  });

  it("says why CUDA is not available", async () => {
    const [disabled, foreign] = await Promise.all([
      deepr(["info"], { env: { DEEPR_CUDA_LIB: library, DEEPR_DISABLE_CUDA: "1" } }),
      deepr(["info"], { env: { DEEPR_CUDA_LIB: join(root, "build", "Release", "deepr.node") } }),
    ]);
    expect(disabled.stdout).toMatch(/\nbackends cpu \(cuda not available: DEEPR_DISABLE_CUDA=1 is set\)\n$/);
    expect(foreign.stdout).toContain("is not a deepr device library (it exports no deepr_device_table) (named by DEEPR_CUDA_LIB))\nlibrary  ");
  });
});

describe("the CUDA library search", () => {
  const copies: string[] = [];
  afterAll(() => Promise.all(copies.map((dir) => rm(dir, { recursive: true, force: true }))));

  // A copy of the package whose node_modules holds the optional CUDA package, and whose build/Release/
  // holds a source build's library: `deepr info` in it reports which one it found.
  async function packageCopy(withPackage: boolean, withBuild: boolean): Promise<string> {
    const copy = await mkdtemp(join(tmpdir(), "deepr-cuda-search-"));
    copies.push(copy);
    await cp(join(root, "package.json"), join(copy, "package.json"));
    await cp(join(root, "dist"), join(copy, "dist"), { recursive: true });
    await mkdir(join(copy, "build", "Release"), { recursive: true });
    await symlink(join(root, "build", "Release", "deepr.node"), join(copy, "build", "Release", "deepr.node"));
    if (withBuild) await cp(library, join(copy, "build", "Release", "libdeepr_cuda.so"));
    await mkdir(join(copy, "node_modules"));
    for (const name of await readdir(join(root, "node_modules"))) await symlink(join(root, "node_modules", name), join(copy, "node_modules", name));
    if (withPackage) {
      const cuda = join(copy, "node_modules", "@deepr", `cuda-${process.platform}-${process.arch}`);
      await mkdir(cuda, { recursive: true });
      await writeFile(join(cuda, "package.json"), JSON.stringify({ name: `@deepr/cuda-${process.platform}-${process.arch}`, version: "0.1.0" }));
      await cp(library, join(cuda, "libdeepr_cuda.so"));
    }
    return copy;
  }

  async function found(copy: string, env: NodeJS.ProcessEnv = {}): Promise<{ library?: string; source?: string }> {
    const { stdout } = await promisify(execFile)(process.execPath, [join(copy, "dist", "cli.js"), "info", "--json"], {
      env: { ...process.env, DEEPR_CUDA_LIB: "", ...env },
    });
    return JSON.parse(stdout).cuda;
  }

  it("takes DEEPR_CUDA_LIB first, then the optional package, then a source build's", async () => {
    const both = await packageCopy(true, true);
    const cuda = join(both, "node_modules", "@deepr", `cuda-${process.platform}-${process.arch}`, "libdeepr_cuda.so");
    expect(await found(both, { DEEPR_CUDA_LIB: library })).toMatchObject({ library, source: "DEEPR_CUDA_LIB" });
    expect(await found(both)).toMatchObject({ library: cuda, source: "package", devices: [{ name: "cpu" }] });
    const built = await packageCopy(false, true);
    expect(await found(built)).toMatchObject({ library: join(built, "build", "Release", "libdeepr_cuda.so"), source: "build" });
    expect(await found(await packageCopy(false, false))).toEqual({ devices: [], unavailable: expect.stringMatching(/^no CUDA device library was found/) });
  }, 60_000);
});
