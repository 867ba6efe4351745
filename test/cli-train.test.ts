// deepr train beyond the happy path: a model already at --epochs, the hint to save, --threads.
import { mkdtemp, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadMnist, Model } from "../lib/index.js";
import { deepr, jsonLines } from "./helpers/cli.js";

const small = ["--limit", "600", "--layers", "784,20,10", "--connectivity", "0.05,0.5", "--lr", "0.1"];

describe("deepr train", () => {
  it("says so when a resumed model is already at --epochs, and still writes --out", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-cli-"));
    const first = join(dir, "m.safetensors"), other = join(dir, "other.safetensors");
    const trained = await deepr(["train", ...small, "--epochs", "2", "--out", first]);
    expect(trained.code).toBe(0);

    const again = await deepr(["train", "--resume", first, "--epochs", "2", "--out", other]);
    expect(again.code).toBe(0);
    expect(again.stdout.trim()).toBe(
      `${first} is already at epoch 2 and --epochs 2 is the total to reach, so there is nothing to train ` +
        `(give --epochs 3 or more to train on); saved it unchanged to ${other}`,
    );
    const [a, b] = await Promise.all([Model.load(first), Model.load(other)]);
    expect(b.progress).toEqual(a.progress);
    expect(await b.exportLayers()).toEqual(await a.exportLayers());

    const behind = await deepr(["train", "--resume", first, "--epochs", "1", "--json"]);
    expect(behind.code).toBe(0);
    expect(behind.stderr).toMatch(/is already at epoch 2 and --epochs 1 is the total to reach/);
    expect(jsonLines(behind.stdout)).toMatchObject([{ type: "final", epochs: 2 }]);

    // The API: fit() trains nothing and resolves with no epochs.
    const data = await loadMnist();
    expect(await a.fit(data.test, { epochs: 2 })).toEqual([]);
    expect(a.progress).toEqual(b.progress);
  }, 60_000);

  it("names --batch-size when a model stopped mid-epoch is resumed with another one", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-cli-"));
    const file = join(dir, "half.safetensors");
    const model = Model.create({ layers: [784, 20, 10], connectivity: 0.05 });
    const controller = new AbortController();
    const data = (await loadMnist()).test;
    await expect(model.fit(data, { epochs: 1, signal: controller.signal, onBatchEnd: (b) => b.batch === 50 && controller.abort() })).rejects.toThrow();
    expect(model.progress.batchInEpoch).toBeGreaterThan(0);
    await model.save(file);
    const r = await deepr(["train", "--resume", file, "--batch-size", "20", "--limit", "600"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^deepr train: --batch-size is 20, but this model stopped in the middle of an epoch trained with batch size 10; resume with that batch size\n/);
  }, 60_000);

  it("ends by saying how to save when --out is not given", async () => {
    const r = await deepr(["train", ...small, "--epochs", "1"]);
    expect(r.code).toBe(0);
    const last = r.stdout.trim().split("\n").at(-1)!;
    expect(last).toMatch(/^done: test accuracy \d+\.\d\d % with 884 of 15880 connections active .*; not saved \(give --out FILE to save the model\)$/);
  }, 60_000);

  it("runs on the number of threads --threads gives", async () => {
    const runs = await Promise.all([1, 3].map((n) => deepr(["train", ...small, "--epochs", "1", "--json", "--threads", String(n)])));
    expect(runs.map((r) => jsonLines(r.stdout).at(-1).threads)).toEqual([1, 3]);
    // Results are bit-identical for any thread count.
    expect(jsonLines(runs[0].stdout)[0].loss).toBe(jsonLines(runs[1].stdout)[0].loss);
  }, 60_000);
});
