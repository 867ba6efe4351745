// Runs inside a worker thread of test/worker-threads.test.ts: trains one model on the data it is
// given and posts back its loss history, its evaluation and its final parameters.
//
// workerData: {spec, fit, data}: Model.create's options, fit's options and a Dataset.
import { parentPort, workerData } from "node:worker_threads";
import { Model } from "../../dist/index.js";

const { spec, fit, data } = workerData;
const model = Model.create(spec);
const history = await model.fit(data, fit);
const evaluation = await model.evaluate(data);
const layers = await model.exportLayers();
model.dispose();
parentPort.postMessage({ loss: history.map((e) => e.loss), evaluation, layers });
