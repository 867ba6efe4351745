// Runs inside a worker thread of test/children/worker-terminations.mjs: builds a model and repeats
// one operation (fit, evaluate, predict or save) until the host terminates the thread.
//
// workerData: {operation, seed, path, inputs, labels, count, features, classes, calls}. The data
// arrays are views of SharedArrayBuffers owned by the host; `calls` (Int32Array over a
// SharedArrayBuffer) counts [operations started, operations settled], so the host can tell whether
// one was in flight when it called terminate().
import { parentPort, workerData } from "node:worker_threads";
import { Model } from "../../dist/index.js";

const { operation, seed, path, inputs, labels, count, features, classes, calls } = workerData;
const data = { inputs, labels, count, features, classes };
const model = Model.create({ layers: [features, 512, classes], connectivity: 0.5, bias: true, seed });

const run = {
  fit: () => model.fit(data, { epochs: 1_000_000, batchSize: 16, momentum: 0.9 }),
  evaluate: () => model.evaluate(data),
  predict: () => model.predict(inputs),
  save: () => model.save(path),
}[operation];

parentPort.postMessage("ready");
for (;;) {
  Atomics.add(calls, 0, 1);
  await run();
  Atomics.add(calls, 1, 1);
}
