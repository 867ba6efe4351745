// deepr train --plot FILE.svg: the run's loss, accuracy and connectivity per epoch drawn as SVG.
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { deepr, interruptedAfterFirstEpoch, jsonLines } from "./helpers/cli.js";

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
    for (const title of ["Loss", "Accuracy", "Connectivity per layer", "epoch", "mean loss per sample", "accuracy (%)", "active connections (%, log)", "layer 1", "layer 2"])
      expect(svg).toContain(title);
    expect(svg).toContain(`test accuracy ${(100 * final.testAccuracy).toFixed(2)} %`);
  }, 60_000);

  it("draws the completed epochs when interrupted", async () => {
    const dir = await mkdtemp(join(tmpdir(), "deepr-plot-"));
    const plot = join(dir, "interrupted.svg");
    const args = ["train", "--layers", "784,64,10", "--connectivity", "0.02,0.3", "--epochs", "50", "--json", "--plot", plot];
    const { code, stdout, stderr } = await interruptedAfterFirstEpoch(args);
    expect(code, stderr).toBe(130);
    const epochs = jsonLines(stdout).length;
    expect(stderr).toContain(`drew the ${epochs} completed epoch${epochs > 1 ? "s" : ""} to ${plot}`);
    expect(await readFile(plot, "utf8")).toContain(`epochs 1-${epochs}`);
  }, 60_000);

  it("refuses a --plot path in a missing directory before training", async () => {
    const result = await deepr(["train", ...small, "--plot", "/nonexistent-dir/run.svg"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe("deepr: --plot /nonexistent-dir/run.svg: the directory /nonexistent-dir does not exist; create it first");
    expect(result.stdout).toBe("");
  });
});
