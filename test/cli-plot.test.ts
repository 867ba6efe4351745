// deepr train --plot FILE.svg: the run's loss, accuracy and connectivity per epoch drawn as SVG.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deepr, jsonLines } from "./helpers/cli.js";

const small = ["--limit", "600", "--layers", "784,20,10", "--connectivity", "0.05,0.5", "--lr", "0.1"];

describe("deepr train --plot", () => {
  it("writes an SVG of the run with its panels' axis titles and the final accuracy", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-plot-"));
    const plot = join(dir, "run.svg");
    const trained = await deepr(["train", ...small, "--epochs", "2", "--json", "--plot", plot]);
    expect(trained.code).toBe(0);
    const final = jsonLines(trained.stdout).at(-1);
    const svg = await readFile(plot, "utf8");
    expect(svg).toMatch(/^<svg/);
    for (const title of ["Loss", "Accuracy", "Connectivity per layer", "epoch", "mean loss per sample", "accuracy (%)", "active connections (% of possible)", "layer 1", "layer 2"])
      expect(svg).toContain(title);
    expect(svg).toContain(`test accuracy ${(100 * final.testAccuracy).toFixed(2)} %`);
  }, 60_000);

  it("refuses a --plot path in a missing directory before training", async () => {
    const result = await deepr(["train", ...small, "--plot", "/nonexistent-dir/run.svg"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("deepr: --plot /nonexistent-dir/run.svg: the directory /nonexistent-dir does not exist; create it first");
    expect(result.stdout).toBe("");
  });
});
