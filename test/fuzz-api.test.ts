// Seeded fuzzing of the API boundary (see test/children/api-fuzz.mjs and RELIABILITY.md): every
// native method and the public TypeScript API get at least CALLS randomized calls each, in a child
// process, so a crash, abort or hang is reported with the input that caused it.
//
// Reproduce a run: node --expose-gc test/children/api-fuzz.mjs --part native|ts --seed S --calls N --tmp DIR
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeFailure, ensureBuilt, runDriver, scratch } from "./helpers/child.js";

const SEED = process.env.DEEPR_FUZZ_SEED ?? "20240601";
const CALLS = Number(process.env.DEEPR_FUZZ_CALLS ?? 10_000);
let dir: string;

beforeAll(() => {
  ensureBuilt();
  dir = scratch("deepr-fuzz-api-");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function fuzz(part: "native" | "ts") {
  const log = join(dir, `${part}.log`);
  const tmp = join(dir, part);
  const r = await runDriver(
    "test/children/api-fuzz.mjs",
    ["--part", part, "--seed", SEED, "--calls", String(CALLS), "--log", log, "--tmp", tmp],
    { timeoutMs: 100_000, nodeArgs: ["--expose-gc"], log },
  );
  if (r.code !== 0) throw new Error(`${describeFailure(`the ${part} API fuzzer (seed ${SEED})`, r)}`);
  const report = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  for (const [fn, n] of Object.entries(report.perFunction as Record<string, number>))
    expect(n, `calls into ${fn}`).toBeGreaterThanOrEqual(CALLS);
  expect(report.violations, `seed ${SEED}: ${JSON.stringify(report.examples, null, 1)}`).toBe(0);
  return report;
}

describe.concurrent("API fuzzing (seeded)", () => {
  it("every native method: succeeds or throws an Error naming the parameter, never crashes", async () => {
    const report = await fuzz("native");
    expect(Object.keys(report.perFunction)).toEqual(
      ["new NativeNetwork", "info", "train", "evaluate", "predict", "exportState", "importState", "check", "setRule", "dispose"],
    );
  });

  it("the public TypeScript API: succeeds or throws an Error naming the parameter, never crashes", async () => {
    const report = await fuzz("ts");
    expect(Object.keys(report.perFunction)).toHaveLength(14);
  });
});
