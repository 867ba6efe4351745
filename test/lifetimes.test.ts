// Native memory lifetimes, measured as resident memory of a child `node --expose-gc` (see
// test/children/lifetime.mjs). Bounds are stated here and in RELIABILITY.md.
import { describe, expect, it } from "vitest";
import { describeFailure, ensureBuilt, runDriver } from "./helpers/child.js";

async function measure(mode: string) {
  ensureBuilt();
  const r = await runDriver("test/children/lifetime.mjs", [mode], { timeoutMs: 60_000, nodeArgs: ["--expose-gc"] });
  if (r.code !== 0) throw new Error(describeFailure(`lifetime check "${mode}"`, r));
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
}

describe.concurrent("native memory", () => {
  it("is freed when a model is garbage-collected without dispose()", async () => {
    const m = await measure("gc");
    // 150 models of ~300 000 connections (about 2.5 MiB of native memory each: more than 350 MiB if
    // nothing were freed) never grow the process by more than 120 MiB, and it ends within 64 MiB.
    expect(m.perModel).toBeGreaterThan(250_000);
    expect(m.peak - m.before).toBeLessThan(120);
    expect(m.after - m.before).toBeLessThan(64);
  });

  it("1 000 create / train / dispose cycles grow resident memory by less than 32 MiB", async () => {
    const m = await measure("cycles");
    expect(m.cycles).toBe(1000);
    expect(m.after - m.before).toBeLessThan(32);
  });

  it("10 000 training steps grow resident memory by less than 8 MiB", async () => {
    const m = await measure("steps");
    expect(m.steps).toBe(10_000);
    expect(m.after - m.before).toBeLessThan(8);
  });

  it("arrays handed to an operation stay alive until it ends, even if the caller drops them", async () => {
    const m = await measure("dropped-arrays");
    expect(m.mismatches).toBe(0);
  });
});
