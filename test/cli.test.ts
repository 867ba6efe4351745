// The command line as a user runs it: a child process on the compiled dist/cli.js.
import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const cli = join(import.meta.dirname, "..", "dist", "cli.js");

async function deepr(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { maxBuffer: 1 << 24 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

const lines = (stdout: string) => stdout.trim().split("\n").map((l) => JSON.parse(l));

describe("deepr CLI", () => {
  it("trains the paper's MNIST network with the reference defaults to >= 96 % (seed 1)", async () => {
    const r = await deepr("train", "--json", "--seed", "1");
    expect(r.code).toBe(0);
    const out = lines(r.stdout);
    expect(out).toHaveLength(11);
    const last = out[9], final = out[10];
    expect(last).toMatchObject({ type: "epoch", epoch: 10 });
    for (const key of ["loss", "trainAccuracy", "testAccuracy", "seconds", "lr"]) expect(typeof last[key]).toBe("number");
    expect(last.layers.map((l: { active: number; K: number }) => [l.active, l.K])).toEqual([[2352, 2352], [900, 900], [300, 300]]);
    expect(last.layers[0].rewired).toBeGreaterThan(0);
    expect(final.type).toBe("final");
    expect(final.connectivity).toBeCloseTo(3552 / 266200, 10);
    expect(final.testAccuracy).toBeGreaterThanOrEqual(0.96);
  }, 120_000);

  it("saves, inspects, evaluates and resumes a checkpoint", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-cli-"));
    const file = join(dir, "m.safetensors");
    const train = await deepr("train", "--json", "--limit", "3000", "--epochs", "2", "--layers", "784,50,10",
      "--connectivity", "0.05,0.2", "--bias", "--momentum", "0.5", "--lr", "0.1", "--out", file);
    expect(train.code).toBe(0);
    const [, second, final] = lines(train.stdout);
    expect(second.epoch).toBe(2);

    const inspect = await deepr("inspect", file, "--json");
    expect(inspect.code).toBe(0);
    const report = JSON.parse(inspect.stdout);
    expect(report.layers).toEqual([
      { shape: [784, 50], K: 1960, active: 1960, connectivity: 1960 / 39200 },
      { shape: [50, 10], K: 100, active: 100, connectivity: 0.2 },
    ]);
    expect(report.progress).toMatchObject({ epoch: 2, batchInEpoch: 0, step: 600 });

    const evaluation = await deepr("eval", file, "--json");
    expect(evaluation.code).toBe(0);
    expect(JSON.parse(evaluation.stdout).testAccuracy).toBe(final.testAccuracy);

    const resumed = await deepr("train", "--json", "--limit", "3000", "--resume", file, "--epochs", "3", "--out", file);
    expect(resumed.code).toBe(0);
    const [third] = lines(resumed.stdout);
    expect(third).toMatchObject({ type: "epoch", epoch: 3 });
    expect(third.lr).toBeCloseTo(0.1 * 0.8 ** 2, 12);
  }, 60_000);

  it("explains bad usage with exit code 2", async () => {
    for (const [args, message] of [
      [["train", "--connectivity", "2"], /--connectivity value 1 must be a finite number in \(0, 1\], got 2/],
      [["train", "--lr", "abc"], /--lr must be a number/],
      [["train", "--frobnicate"], /frobnicate/],
      [["train", "--dataset", "cifar10"], /needs --data/],
      [["eval"], /FILE is missing/],
      [[], /a command is required/],
    ] as const) {
      const r = await deepr(...args);
      expect(r.code, args.join(" ")).not.toBe(0);
      expect(r.stderr).toMatch(message);
    }
    const missing = await deepr("inspect", "/nonexistent.safetensors");
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no such checkpoint/);
    const help = await deepr("--help");
    expect(help.stdout).toMatch(/--temperature/);
  });
});
