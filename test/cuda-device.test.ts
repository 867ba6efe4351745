// The GPU itself, where one is usable: the CUDA device library named by DEEPR_CUDA_LIB, else a source
// build's (build/Release/, or scripts/gpu-check.sh's and the compile check's under build-cuda/), with
// a device that has a compute capability (the test device library's "cpu" device has none). There,
// scripts/gpu-node-check.mjs runs in its short setting (the default MNIST network on cuda and cpu,
// the strict bound after every step, a missing device, an out-of-memory model, dispose, the speed
// table) and every check must pass; a device index past the last must be refused. Elsewhere (CI,
// machines without a GPU) the tests skip and say why; backend.test.ts runs the host path there.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CudaUnavailableError, Model } from "../lib/index.js";
import { probeCuda } from "../lib/backend.js";
import { ensureBuilt, root, runDriver } from "./helpers/child.js";

const LIBRARY_VARIABLE = "DEEPR_CUDA_LIB";
const builds = ["build/Release", "build-cuda/native", "build-cuda/lib", "build-cuda-lib"].map((dir) => join(root, dir, "libdeepr_cuda.so"));

/** The first library with a usable CUDA device and its device count, or why there is none. */
function findCudaDevice(): { library: string; devices: number } | { reason: string } {
  const named = process.env[LIBRARY_VARIABLE];
  const candidates = named ? [named] : builds.filter((path) => existsSync(path));
  if (candidates.length === 0) return { reason: `no CUDA device library: ${LIBRARY_VARIABLE} is not set and no source build has ${builds.map((p) => p.slice(root.length + 1)).join(", ")}` };
  const reasons: string[] = [];
  for (const library of candidates) {
    process.env[LIBRARY_VARIABLE] = library;
    const probe = probeCuda();
    if (probe.unavailable !== undefined) reasons.push(probe.unavailable);
    else if (probe.devices[0]?.computeCapability === undefined) reasons.push(`${library}'s device 0 (${probe.devices[0]?.name}) is not a CUDA GPU`);
    else return { library, devices: probe.devices.length };
  }
  if (named) process.env[LIBRARY_VARIABLE] = named;
  else delete process.env[LIBRARY_VARIABLE];
  return { reason: reasons.join("; ") };
}

const found = findCudaDevice();
if ("reason" in found) console.warn(`test/cuda-device.test.ts: the GPU tests skip: ${found.reason}`);
const title = "reason" in found ? `on a CUDA GPU (skipped: ${found.reason})` : `on the CUDA GPU of ${found.library}`;

describe.runIf(!("reason" in found))(title, () => {
  const { library, devices } = found as { library: string; devices: number };

  it("passes every check of scripts/gpu-node-check.mjs --quick", async () => {
    ensureBuilt();
    const run = await runDriver("scripts/gpu-node-check.mjs", ["--quick"], { timeoutMs: 600_000, env: { [LIBRARY_VARIABLE]: library } });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(output).not.toMatch(/ FAIL /);
    expect(run.code, output).toBe(0);
    const checks = [
      "a CUDA device is usable", "seed 1: cuda accuracy = cpu's", "seed 1: cuda run = cpu run, bits", "seed 1: strict bound after fit",
      "strict bound after every step", "a device that does not exist", "a model too big for the device",
    ];
    for (const name of checks) expect(run.stdout).toMatch(new RegExp(`^${name.padEnd(34)} pass `, "m"));
    // Without nvidia-smi the real library reports no memory in use, and the check says so.
    expect(run.stdout).toMatch(/^dispose gives the device back\s+(pass|skip) /m);
    expect(run.stdout).toMatch(/^784-300-100-10, 1\/3\/30 %, batch 10 +[0-9.]+ +[0-9.]+ /m);
    expect(run.stdout).toContain("gpu-node-check: all checks passed");
  }, 600_000);

  it("refuses a device index past the last, and auto trains on the CPU", () => {
    process.env[LIBRARY_VARIABLE] = library;
    const options = { layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3] };
    const reason = `there is no CUDA device ${devices} (${devices} found)`;
    expect(() => Model.create({ ...options, backend: "cuda", device: devices })).toThrow(
      expect.objectContaining({ name: "CudaUnavailableError", code: "DEEPR_CUDA_UNAVAILABLE", reason }),
    );
    expect(() => Model.create({ ...options, backend: "cuda", device: devices })).toThrow(CudaUnavailableError);
    const auto = Model.create({ ...options, device: devices });
    expect(auto.backend).toMatchObject({ name: "cpu", requested: "auto", reason });
    auto.dispose();
    const gpu = Model.create({ ...options, backend: "cuda" });
    expect(gpu.backend).toMatchObject({ name: "cuda", device: 0, library, description: { computeCapability: expect.stringMatching(/^\d+\.\d+$/) } });
    gpu.dispose();
  });
});
