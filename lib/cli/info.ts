// deepr info and deepr --version: which deepr, which binary, and how it will run here.
import { createRequire } from "node:module";
import { describeDevice, probeCuda, type CudaProbe } from "../backend.js";
import { binaryInfo, native } from "../native.js";
import { getThreads } from "../threads.js";
import type { Flags } from "./args.js";

const SIMD = {
  avx512: "AVX-512 (x86-64-v4)",
  avx2: "AVX2 + FMA (x86-64-v3)",
  sse2: "SSE2 (x86-64 baseline)",
  none: "no runtime dispatch (the compiler's default target)",
};

/** The package's version, from its package.json (two levels above this file in lib/ and in dist/). */
export function version(): string {
  return (createRequire(import.meta.url)("../../package.json") as { version: string }).version;
}

export function info(flags: Flags): void {
  const binary = binaryInfo();
  const simd = native().simdLevel();
  const report = {
    version: version(),
    node: process.versions.node,
    platform: `${process.platform}-${process.arch}`,
    binary: binary.path,
    binarySource: binary.source,
    simd,
    threads: getThreads(),
    cuda: probeCuda(),
  };
  if (flags.boolean("json")) {
    console.log(JSON.stringify(report));
    return;
  }
  const found = { DEEPR_BINARY: "named by DEEPR_BINARY", build: "local build", prebuilds: "prebuilt binary" }[binary.source];
  console.log(
    [
      `deepr ${report.version} (Node ${report.node}, ${report.platform})`,
      `binary   ${binary.path} (${found})`,
      `SIMD     ${SIMD[simd]}`,
      `threads  ${report.threads} (set with --threads N or DEEPR_THREADS)`,
      ...backendLines(report.cuda),
    ].join("\n"),
  );
}

/** The backends: the CPU always; CUDA with its library and each device, or why it is not available. */
function backendLines(cuda: CudaProbe): string[] {
  const source = { DEEPR_CUDA_LIB: "named by DEEPR_CUDA_LIB", package: "optional package", build: "local build" };
  const library = cuda.library !== undefined ? `library  ${cuda.library} (${source[cuda.source!]})` : [];
  if (cuda.unavailable !== undefined) return ["backends cpu (cuda not available: " + cuda.unavailable + ")", ...[library].flat()];
  return [
    "backends cpu, cuda (backend auto trains on CUDA device 0 where the device trains the network)",
    ...[library].flat(),
    ...cuda.devices.map((d, n) => `device ${n} ${describeDevice(d)}`),
  ];
}
