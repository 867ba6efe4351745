// Write errors while saving a checkpoint (full disk, permission denied, I/O errors) leave the
// previous file intact, leave no temporary file behind, and give a CheckpointError that names the
// file and the cause. Injected at every step of the atomic write (open, write, fsync, close, rename,
// directory fsync) by wrapping node:fs's promises API, and produced for real where the machine
// allows: a file size limit (EFBIG), a tiny tmpfs (ENOSPC) and a read-only directory (EACCES).
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, promises as fsp, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { CheckpointError } from "../lib/checkpoint/safetensors.js";
import { Model } from "../lib/model.js";
import { ensureBuilt, root } from "./helpers/child.js";

const spec = { layers: [30, 20, 4], connectivity: [0.3, 0.5], bias: true, seed: 11 };
let dir: string;
let model: Model;
let previous: Buffer;
const target = () => join(dir, "model.safetensors");

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), "deepr-write-errors-"));
  const old = Model.create({ ...spec, seed: 99 });
  await old.save(target());
  old.dispose();
  previous = readFileSync(target());
  model = Model.create(spec);
});
afterEach(() => vi.restoreAllMocks());
afterAll(() => {
  model.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const errno = (code: string, syscall: string) =>
  Object.assign(new Error(`${code}: injected failure, ${syscall}`), { code, syscall, errno: -28 });

type Step = "open" | "write" | "sync" | "close" | "rename";

/** Makes one step of the next save fail with `code`; `zero` makes write() report 0 bytes written instead. */
function inject(step: Step, code: string, mode: "throw" | "zero" = "throw") {
  const realOpen = fsp.open.bind(fsp);
  if (step === "rename") {
    vi.spyOn(fsp, "rename").mockRejectedValue(errno(code, "rename"));
    return;
  }
  vi.spyOn(fsp, "open").mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
    if (step === "open") throw errno(code, "open");
    const handle = await realOpen(...args);
    if (String(args[0]) === dir) return handle; // the directory fsync after the rename
    return new Proxy(handle, {
      get(target, key) {
        const real = Reflect.get(target, key, target);
        if (key === step) {
          return async (...a: unknown[]) => {
            if (step === "close") await real.apply(target, a); // really close it, then report a failure
            if (mode === "zero") return { bytesWritten: 0, buffer: a[0] };
            throw errno(code, step);
          };
        }
        return typeof real === "function" ? real.bind(target) : real;
      },
    });
  });
}

const temps = () => readdirSync(dir).filter((f) => f.endsWith(".tmp"));

describe("injected write errors", () => {
  const cases: [Step, string, "throw" | "zero"][] = [
    ["open", "EACCES", "throw"], ["open", "ENOSPC", "throw"], ["open", "EMFILE", "throw"],
    ["write", "ENOSPC", "throw"], ["write", "EIO", "throw"], ["write", "EDQUOT", "throw"], ["write", "-", "zero"],
    ["sync", "EIO", "throw"], ["sync", "ENOSPC", "throw"],
    ["close", "EIO", "throw"], ["close", "ENOSPC", "throw"],
    ["rename", "EACCES", "throw"], ["rename", "EXDEV", "throw"], ["rename", "ENOSPC", "throw"],
  ];
  it.each(cases)("%s fails with %s: previous file intact, no temporary file, clear error", async (step, code, mode) => {
    inject(step, code, mode);
    const error = await model.save(target()).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    const message = (error as Error).message;
    expect(message).toContain(target());
    expect(message).toContain(mode === "zero" ? "no progress" : code);
    expect(message).toMatch(/previous file, if any, is left intact/);
    expect(readFileSync(target()).equals(previous)).toBe(true);
    expect(temps()).toEqual([]);
    // Nothing is left half-done: the same model saves fine once the fault is gone.
    vi.restoreAllMocks();
    await model.save(join(dir, "after.safetensors"));
    expect((await Model.load(join(dir, "after.safetensors"))).options.seed).toBe(spec.seed);
  });

  it("a failing directory fsync after the rename says the new file is written but may not be durable", async () => {
    const realOpen = fsp.open.bind(fsp);
    vi.spyOn(fsp, "open").mockImplementation(async (...args: Parameters<typeof fsp.open>) => {
      const handle = await realOpen(...args);
      if (String(args[0]) !== dir) return handle;
      return new Proxy(handle, {
        get: (t, k) => (k === "sync" ? async () => { throw errno("EIO", "fsync"); } : Reflect.get(t, k, t)?.bind?.(t) ?? Reflect.get(t, k, t)),
      });
    });
    const copy = join(dir, "dirsync.safetensors");
    writeFileSync(copy, previous);
    const error = await model.save(copy).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(/was written but its directory could not be synced/);
    vi.restoreAllMocks();
    expect((await Model.load(copy)).options.seed).toBe(spec.seed); // the rename happened: the new model
  });

  it("save() refuses a model whose parameters are not finite, and the previous file stays", async () => {
    const diverged = Model.create(spec);
    // Finite but huge inputs: the forward pass and the loss stay finite, the update overflows.
    const inputs = new Float32Array(30 * 8).map((_, i) => ((i * 7) % 5) * 1e33);
    const data = { inputs, labels: Int32Array.from({ length: 8 }, (_, i) => i % 4), count: 8, features: 30, classes: 4 };
    await expect(diverged.fit(data, { epochs: 1, lr: 1e6, batchSize: 1 })).rejects.toThrow(/layer 1: training diverged .* layer 1 is no longer finite at step 0/);
    const error = await diverged.save(target()).then(() => undefined, (e: unknown) => e);
    expect(String((error as Error).message)).toMatch(/refusing to save .*non-finite/);
    expect(readFileSync(target()).equals(previous)).toBe(true);
    expect(temps()).toEqual([]);
    diverged.dispose();
  });
});

