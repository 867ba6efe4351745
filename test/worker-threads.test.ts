// The addon is context-aware (Node-API instance data, no process-wide JavaScript state): four
// worker threads load it at once and train a model each, concurrently, and each gets exactly what
// the same training gets alone in this thread, bit for bit. Workers load the built package
// (dist/), this thread the sources, both through the same binary.
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { Model } from "../lib/index.js";
import { ensureBuilt, root } from "./helpers/child.js";
import { blobs } from "./helpers/synthetic.js";

const fit = { epochs: 4, batchSize: 8, lr: 0.05, momentum: 0.9, noise: 1e-4 };
const data = blobs(2000, 32, 4, 9);
const specs = [11, 12, 13, 14].map((seed) => ({ layers: [32, 48, 24, 4], connectivity: [0.2, 0.3, 0.6], bias: seed % 2 === 0, seed }));

function inWorker(spec: (typeof specs)[number]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(join(root, "test/children/worker-train.mjs"), { workerData: { spec, fit, data } });
    worker.once("message", (result) => {
      resolve(result);
      void worker.terminate();
    });
    worker.once("error", reject);
    worker.once("exit", (code) => code !== 0 && reject(new Error(`worker exited with code ${code}`)));
  });
}

async function alone(spec: (typeof specs)[number]) {
  const model = Model.create(spec);
  const history = await model.fit(data, fit);
  const evaluation = await model.evaluate(data);
  const layers = await model.exportLayers();
  model.dispose();
  return { loss: history.map((e) => e.loss), evaluation, layers };
}

describe("worker threads", () => {
  it("train four models concurrently, each bit-identical to the same training alone in the main thread", async () => {
    ensureBuilt();
    const concurrent = await Promise.all(specs.map(inWorker));
    for (const [i, spec] of specs.entries()) {
      const expected = await alone(spec);
      expect(concurrent[i]).toEqual(expected);
      expect(expected.evaluation.accuracy).toBeGreaterThan(0.9); // learnable data: chance is 0.25
    }
    // Different seeds, different models: the comparison above could not pass by mixing them up.
    expect(new Set(concurrent.map((r) => JSON.stringify((r as { loss: number[] }).loss))).size).toBe(specs.length);
  }, 60_000);
});
