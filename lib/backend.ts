// Where a model trains (README, "GPU (CUDA)"): the `backend` and `device` options, the search for
// the CUDA device library, and the choice `auto` makes. The core trains through any library that
// implements its device interface (cpp/device/device_abi.h) and loads one only when asked; this
// module holds the policy: which library, which device, and what to say when none is usable.
import { createRequire } from "node:module";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { integer, oneOf } from "./checks.js";
import { native, packageRoot, type NativeNetwork } from "./native.js";

export type BackendName = "auto" | "cpu" | "cuda";
export const backendNames: readonly BackendName[] = ["auto", "cpu", "cuda"];

/** Environment variable naming the CUDA device library to load instead of searching for one. */
const CUDA_LIBRARY_VARIABLE = "DEEPR_CUDA_LIB";
/** Environment variable that, set to 1, keeps every model on the CPU (backend "cuda" then fails). */
const DISABLE_CUDA_VARIABLE = "DEEPR_DISABLE_CUDA";
/** The optional package that ships the CUDA device library for this platform. */
const cudaPackage = `@deepr/cuda-${process.platform}-${process.arch}`;
/** The file name of the CUDA device library, in that package and in a source build's build/Release/. */
const CUDA_LIBRARY_FILE = "libdeepr_cuda.so";

/** A device as its library describes it (the members it does not have are left out). */
export interface DeviceDescription {
  name: string;
  computeCapability?: string;
  memoryBytes?: number;
  driver?: string;
}

/** Where a model trains, and why there. */
export interface BackendInfo {
  /** "cuda": train() runs on a GPU; evaluation, prediction and checkpoints stay on the CPU. */
  name: "cpu" | "cuda";
  /** The backend option it was chosen for. */
  requested: BackendName;
  /** With "cuda": the device's ordinal and its description. */
  device?: number;
  description?: DeviceDescription;
  /** The CUDA device library: trained through with "cuda"; found but not usable (the reason says why) with "cpu". */
  library?: string;
  /** Why this backend, in words (the option asked for it, or what `auto` found). */
  reason: string;
}

/** The CUDA device library this process can load, if any, and its devices; or why there is none. */
export interface CudaProbe {
  /** The library found, whether or not it is usable. */
  library?: string;
  /** How it was found. */
  source?: typeof CUDA_LIBRARY_VARIABLE | "package" | "build";
  devices: DeviceDescription[];
  /** Why CUDA cannot be used; undefined when a device is usable. */
  unavailable?: string;
}

/** The error of backend "cuda" where no CUDA device is usable: `code` is "DEEPR_CUDA_UNAVAILABLE". */
export class CudaUnavailableError extends Error {
  readonly code = "DEEPR_CUDA_UNAVAILABLE";
  constructor(readonly reason: string) {
    super(`deepr: backend "cuda" is not available: ${reason}. Use backend "auto" or "cpu" to train on the CPU.`);
    this.name = "CudaUnavailableError";
  }
}

export function backendOption(name: string, value: unknown): BackendName {
  return value === undefined ? "auto" : oneOf(name, value, backendNames);
}

export function deviceOption(name: string, value: unknown): number {
  return value === undefined ? 0 : integer(name, value, 0, 2 ** 31 - 1);
}

/** Where the CUDA device library is: DEEPR_CUDA_LIB, else the optional package, else a source build's. */
function findCudaLibrary(): Pick<CudaProbe, "library" | "source"> {
  const named = process.env[CUDA_LIBRARY_VARIABLE];
  if (named) return { library: named, source: CUDA_LIBRARY_VARIABLE };
  try {
    const manifest = createRequire(import.meta.url).resolve(`${cudaPackage}/package.json`);
    const library = join(dirname(manifest), CUDA_LIBRARY_FILE);
    if (existsSync(library)) return { library, source: "package" };
  } catch {
    // Not installed: the usual case, which costs one failed resolution.
  }
  const built = join(packageRoot(), "build", "Release", CUDA_LIBRARY_FILE);
  return existsSync(built) ? { library: built, source: "build" } : {};
}