/** Runs save-child.mjs once (optionally under a shell prefix) and returns what it reported. */
function saveInChild(path: string, options: { shell?: string; env?: NodeJS.ProcessEnv } = {}) {
  const command = [process.execPath, join(root, "test/children/save-child.mjs"), "once", `'${JSON.stringify(spec)}'`, path].join(" ");
  const r = spawnSync("bash", ["-c", options.shell ? `${options.shell} ${command}` : command], {
    env: { ...process.env, ...options.env },
    encoding: "utf8",
  });
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  try {
    return JSON.parse(line) as { ok: boolean; name?: string; code?: string; message?: string };
  } catch {
    throw new Error(`save child failed (${r.status ?? r.signal}): ${r.stdout}\n${r.stderr}`);
  }
}

describe("real write errors", () => {
  it("a file size limit (EFBIG, as a full disk) leaves the previous file intact", () => {
    const result = saveInChild(target(), { shell: "ulimit -f 4;" }); // 4 KiB: the header fits, the data does not
    expect(result).toMatchObject({ ok: false, name: "CheckpointError", code: "EFBIG" });
    expect(result.message).toContain(target());
    expect(readFileSync(target()).equals(previous)).toBe(true);
    expect(temps()).toEqual([]);
  });

  // Needs unprivileged user and mount namespaces (often missing in containers): skipped without them.
  const tmpfs = spawnSync("unshare", ["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && echo ok"], { encoding: "utf8" });
  if (tmpfs.stdout?.trim() !== "ok")
    console.warn("checkpoint-write-errors: skipping the ENOSPC check: unprivileged mount namespaces (unshare -rm) are not available here");
  it.skipIf(tmpfs.stdout?.trim() !== "ok")("a full file system (ENOSPC, a 64 KiB tmpfs) leaves the previous file intact", () => {
    // The tmpfs lives in a private mount namespace; the whole check runs inside it.
    const script = [
      "mount -t tmpfs -o size=64k tmpfs /mnt",
      `cp ${target()} /mnt/model.safetensors`,
      `${process.execPath} ${join(root, "test/children/save-child.mjs")} once '${JSON.stringify({ ...spec, layers: [300, 200, 4], connectivity: 0.5 })}' /mnt/model.safetensors`,
      `cmp -s ${target()} /mnt/model.safetensors && echo intact`,
      "ls -a /mnt | grep -c '\\.tmp$' || true",
    ].join(" && ");
    const r = spawnSync("unshare", ["-rm", "bash", "-c", script], { encoding: "utf8" });
    const [report, intact, leftover] = r.stdout.trim().split("\n");
    expect(JSON.parse(report)).toMatchObject({ ok: false, name: "CheckpointError", code: "ENOSPC" });
    expect(intact).toBe("intact");
    expect(leftover).toBe("0");
  });

  // Root ignores permission bits, so as root the child drops to the unprivileged "nobody" user;
  // skipped when that user cannot read this checkout (say, a clone under /root).
  const asRoot = process.getuid?.() === 0;
  const probe = asRoot
    ? spawnSync(process.execPath, ["-e", `process.setuid(65534); require("fs").readFileSync(${JSON.stringify(join(root, "dist/index.js"))})`])
    : { status: 0 };
  if (probe.status !== 0)
    console.warn("checkpoint-write-errors: skipping the EACCES check: the unprivileged user nobody cannot read this checkout (run it from a world-readable folder)");
  it.skipIf(process.platform === "win32" || probe.status !== 0)("a directory without write permission (EACCES) leaves the previous file intact", () => {
    const locked = join(dir, "locked");
    chmodSync(dir, 0o755); // mkdtemp made it private; only `locked` should refuse the write
    mkdirSync(locked);
    writeFileSync(join(locked, "model.safetensors"), previous);
    chmodSync(locked, 0o555);
    // Root ignores permission bits: the child then drops to the unprivileged "nobody" user.
    const result = saveInChild(join(locked, "model.safetensors"), { env: asRoot ? { DEEPR_TEST_SETUID: "65534" } : {} });
    chmodSync(locked, 0o755);
    expect(result).toMatchObject({ ok: false, name: "CheckpointError", code: "EACCES" });
    expect(readFileSync(join(locked, "model.safetensors")).equals(previous)).toBe(true);
    expect(readdirSync(locked)).toEqual(["model.safetensors"]);
  });
});
