// Seeded mutation fuzzing of the file readers over real deepr checkpoints and real MNIST IDX files
// (see test/children/file-fuzz.mjs and RELIABILITY.md). Every mutated file must load, or fail with
// CheckpointError / DataFormatError; never another error, a crash, or memory the file does not justify.
//
// Reproduce: node test/children/file-fuzz.mjs --seed S --scale 3 --tmp DIR   (the input of the
// last case is left in DIR/case.*)
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { describeFailure, ensureBuilt, runDriver, scratch } from "./helpers/child.js";

const SEED = process.env.DEEPR_FUZZ_SEED ?? "20240601";
let dir: string;
let failed = false;

beforeAll(() => {
  ensureBuilt();
  dir = scratch("deepr-fuzz-files-");
});
afterAll(() => {
  if (!failed) rmSync(dir, { recursive: true, force: true });
});

it("mutated checkpoints, IDX (plain and gzip), MNIST and CIFAR-10 files load or fail with the documented error", async () => {
  const log = join(dir, "cases.log");
  const r = await runDriver("test/children/file-fuzz.mjs", ["--seed", SEED, "--scale", "3", "--tmp", join(dir, "work"), "--log", log], {
    timeoutMs: 100_000,
    log,
  });
  failed = r.code !== 0;
  if (failed) throw new Error(`${describeFailure(`the file fuzzer (seed ${SEED})`, r)}\nThe input of the last case is kept in ${join(dir, "work")}.`);
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  expect(report.cases).toBeGreaterThan(20_000);
  expect(report.perKind.checkpoint).toBeGreaterThan(10_000);
  expect(report.perKind.idx).toBeGreaterThan(5_000);
  failed = report.violations !== 0;
  expect(report.violations, `seed ${SEED}: ${JSON.stringify(report.examples, null, 1)}`).toBe(0);
});
