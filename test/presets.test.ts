// A preset is one entry that names an architecture, its connectivity and rule, the training options
// and the optimiser: a preset defined here for the cnn trains through `deepr train --preset NAME`
// (run in this process, on the presets table with that entry added), its checkpoint holds what
// the entry asked for, --help lists it, and flags still override it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { HELP } from "../lib/cli/help.js";
import { main } from "../lib/cli/main.js";
import { Model } from "../lib/model.js";
import type { Preset } from "../lib/presets.js";

// Hoisted with vi.mock, which reads it.
const tinyCnn = vi.hoisted((): Preset => ({
  description: "a test recipe: the cnn at 50/20/5/30 %, fixed sparsity, Adam",
  architecture: "cnn",
  model: { connectivity: [0.5, 0.2, 0.05, 0.3], rule: "fixed" },
  train: { epochs: 1, lr: 0.002, batchSize: 20 },
  optimizer: "adam",
}));

vi.mock("../lib/presets.js", async (original) => {
  const actual = await original<typeof import("../lib/presets.js")>();
  return { ...actual, presets: { ...actual.presets, "tiny-cnn": tinyCnn } };
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-presets-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** `deepr ARGS` in this process; its stdout lines. */
async function deeprHere(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  const log = vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
  try {
    await main(args);
  } finally {
    log.mockRestore();
  }
  return lines;
}

describe("a preset naming an architecture, a rule and an optimiser", () => {
  it("trains that architecture with its connectivity, rule, training options and optimiser", async () => {
    const out = join(dir, "tiny.safetensors");
    const lines = await deeprHere(["train", "--preset", "tiny-cnn", "--limit", "400", "--json", "--out", out]);
    expect(JSON.parse(lines.at(-1)!).type).toBe("final");
    const model = await Model.load(out);
    expect(model.options.rule).toBe("fixed");
    expect(model.options.inputShape).toEqual([1, 28, 28]);
    const positions = [25 * 32, 800 * 64, 1024 * 256, 256 * 10];
    expect(model.layers().map((l) => l.budget)).toEqual(positions.map((p, l) => Math.floor(p * (tinyCnn.model.connectivity as number[])[l])));
    expect(model.trainOptions).toMatchObject({ lr: 0.002, batchSize: 20, epochs: 1 });
    expect(Object.keys((await model.exportLayers())[0].stores.weight)).toEqual(expect.arrayContaining(["m", "v"]));
    model.dispose();
  });

  it("is listed by --help with its architecture and description", () => {
    // The usage is wider than the flags' column: the help starts on the next line.
    expect(HELP).toContain("  --preset reference|tuned|tuned-1.33|cnn|cnn-2|lstm|tiny-cnn\n                                 a named recipe");
    // Wrapped by column 100, the next line at the help column.
    expect(HELP).toMatch(/^ {33}tiny-cnn \(--model cnn\): a test recipe: the cnn at 50\/20\/5\/30 %,\n {33}fixed sparsity, Adam$/m);
  });

  it("gives way to the flags", async () => {
    const out = join(dir, "flags.safetensors");
    await deeprHere(["train", "--preset", "tiny-cnn", "--limit", "100", "--connectivity", "0.4", "--optimizer", "sgd", "--lr", "0.01", "--json", "--out", out]);
    const model = await Model.load(out);
    expect(model.options.connectivity).toEqual([0.4, 0.4, 0.4, 0.4]);
    expect(model.trainOptions.lr).toBe(0.01);
    expect(Object.keys((await model.exportLayers())[0].stores.weight)).not.toContain("m");
    model.dispose();
  });
});
