// Helper process for test/distributed-mpi.test.ts: trains a 784-64-10 MLP at 5 % (DEEP R, so
// connections die and regrow) on the first SAMPLES MNIST images in batches of BATCH, sample NAN_SAMPLE (if >= 0) made
// NaN and its batch skipped, and writes what it ends with to OUT_DIR/rank-<rank>.json.
//
//   node distributed-train.mjs OUT_DIR SAMPLES BATCH EPOCHS NAN_SAMPLE [mpi]
//
// With "mpi" (started by mpirun) the processes train together, each on its share of every batch.
// DEEPR_TEST_EXIT_RANK=r: process r exits with code 3 after the first epoch, as a failing one would.
// DEEPR_TEST_NUDGE_RANK=r: process r starts from a network with one theta changed by one ulp.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadMnist, Model } from "../../dist/index.js";

const [out, samples, batch, epochs, nanSample, engine] = process.argv.slice(2);
const count = Number(samples);
const { train } = await loadMnist();
const inputs = train.inputs.slice(0, count * train.features);
if (Number(nanSample) >= 0) inputs[Number(nanSample) * train.features] = NaN;
const data = { ...train, count, inputs, labels: train.labels.slice(0, count) };

const model = Model.create({ layers: [784, 64, 10], connectivity: 0.05, seed: 5, distributed: engine });
const { rank, ranks } = model.distribution;
if (process.env.DEEPR_TEST_NUDGE_RANK === String(rank)) {
  const layers = await model.exportLayers();
  const bits = new Uint32Array(layers[0].stores.weight.theta.buffer);
  bits[0] += 1;  // the next float32 up
  await model.importLayers(layers, 0);
}
const fails = process.env.DEEPR_TEST_EXIT_RANK === String(rank);
const history = await model.fit(data, {
  epochs: Number(epochs), batchSize: Number(batch), onNonFinite: "skip", onEpochEnd: fails ? () => process.exit(3) : undefined,
});
const layers = await model.exportLayers();
const arrays = (_, v) => (ArrayBuffer.isView(v) ? Array.from(v) : v);
const result = { rank, ranks, step: model.progress.step, losses: history.map((e) => e.loss), skipped: history.map((e) => e.skipped), layers };
writeFileSync(join(out, `rank-${rank}.json`), JSON.stringify(result, arrays));
