// Worker threads terminated in the middle of fit, evaluate, predict and save (driver:
// test/children/worker-terminations.mjs, run in a child node so that an abort fails this test
// instead of killing the runner). Before the fix every such termination aborted the host process
// ("terminate called after throwing an instance of 'Napi::Error'", exit code 134).
import { rmSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { describeFailure, ensureBuilt, runDriver, scratch } from "./helpers/child.js";

describe("worker threads terminated mid-call", () => {
  it("leave the host process alive, free their memory and leave the checkpoint old or new (120 terminations)", async () => {
    ensureBuilt();
    const dir = scratch("deepr-workers-");
    try {
      const r = await runDriver("test/children/worker-terminations.mjs", ["--rounds", "120", "--dir", dir], {
        timeoutMs: 90_000,
        nodeArgs: ["--expose-gc"],
      });
      if (r.code !== 0) throw new Error(describeFailure("worker terminations", r));
      const m = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
      expect(m.rounds).toBe(120);
      // Each operation was running in at least 25 of its 30 rounds when terminate() was called.
      for (const operation of ["fit", "evaluate", "predict", "save"]) expect(m.midCall[operation]).toBeGreaterThanOrEqual(25);
      const midCall = Object.values(m.midCall as Record<string, number>).reduce((a, b) => a + b, 0);
      expect(midCall).toBeGreaterThanOrEqual(100);
      // Every save round left a checkpoint that loads, CRC included: the previous one or the new one.
      expect(m.checkpoints.bad).toEqual([]);
      expect(m.checkpoints.old + m.checkpoints.new).toBe(30);
      // Each worker holds a model of ~203 000 connections (~2 MiB of native memory, more with
      // momentum) and its own V8 heap (~10 MiB). Were either kept, the 110 rounds after round 10
      // would add more than 220 MiB; allocator and V8 caches account for the 48 MiB of slack.
      expect(m.rssAfterAll - m.rssAfter10).toBeLessThan(48);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
