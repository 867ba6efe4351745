// Helper process for test/distributed-mpi.test.ts: a 100-30 sparse layer (K = 300, 30 biases)
// trained under mpirun in two calls of 3 steps at batch 16, comparing states every 2 steps;
// writes each call's allReduceBytes and allReduceSeconds, and its wall time, to OUT_DIR/meter-<rank>.json.
//
//   node distributed-meter.mjs OUT_DIR
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { native } from "../../dist/native.js";

const addon = native();
const net = new addon.NativeNetwork({
  seed: 3,
  layers: [{ kind: "sparse_linear", inputs: 100, outputs: 30, budget: 300, bias: true }, { kind: "softmax_cross_entropy" }],
  rule: { optimiser: "sgd", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" },
});
const { rank } = net.distribute("mpi", 2);
process.once("exit", (code) => addon.setExitCode(code));
const inputs = Float32Array.from({ length: 96 * 100 }, (_, n) => Math.sin(n));
const labels = Int32Array.from({ length: 96 }, (_, n) => n % 30);
const calls = [];
for (const first of [0, 3]) {
  const started = performance.now();
  const r = await net.train(inputs, labels, 0, first, 3, 16, { lr: 0.05, alpha: 1e-5, noiseStd: 5e-7 }, false);
  calls.push({ bytes: r.allReduceBytes, seconds: r.allReduceSeconds, wallSeconds: (performance.now() - started) / 1000 });
}
writeFileSync(join(process.argv[2], `meter-${rank}.json`), JSON.stringify(calls));
