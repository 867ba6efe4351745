// Crash safety of save(): a process killed (SIGKILL) at random moments while it saves a large
// checkpoint over an existing one always leaves a file that is byte for byte the old or the new
// checkpoint, and that loads and verifies.
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Model } from "../lib/model.js";
import { ensureBuilt, root } from "./helpers/child.js";

const KILLS = Number(process.env.DEEPR_CRASH_KILLS ?? 50);
// About 1.2 million connections with biases: a 16 MB file.
const spec = (seed: number) => ({ layers: [1200, 1000, 10], connectivity: [1, 0.5], bias: true, seed });
let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), "deepr-crash-")); // a real file system, with real fsync
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Starts a child that saves model `seed` over `path` in a loop; resolves once it is about to start saving. */
function saver(seed: number, path: string) {
  const child = spawn(process.execPath, [join(root, "test/children/save-child.mjs"), "loop", JSON.stringify(spec(seed)), path], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (d) => String(d).includes("ready") && resolve());
    child.on("exit", (code, signal) => reject(new Error(`saver exited early (${code ?? signal}): ${stderr}`)));
  });
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  return { child, ready, exited };
}

it(`a save killed with SIGKILL at ${KILLS} random moments leaves the old or the new checkpoint, never a mix`, async () => {
  const target = join(dir, "model.safetensors");
  // The two possible contents, made the same way the children make them (saving is deterministic).
  const reference: Record<number, string> = {};
  let saveMs = 0;
  for (const seed of [1, 2]) {
    const model = Model.create(spec(seed));
    const started = performance.now();
    await model.save(join(dir, `ref-${seed}.safetensors`));
    saveMs = Math.max(saveMs, performance.now() - started);
    reference[seed] = sha(readFileSync(join(dir, `ref-${seed}.safetensors`)));
    if (seed === 1) await model.save(target);
    model.dispose();
  }
  expect(readFileSync(join(dir, "ref-1.safetensors")).length).toBeGreaterThan(10_000_000);

  let onDisk = 1, changed = 0, leftovers = 0;
  let seed = 1;
  for (let kill = 0; kill < KILLS; kill++) {
    const next = onDisk === 1 ? 2 : 1;
    const s = saver(next, target);
    await s.ready;
    // Anywhere from before the first write to a few saves in: most land inside one.
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const wait = (seed / 2 ** 31) * saveMs * 2.5;
    await new Promise((r) => setTimeout(r, wait));
    s.child.kill("SIGKILL");
    await s.exited;

    const now = sha(readFileSync(target));
    expect([reference[1], reference[2]], `after kill ${kill} (${wait.toFixed(1)} ms in)`).toContain(now);
    const was = onDisk;
    onDisk = now === reference[1] ? 1 : 2;
    if (onDisk !== was) changed++;
    // A save killed before its rename leaves its temporary file; it never replaces the target.
    const temps = readdirSync(dir).filter((f) => f.endsWith(".tmp"));
    leftovers += temps.length;
    for (const t of temps) rmSync(join(dir, t));
    if (kill % 20 === 0 || kill === KILLS - 1) {
      const loaded = await Model.load(target); // verifies the CRC and every invariant
      expect(loaded.options.seed).toBe(onDisk);
      loaded.dispose();
    }
  }
  if (process.env.DEEPR_VERBOSE) console.log({ kills: KILLS, interruptedSaves: leftovers, replaced: changed, saveMs });
  // The kills did land both inside saves (temporary files left) and after completed ones (contents changed).
  expect(leftovers, "kills that interrupted a save").toBeGreaterThan(KILLS / 10);
  expect(changed, "kills after a completed save").toBeGreaterThan(0);
});
