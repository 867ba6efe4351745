// Shared helpers of the benchmark suite: statistics, the environment the baselines run in,
// the addon loader, child processes speaking the JSON protocol, and machine facts.
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const BENCH = dirname(fileURLToPath(import.meta.url));
export const ROOT = dirname(BENCH);

/** The MLP every MLP case uses (deepr's reference network, no biases). */
export const MLP = [784, 300, 100, 10];
/** Hyper-parameters of the timed deepr steps: the reference ones with a smaller lr (stable on random data). */
export const LR = 0.05;
export const HYPER = { lr: LR, alpha: 1e-5, noiseStd: LR * 1e-5 };  // plain SGD: the rule declares no momentum
/**
 * How deepr's MLP cases are timed: a fixed step count (on random labels the churn of connections
 * grows with training time), in calls of `chunk` steps (Model.fit makes calls of about 40 ms; the
 * cost of a call is measured apart).
 */
export const DEEPR_MLP_STEPS = { warmup: 40, steps: 1000, minMs: 0, chunk: 50 };
/** OpenBLAS variables this machine sets that slow a current OpenBLAS; removed for the benchmark processes only. */
export const UNSET_VARS = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
}

/**
 * glibc malloc settings for the Python baselines: keep freed memory instead of returning it to
 * the OS, so per-step temporaries (~1 MB) are not page-faulted in again on every step (what
 * jemalloc/tcmalloc do, which PyTorch's CPU performance guide recommends).
 */
export const PY_MALLOC = { MALLOC_TRIM_THRESHOLD_: String(256 << 20), MALLOC_MMAP_THRESHOLD_: String(256 << 20), MALLOC_TOP_PAD_: String(64 << 20) };

/** The environment of every benchmark child process: OPENBLAS_CORETYPE/L2_SIZE removed, plus `extra`. */
export function benchEnv(extra = {}) {
  const env = { ...process.env };
  for (const name of UNSET_VARS) delete env[name];
  return { ...env, ...extra };
}

/** The environment of a Python baseline with `threads` BLAS/OpenMP threads. */
export function pythonEnv(threads) {
  return benchEnv({ ...PY_MALLOC, OPENBLAS_NUM_THREADS: String(threads), OMP_NUM_THREADS: String(threads) });
}

/**
 * The connectivity at which deepr's step takes as long as the fastest dense step `denseUs`, linearly
 * interpolated between the two measured densities around it; `points` are [connectivity, µs].
 * Returns { text } and, when measured, { value } (with `below` or `above` when outside the sweep).
 */
export function breakEvenDensity(points, denseUs) {
  const pts = [...points].sort((a, b) => a[0] - b[0]);
  if (!denseUs || pts.length === 0) return { text: "–" };
  if (pts[0][1] >= denseUs) return { text: `< ${pts[0][0] * 100} % (deepr is slower at every density measured)`, value: pts[0][0], below: true };
  for (let i = 0; i + 1 < pts.length; i++) {
    const [p0, t0] = pts[i], [p1, t1] = pts[i + 1];
    if (t0 < denseUs && t1 >= denseUs) {
      const p = p0 + ((denseUs - t0) / (t1 - t0)) * (p1 - p0);
      return { text: `≈ ${(p * 100).toFixed(1)} % (between ${p0 * 100} % and ${p1 * 100} %)`, value: p };
    }
  }
  return { text: `> ${pts.at(-1)[0] * 100} % (deepr is faster at every density measured)`, value: pts.at(-1)[0], above: true };
}

/** Budgets as the package computes them: K_l = floor(in_l * out_l * p_l). */
export function budgetsOf(sizes, connectivity) {
  const ps = Array.isArray(connectivity) ? connectivity : new Array(sizes.length - 1).fill(connectivity);
  return ps.map((p, l) => Math.max(1, Math.floor(sizes[l] * sizes[l + 1] * p)));
}

/** The addon, loaded as lib/native.ts does (node-gyp-build on the package root). */
export function loadAddon() {
  const require = createRequire(join(ROOT, "package.json"));
  const addon = require("node-gyp-build")(ROOT);
  if (addon.abiVersion !== 5) throw new Error(`bench: addon interface version ${addon.abiVersion}, expected 5; rebuild with npx cmake-js build`);
  return addon;
}

/** Path of the addon binary node-gyp-build picks, for the notes. */
export function addonPath() {
  const require = createRequire(join(ROOT, "package.json"));
  return require("node-gyp-build").resolve(ROOT);
}

