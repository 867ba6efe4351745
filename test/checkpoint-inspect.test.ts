// `deepr inspect` on checkpoints of both formats: the graph as stored (format 2) or as format 2
// would store it (format 1), the rule, and per sparse layer its stores, K and active count.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeSafetensors } from "../lib/checkpoint/safetensors.js";
import { Model } from "../lib/model.js";
import { deepr, jsonLines } from "./helpers/cli.js";
import { format1Bytes } from "./helpers/format-1.js";
import { blobs } from "./helpers/synthetic.js";

let dir: string, current: string, old: string;
let active: number[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "deepr-checkpoint-inspect-"));
  const model = Model.create({ layers: [12, 8, 6, 3], connectivity: [0.25, 0.5, 1], budget: "global", globalShare: "dormant", bias: true, seed: 4 });
  await model.fit(blobs(60, 12, 3), { epochs: 2, lr: 0.5, batchSize: 2, noise: 0.1, momentum: 0.5 });
  active = model.layers().map((l) => l.active);
  current = join(dir, "current.safetensors");
  old = join(dir, "old.safetensors");
  await model.save(current);
  await writeFile(old, await format1Bytes(model));
  model.dispose();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("deepr inspect", () => {
  it("--json gives the graph and rule as stored, and the same for a format-1 file of the same model", async () => {
    const file = decodeSafetensors(await readFile(current), current);
    const [report] = jsonLines((await deepr(["inspect", current, "--json"])).stdout);
    expect(report.format).toBe("2");
    expect(report.graph).toEqual(JSON.parse(file.metadata["deepr.graph"]));
    expect(report.rule).toEqual({ name: "deep-r", budget: "global", globalShare: "dormant" });
    expect(report.layers.map((l: { active: number }) => l.active)).toEqual(active);
    const [fromOld] = jsonLines((await deepr(["inspect", old, "--json"])).stdout);
    // deepr.rng as stored too: format 1 had no stream key layout version.
    const { streamKeys, ...rng } = report.rng;
    expect(streamKeys).toBe(1);
    expect(fromOld).toEqual({ ...report, file: old, format: "1", rng });
  });

  it("prints every layer of the graph, with each store's shape and each sparse store's K and active count", async () => {
    // The global budget moved connections between layers (else the active counts below say nothing).
    expect(active).not.toEqual([24, 24, 18]);
    const r = await deepr(["inspect", current]);
    expect(r.code).toBe(0);
    const percent = (k: number, positions: number) => ((100 * k) / positions).toFixed(3);
    expect(r.stdout.split("\n")).toEqual([
      `${current}: deepr checkpoint (format 2), seed 4, epoch 2, step 60`,
      "  rule: deep-r, global budget, regrowth shared by dormant",
      `  layer 0: sparse_linear 12 -> 8; weight sparse [12 x 8], K 24, active ${active[0]} (${percent(active[0], 96)} %) + velocity; bias dense [8] + velocity`,
      "  layer 1: relu",
      `  layer 2: sparse_linear 8 -> 6; weight sparse [8 x 6], K 24, active ${active[1]} (${percent(active[1], 48)} %) + velocity; bias dense [6] + velocity`,
      "  layer 3: relu",
      `  layer 4: sparse_linear 6 -> 3; weight sparse [6 x 3], K 18, active ${active[2]} (${percent(active[2], 18)} %) + velocity; bias dense [3] + velocity`,
      "  layer 5: softmax_cross_entropy",
      "",
    ]);
    expect((await deepr(["inspect", old])).stdout).toBe(r.stdout.replace(`${current}: deepr checkpoint (format 2)`, `${old}: deepr checkpoint (format 1)`));
  });
});
