// deepr train --model NAME: the mlp writes the checkpoint the default run writes, byte for byte; the
// cnn and the lstm train on MNIST in the shape each reads it, and eval and inspect read their
// checkpoints; every mistake names the flag and what is accepted.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Model } from "../lib/index.js";
import { deepr, jsonLines } from "./helpers/cli.js";

let dir: string;
/** A CSV file of 20 samples of 2 features in 2 classes: data that fits neither the cnn nor the lstm. */
let csv: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-cli-architectures-"));
  csv = join(dir, "flat.csv");
  await writeFile(csv, "label,a,b\n" + Array.from({ length: 20 }, (_, n) => `${n % 2},${n},${-n}`).join("\n") + "\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("deepr train --model NAME", () => {
  it("mlp: the checkpoint deepr train writes without --model, byte for byte", async () => {
    const [plain, named] = [join(dir, "plain.safetensors"), join(dir, "mlp.safetensors")];
    const runs = await Promise.all([
      deepr(["train", "--limit", "200", "--epochs", "1", "--json", "--out", plain]),
      deepr(["train", "--model", "mlp", "--limit", "200", "--epochs", "1", "--json", "--out", named]),
    ]);
    for (const run of runs) expect(run.code).toBe(0);
    expect((await readFile(named)).equals(await readFile(plain))).toBe(true);
  });

  it("trains the cnn on MNIST images, and eval and inspect read its checkpoint", async () => {
    const out = join(dir, "cnn.safetensors");
    const trained = await deepr(["train", "--model", "cnn", "--limit", "3000", "--epochs", "1", "--json", "--out", out]);
    expect(trained.stderr).toBe("");
    expect(trained.code).toBe(0);
    const final = jsonLines(trained.stdout).at(-1);
    expect(final.layers.map((l: { inputs: number; outputs: number }) => [l.inputs, l.outputs])).toEqual([[25, 32], [800, 64], [1024, 256], [256, 10]]);
    expect(final.testAccuracy).toBeGreaterThan(0.3);

    const evaluated = await deepr(["eval", out, "--json"]);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout).testAccuracy).toBe(final.testAccuracy);
    const elsewhere = await deepr(["eval", out, "--data", csv]);
    expect(elsewhere.stderr).toBe(
      `deepr: ${out} has a layer list of samples [1, 28, 28], 784 inputs, and 10 outputs but --data ${csv} has 2 inputs per sample and 2 classes; evaluate it on the data set it was trained on\n`,
    );
    const inspected = await deepr(["inspect", out]);
    expect(inspected.stdout).toContain("  layer 2: max_pool2d [32 x 24 x 24] -> [32 x 12 x 12], kernel 2 x 2, stride 2, padding 0\n");
    expect(inspected.stdout).toContain("  layer 6: sparse_linear 1024 -> 256; weight sparse [1024 x 256], K 19660, active 19660 (7.500 %) + m, v; bias dense [256] + m, v\n");
  });

  it("trains the lstm on MNIST read row by row, with --connectivity for every layer", async () => {
    const out = join(dir, "lstm.safetensors");
    const trained = await deepr(["train", "--model", "lstm", "--connectivity", "0.05", "--limit", "300", "--epochs", "1", "--optimizer", "adam", "--lr", "0.01", "--json", "--out", out]);
    expect(trained.stderr).toBe("");
    const final = jsonLines(trained.stdout).at(-1);
    expect(final.layers.map((l: { K: number }) => l.K)).toEqual([Math.floor(28 * 512 * 0.05), Math.floor(128 * 512 * 0.05), 64]);
    const evaluated = await deepr(["eval", out, "--json"]);
    expect(JSON.parse(evaluated.stdout).testAccuracy).toBe(final.testAccuracy);
    const model = await Model.load(out);
    expect(model.options.inputShape).toEqual([28, 28]);
    model.dispose();
  });

  it("builds the cnn of dense layers with --rule dense, and says so", async () => {
    const out = join(dir, "dense.safetensors");
    const trained = await deepr(["train", "--model", "cnn", "--rule", "dense", "--limit", "50", "--epochs", "1", "--lr", "0.01", "--out", out]);
    expect(trained.code).toBe(0);
    expect(trained.stdout).toMatch(/ rewired - /);
    expect(trained.stdout).toMatch(/^done: test accuracy \d+\.\d\d % with dense layers only, /m);
    const model = await Model.load(out);
    expect(model.options.rule).toBe("dense");
    expect((model.options.layers as { kind: string }[]).map((l) => l.kind).filter((k) => k.startsWith("dense"))).toEqual(["dense_conv2d", "dense_conv2d", "dense_linear", "dense_linear"]);
    model.dispose();
  });

  it("refuses an unknown name, --layers with an architecture, a preset for another one, data of another shape, and connectivities of another count", async () => {
    const [unknown, layers, preset, flat, connectivity] = await Promise.all([
      deepr(["train", "--model", "resnet"]),
      deepr(["train", "--model", "cnn", "--layers", "784,10"]),
      deepr(["train", "--model", "cnn", "--preset", "tuned"]),
      deepr(["train", "--model", "lstm", "--data", csv]),
      deepr(["train", "--model", "cnn", "--connectivity", "0.1,0.2", "--limit", "10"]),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--model resnet is not an architecture: give one of mlp, cnn, lstm, or a FILE.json holding a layer list");
    expect(layers.stderr).toContain("--layers cannot be given with --model cnn, which sets the layers; use --model mlp (the default) for --layers");
    expect(preset.stderr).toContain("--preset tuned is a recipe for the mlp architecture, not for --model cnn; drop one of them");
    expect(connectivity.stderr).toContain("--connectivity of the cnn architecture has one value for every layer or one per layer with connections (4), got 2");
    expect(flat.code).toBe(2);
    expect(flat.stderr).toContain(`--model lstm reads sequences [time, features] (or one-channel images, row by row), but --data ${csv} has samples of shape [2]`);
  });
});
