// graphOf() and ruleOf() are what the native network is built from and what format-2 checkpoints
// store, so their output for every model spec is pinned: the SHA-256 of their JSON over a fixed
// family of specs, computed before the layer kinds and rules moved into registries.
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { graphOf, ruleOf } from "../lib/checkpoint/graph.js";
import { normalizeModelOptions } from "../lib/options.js";

/** Every combination of depth, widths, connectivity, budget, share, bias and momentum below. */
function* specs() {
  const widths = [[4, 2], [7, 5, 3], [12, 8, 6, 3], [784, 300, 100, 10]];
  for (const layers of widths)
    for (const connectivity of [0.5, 1, layers.slice(1).map((_, l) => 1 / (l + 2))])
      for (const budget of ["layer", "global"] as const)
        for (const globalShare of ["budget", "dormant"] as const)
          for (const bias of [false, true])
            for (const momentum of [false, true])
              yield { options: normalizeModelOptions({ layers, connectivity, budget, globalShare, bias, seed: 3 }), momentum };
}

describe("graphOf and ruleOf", () => {
  it("give the graph and rule they gave before the registries, for every spec of the family", () => {
    const hash = createHash("sha256");
    let count = 0;
    for (const { options, momentum } of specs()) {
      hash.update(JSON.stringify(graphOf(options, momentum ? "momentum" : "sgd")));
      hash.update(JSON.stringify(ruleOf(options)));
      count++;
    }
    expect(count).toBe(192);
    expect(hash.digest("hex")).toBe("914864d76bbadac8c35a5a372e753d374ed848b734ff5bdfbef6cc171c10f330");
  });

  it("give the graph of a small model as the README describes it", () => {
    const options = normalizeModelOptions({ layers: [6, 4, 3], connectivity: [0.5, 1], budget: "global", bias: true });
    expect(graphOf(options, "momentum")).toEqual([
      {
        kind: "sparse_linear", inputs: 6, outputs: 4,
        stores: {
          weight: { kind: "sparse", shape: [6, 4], budget: 12, connectivity: 0.5, fields: ["positions", "theta", "sign", "velocity"] },
          bias: { kind: "dense", shape: [4], fields: ["value", "velocity"] },
        },
      },
      { kind: "relu" },
      {
        kind: "sparse_linear", inputs: 4, outputs: 3,
        stores: {
          weight: { kind: "sparse", shape: [4, 3], budget: 12, connectivity: 1, fields: ["positions", "theta", "sign", "velocity"] },
          bias: { kind: "dense", shape: [3], fields: ["value", "velocity"] },
        },
      },
      { kind: "softmax_cross_entropy" },
    ]);
    expect(ruleOf(options)).toEqual({ name: "deep-r", budget: "global", globalShare: "budget" });
    // The key order is part of the stored JSON.
    expect(Object.keys(graphOf(options, "sgd")[0])).toEqual(["kind", "inputs", "outputs", "stores"]);
    expect(Object.keys(ruleOf(options))).toEqual(["name", "budget", "globalShare"]);
  });
});
