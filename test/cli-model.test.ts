// The command line's --model FILE.json (a layer list and its input shape), --rule and --optimizer:
// a model file trains and its checkpoint inspects, resumes and evaluates; every mistake names the
// flag or the file and the field, and the known names.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Model } from "../lib/model.js";
import { deepr, jsonLines } from "./helpers/cli.js";

let dir: string;
let csv: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-cli-model-"));
  // Three classes in 6 features, by the sign of feature 0, then of feature 1. Deterministic.
  let s = 7;
  const next = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const rows = Array.from({ length: 600 }, () => Array.from({ length: 6 }, next));
  const label = (r: number[]) => (r[0] < 0 ? 0 : r[1] < 0 ? 1 : 2);
  csv = join(dir, "points.csv");
  await writeFile(csv, "label,a,b,c,d,e,f\n" + rows.map((r) => [label(r), ...r.map((v) => v.toFixed(4))].join(",")).join("\n") + "\n");
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const layers = [
  { kind: "sparse_linear", outputs: 32, connectivity: 0.5, bias: true },
  { kind: "relu" },
  { kind: "sparse_linear", outputs: 3, connectivity: 0.5 },
  { kind: "softmax_cross_entropy" },
];

async function modelFile(name: string, document: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof document === "string" ? document : JSON.stringify(document));
  return path;
}

describe("deepr train --model FILE.json", () => {
  it("trains the file's layer list, and the checkpoint inspects, resumes and evaluates as that list", async () => {
    const file = await modelFile("mlp.json", { inputShape: [6], layers });
    const out = join(dir, "mlp.safetensors");
    const trained = await deepr(["train", "--data", csv, "--model", file, "--epochs", "2", "--lr", "0.1", "--optimizer", "momentum", "--momentum", "0.5", "--json", "--out", out]);
    expect(trained.stderr).toBe("");
    expect(trained.code).toBe(0);
    const final = jsonLines(trained.stdout).at(-1);
    expect(final.layers.map((l: { inputs: number; outputs: number; K: number }) => [l.inputs, l.outputs, l.K])).toEqual([[6, 32, 96], [32, 3, 48]]);
    expect(final.testAccuracy).toBeGreaterThan(0.8);

    const model = await Model.load(out);
    expect(model.options.layers).toEqual(layers.map((l) => (l.kind === "sparse_linear" ? { bias: false, ...l } : l)));
    const [first, second] = await model.exportLayers();
    expect(Object.keys(first.stores)).toEqual(["weight", "bias"]);
    expect(Object.keys(second.stores)).toEqual(["weight"]);
    expect(first.stores.weight.velocity).toBeInstanceOf(Float32Array);
    model.dispose();

    const inspected = await deepr(["inspect", out]);
    expect(inspected.code).toBe(0);
    expect(inspected.stdout).toContain("layer 0: sparse_linear 6 -> 32; weight sparse [6 x 32], K 96, active 96 (50.000 %) + velocity; bias dense [32] + velocity\n");
    expect(inspected.stdout).toContain("layer 2: sparse_linear 32 -> 3; weight sparse [32 x 3], K 48, active 48 (50.000 %) + velocity\n");

    const resumed = await deepr(["train", "--data", csv, "--resume", out, "--epochs", "3", "--json"]);
    expect(resumed.code).toBe(0);
    expect(jsonLines(resumed.stdout).at(-1).epochs).toBe(3);
    const evaluated = await deepr(["eval", out, "--data", csv, "--json"]);
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout).testAccuracy).toBeCloseTo(final.testAccuracy, 10);
  });

  it("names the file and the field of a bad file, and refuses flags the file replaces", async () => {
    const badSpec = await modelFile("bad-spec.json", { inputShape: [6], layers: [{ ...layers[0], outputs: 0 }, ...layers.slice(1)] });
    const notJson = await modelFile("not.json", "{ layers: ");
    const noShape = await modelFile("no-shape.json", { layers });
    const extra = await modelFile("extra.json", { inputShape: [6], layers, seed: 3 });
    const cases: [string[], number, string][] = [
      [["--model", badSpec], 1, `deepr: --model ${badSpec}: layers[0].outputs must be an integer in [1, 2147483647], got 0`],
      [["--model", noShape], 1, `deepr: --model ${noShape}: inputShape is required with a layer list: the shape of one sample, e.g. [784]`],
      [["--model", extra], 1, `deepr: --model ${extra}: "seed" is not a key of a model file; it has "layers" and "inputShape"`],
      [["--model", join(dir, "missing.json")], 1, `deepr: --model ${join(dir, "missing.json")}: cannot read it (ENOENT)`],
      [["--model", badSpec, "--layers", "6,3"], 2, `deepr train: --layers cannot be given with --model ${badSpec}, which sets the layers; put it in the file's layer specs\nRun \`deepr train --help\` for the options.`],
    ];
    const results = await Promise.all(cases.map(([args]) => deepr(["train", "--data", csv, ...args])));
    results.forEach((r, n) => {
      expect(r.stderr.trim(), cases[n][0].join(" ")).toBe(cases[n][2]);
      expect(r.code).toBe(cases[n][1]);
    });
    const json = await deepr(["train", "--data", csv, "--model", notJson]);
    expect(json.code).toBe(1);
    expect(json.stderr).toMatch(new RegExp(`^deepr: --model ${notJson} is not JSON: `));
  });
});

describe("deepr train --rule and --optimizer", () => {
  it("list the known names when given another, and refuse an optimiser that contradicts --momentum", async () => {
    const cases: [string[], string][] = [
      [["--rule", "rigl"], 'deepr train: --rule must be deep-r, dense, fixed, prune, l1 or soft-deep-r, got "rigl"'],
      [["--optimizer", "adagrad"], 'deepr train: --optimizer must be sgd, momentum or adam, got "adagrad"'],
      [["--optimizer", "sgd", "--momentum", "0.9"], 'deepr train: --optimizer "sgd" keeps no velocity, but --momentum is 0.9; give optimizer "momentum" or leave it out'],
    ];
    const results = await Promise.all(cases.map(([args]) => deepr(["train", "--data", csv, "--epochs", "1", ...args])));
    results.forEach((r, n) => {
      expect(r.stderr.split("\n")[0], cases[n][0].join(" ")).toBe(cases[n][1]);
      expect(r.code).toBe(2);
    });
  });

  it("train with the rule and optimiser named", async () => {
    const r = await deepr(["train", "--data", csv, "--layers", "6,16,3", "--connectivity", "0.5", "--rule", "deep-r", "--optimizer", "sgd", "--epochs", "1", "--json"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
  });
});
