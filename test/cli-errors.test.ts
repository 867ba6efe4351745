// What a user who types something wrong sees: one clear line naming the flag they typed, the exit
// status (2 for the command line, 1 for a failure while running), and no work done first.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Model } from "../lib/index.js";
import { deepr } from "./helpers/cli.js";

describe("usage errors", () => {
  it("name the flags the user typed, exit 2 and point at --help", async () => {
    const cases: [string[], string][] = [
      [["eval"], "deepr eval: FILE is missing\nUsage: deepr eval FILE [--dataset mnist|cifar10|file] [--data PATH] [--threads N] [--json]\nRun `deepr eval --help` for the options."],
      [["inspect"], "deepr inspect: FILE is missing\nUsage: deepr inspect FILE [--json]\nRun `deepr inspect --help` for the options."],
      [["train", "--epoch", "3"], "deepr train: unknown option --epoch; did you mean --epochs?\nRun `deepr train --help` for the options."],
      [["train", "--epochs", "-1"], "deepr train: --epochs must be an integer in [0, 1000000], got -1\nRun `deepr train --help` for the options."],
      [["train", "--lr", "-1"], "deepr train: --lr must be a finite number in (0, 1000000], got -1\nRun `deepr train --help` for the options."],
      [["train", "--lr-schedule", "linear"], 'deepr train: --lr-schedule must be exponential or cosine, got "linear"\nRun `deepr train --help` for the options.'],
      [["train", "--out="], "deepr train: --out needs a value, got an empty string\nRun `deepr train --help` for the options."],
      [["train", "--limit", "0"], "deepr train: --limit must be a positive integer, got 0\nRun `deepr train --help` for the options."],
      [["train", "--threads", "0"], "deepr train: --threads must be an integer in [1, 256], got 0\nRun `deepr train --help` for the options."],
    ];
    const results = await Promise.all(cases.map(([args]) => deepr(args)));
    results.forEach((r, n) => {
      expect(r.code, cases[n][0].join(" ")).toBe(2);
      expect(r.stderr.trim()).toBe(cases[n][1]);
      expect(r.stdout).toBe("");
    });
  });

  it("refuse flags that do not apply to the command instead of ignoring them", async () => {
    const r = await deepr(["inspect", "m.safetensors", "--epochs", "3", "--lr", "9"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^deepr inspect: --epochs does not apply to deepr inspect \(it is an option of deepr train\); deepr inspect takes --json\n/);
  });

  it("explain a conflict with a value the user did not give, and where that value came from", async () => {
    const [layers, connectivity, preset, one, small] = await Promise.all([
      deepr(["train", "--layers", "100,50,10"]),
      deepr(["train", "--connectivity", "0.1,0.2"]),
      deepr(["train", "--preset", "tuned", "--layers", "784,10"]),
      deepr(["train", "--layers", "100,50,10", "--connectivity", "0.5"]),
      deepr(["train", "--layers", "10,5,3,2", "--lr", "0.1"]),
    ]);
    expect(small.stderr).toMatch(
      /^deepr train: --connectivity value 1 = 0.01 leaves no connection in the 10 x 5 layer; it needs at least 0.02 \(the default --connectivity is 0.01,0.03,0.3, which conflicts with --layers 10,5,3,2\)\n/,
    );
    expect(layers.stderr).toMatch(/^deepr train: --layers 100,50,10 has 2 layers but the default --connectivity 0.01,0.03,0.3 has 3 values; give --connectivity with 2 values/);
    expect(connectivity.stderr).toMatch(/^deepr train: the default --layers 784,300,100,10 has 3 layers but --connectivity 0.1,0.2 has 2 values/);
    expect(preset.stderr).toMatch(/--layers 784,10 has 1 layer but the "tuned" preset's --connectivity 0.0304,0.1,0.5 has 3 values; give --connectivity with 1 value/);
    for (const r of [layers, connectivity, preset, small]) {
      expect(r.code).toBe(2);
      expect(r.stderr).not.toMatch(/options\.\w|connectivity must have/);
    }
    // One value sets every layer, so this one is fine: it fails later only for want of 100-input data.
    expect(one.stderr).toMatch(/^deepr train: --dataset mnist has 784 inputs per sample, which --layers 100,50,10 does not fit; give --layers starting with 784\n/);
    // Known before loading: an empty folder is never read.
    const empty = await mkdtemp(join(tmpdir(), "deepr-cli-"));
    const cifar = await deepr(["train", "--dataset", "cifar10", "--data", empty]);
    expect(cifar.code).toBe(2);
    expect(cifar.stderr).toMatch(/^deepr train: --dataset cifar10 has 3072 inputs per sample, which the default --layers 784,300,100,10 does not fit; give --layers starting with 3072\n/);
    const classes = await deepr(["train", "--layers", "784,100,5", "--connectivity", "0.1"]);
    expect(classes.code).toBe(2);
    expect(classes.stderr).toMatch(/^deepr train: --dataset mnist has 10 classes, which --layers 784,100,5 does not fit; give --layers ending with 10\n/);
  });
});

describe("run-time failures", () => {
  it("check --out before training, exit 1, and never print deepr: twice", async () => {
    const started = performance.now();
    const r = await deepr(["train", "--out", "/missing/dir/m.safetensors"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("deepr: --out /missing/dir/m.safetensors: the directory /missing/dir does not exist; create it first");
    expect(r.stdout).toBe("");  // no epoch was trained
    expect(performance.now() - started).toBeLessThan(5000);
    const dir = await mkdtemp(join(tmpdir(), "deepr-cli-"));
    const intoDir = await deepr(["train", "--out", dir]);
    expect(intoDir.code).toBe(1);
    expect(intoDir.stderr).toMatch(/is a directory; give a file name/);
  });

  it("say that a file that is not a checkpoint is not one, in the CLI and the API", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-cli-"));
    const png = join(dir, "picture.safetensors");
    // A PNG signature and IHDR chunk: read as a u64 length, these bytes are about 7.3e17.
    await writeFile(png, Buffer.from("89504e470d0a1a0a0000000d4948445200000010000000100806000000", "hex"));
    for (const command of ["inspect", "eval"]) {
      const r = await deepr([command, png]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toBe(`deepr: ${png}: not a deepr checkpoint (no safetensors header)`);
    }
    await expect(Model.load(png)).rejects.toThrow(`${png}: not a deepr checkpoint (no safetensors header)`);
    await expect(Model.load(png)).rejects.toMatchObject({ name: "CheckpointError" });
  });

  it("strip the API's own deepr: prefix", async () => {
    const r = await deepr(["train", "--resume", "/nonexistent/m.safetensors"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe("deepr: no such checkpoint file: /nonexistent/m.safetensors");
  });
});