/** One probe per library path and process: loading a CUDA library and counting devices takes a while, once. */
const probes = new Map<string, { ok: boolean; reason: string; devices: DeviceDescription[] }>();

function parseDescription(line: string, ordinal: number): DeviceDescription {
  try {
    const parsed = JSON.parse(line) as DeviceDescription;
    if (typeof parsed.name === "string") return parsed;
  } catch {
    // A library that describes its devices badly still trains: name the device by its ordinal.
  }
  return { name: `device ${ordinal}` };
}

/**
 * The CUDA device library and its devices, or why CUDA cannot be used. Loads nothing when
 * DEEPR_DISABLE_CUDA=1 or when no library is found.
 */
export function probeCuda(): CudaProbe {
  if (process.env[DISABLE_CUDA_VARIABLE] === "1") return { devices: [], unavailable: `${DISABLE_CUDA_VARIABLE}=1 is set` };
  const found = findCudaLibrary();
  if (found.library === undefined)
    return {
      devices: [],
      unavailable: `no CUDA device library was found (install ${cudaPackage}, or set ${CUDA_LIBRARY_VARIABLE} to the path of ${CUDA_LIBRARY_FILE})`,
    };
  let probe = probes.get(found.library);
  if (probe === undefined) {
    const answer = native().probeDeviceLibrary(found.library);
    probe = { ok: answer.ok, reason: answer.reason, devices: answer.devices.map(parseDescription) };
    probes.set(found.library, probe);
  }
  const named = found.source === CUDA_LIBRARY_VARIABLE ? ` (named by ${CUDA_LIBRARY_VARIABLE})` : "";
  return { ...found, devices: probe.devices, unavailable: probe.ok ? undefined : `${probe.reason}${named}` };
}

/** "NVIDIA H100 (compute 9.0, 79.2 GiB, driver 550.54)": a device in one line. */
export function describeDevice(d: DeviceDescription): string {
  const details = [
    d.computeCapability !== undefined ? `compute ${d.computeCapability}` : undefined,
    d.memoryBytes !== undefined ? `${(d.memoryBytes / 2 ** 30).toFixed(1)} GiB` : undefined,
    d.driver !== undefined ? `driver ${d.driver}` : undefined,
  ].filter((part) => part !== undefined);
  return details.length > 0 ? `${d.name} (${details.join(", ")})` : d.name;
}

/**
 * Puts `network` on the backend asked for: "cpu" as it is; "cuda" on device `device`, or a
 * CudaUnavailableError (a RangeError for a network no device trains yet); "auto" on CUDA where a
 * device is usable and trains this network, else on the CPU with the reason.
 */
export function placeNetwork(network: NativeNetwork, backend: BackendName, device: number): BackendInfo {
  if (backend === "cpu") return { name: "cpu", requested: "cpu", reason: 'backend "cpu" was asked for' };
  const unsupported = network.deviceSupport();
  if (unsupported !== "") {
    if (backend === "cuda")
      throw new RangeError(`options.backend is "cuda", but the CUDA backend does not yet train ${unsupported}; use backend "auto" or "cpu"`);
    return { name: "cpu", requested: backend, reason: `the CUDA backend does not yet train ${unsupported}` };
  }
  const probe = probeCuda();
  let unavailable = probe.unavailable;
  if (unavailable === undefined && device >= probe.devices.length)
    unavailable = `there is no CUDA device ${device} (${probe.devices.length} found)`;
  if (unavailable === undefined) {
    try {
      network.useDevice(probe.library!, device);
    } catch (cause) {
      unavailable = (cause as Error).message;
    }
  }
  if (unavailable !== undefined) {
    if (backend === "cuda") throw new CudaUnavailableError(unavailable);
    return { name: "cpu", requested: backend, reason: unavailable, ...(probe.library !== undefined ? { library: probe.library } : {}) };
  }
  const description = probe.devices[device];
  const why = backend === "auto" ? "a usable CUDA device was found" : 'backend "cuda" was asked for';
  return { name: "cuda", requested: backend, device, description, library: probe.library, reason: `${why}: ${describeDevice(description)}` };
}