/** Deterministic pseudo-random numbers (mulberry32), so every run trains on the same data. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` samples of `features` uniform [0,1) inputs (pixel-like) and uniform labels. */
export function syntheticData(count, features, classes, seed = 7) {
  const r = rng(seed);
  const inputs = new Float32Array(count * features);
  for (let i = 0; i < inputs.length; i++) inputs[i] = r();
  const labels = new Int32Array(count);
  for (let i = 0; i < count; i++) labels[i] = Math.floor(r() * classes);
  return { inputs, labels, count, features };
}

/**
 * Runs a child process that prints one JSON object as its last stdout line; resolves with it.
 * When the child fails, the error carries the end of its stderr.
 */
export function runJson(command, args, options = {}) {
  return runChild(command, args, options, (out) => JSON.parse(out.trim().split("\n").pop() ?? ""));
}

/** Runs a child process whose every stdout line is one JSON object (as `deepr train --json` prints); resolves with them in order. */
export function runJsonLines(command, args, options = {}) {
  return runChild(command, args, options, (out) => out.trim().split("\n").map((line) => JSON.parse(line)));
}

/** Runs a child process and resolves with `parse(stdout)`; an exit other than 0 or a parse error rejects with the end of its stderr. */
function runChild(command, args, { env = benchEnv(), timeoutMs = 600_000, label = command } = {}, parse) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "", err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("error", (e) => { clearTimeout(timer); reject(e); });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`exit ${code ?? signal}`);
        resolve(parse(out));
      } catch (e) {
        reject(new Error(`${label} failed (${e.message}):\n${err.trim().split("\n").slice(-15).join("\n")}`));
      }
    });
  });
}

function tryRun(cmd, args, env = benchEnv()) {
  try {
    return execFileSync(cmd, args, { env, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

/** Facts about the machine and the software the numbers came from. */
export function machineInfo() {
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  const flags = (cpuinfo.match(/^flags\s*:\s*(.*)$/m)?.[1] ?? "").split(/\s+/);
  const interesting = ["sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile"];
  const cache = (level) => tryRun("getconf", [level]);
  const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
  const cmakeCache = join(ROOT, "build", "CMakeCache.txt");
  const buildType = existsSync(cmakeCache) ? readFileSync(cmakeCache, "utf8").match(/^CMAKE_BUILD_TYPE:STRING=(.*)$/m)?.[1] : undefined;
  let addon;
  try { addon = addonPath(); } catch { addon = undefined; }
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    flags: interesting.filter((f) => flags.includes(f)),
    hypervisor: flags.includes("hypervisor"),
    l2: cache("LEVEL2_CACHE_SIZE"),
    l3: cache("LEVEL3_CACHE_SIZE"),
    memoryGiB: +(totalmem() / 2 ** 30).toFixed(1),
    os: tryRun("sh", ["-c", ". /etc/os-release && echo $PRETTY_NAME"]) ?? process.platform,
    kernel: tryRun("uname", ["-r"]),
    node: process.version,
    deepr: pkg.version,
    commit: tryRun("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"]),
    dirty: tryRun("git", ["-C", ROOT, "status", "--porcelain", "--", "cpp", "binding", "lib", "CMakeLists.txt"]) ? "yes (cpp/, binding/, lib/ or CMakeLists.txt differ from HEAD)" : "no",
    addon,
    addonBuildType: buildType,
    addonMtime: addon && existsSync(addon) ? new Date(statMtime(addon)).toISOString() : undefined,
    addonReadsDeeprThreads: addon && existsSync(addon) ? readFileSync(addon).includes("DEEPR_THREADS") : false,
    // GCC function multi-versioning leaves clone symbols named after their target.
    addonAvx512Clones: addon && existsSync(addon) ? readFileSync(addon).includes("arch_x86_64_v4") : false,
    date: new Date().toISOString(),
    openblasEnvOfMachine: Object.fromEntries(UNSET_VARS.map((v) => [v, process.env[v] ?? null])),
  };
}

function statMtime(path) {
  return execFileSync("stat", ["-c", "%Y", path], { encoding: "utf8" }).trim() * 1000;
}

export const fmtUs = (us) =>
  us === undefined || Number.isNaN(us) ? "–" : us >= 100_000 ? `${(us / 1000).toFixed(0)} ms` : us >= 10_000 ? `${(us / 1000).toFixed(1)} ms` : us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(1)} µs`;
export const fmtX = (x) => (x === undefined || Number.isNaN(x) ? "–" : x >= 100 ? `${x.toFixed(0)}×` : x >= 10 ? `${x.toFixed(1)}×` : `${x.toFixed(2)}×`);
