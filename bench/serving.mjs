// Serving while training: the latency of predictions over loopback HTTP, asked of the model
// itself and of a snapshot (model.snapshot()), with the model idle and while it trains.
//
//   node bench/serving.mjs [requests per case, default 300]
//
// The server (this thread) holds the README's MNIST network (784-300-100-10 at 1/3/30 %) and
// answers POST /model and POST /snapshot, whose body is one sample of 784 float32 values, with its
// 10 class probabilities. During training, fit() runs on synthetic MNIST-sized data (60 000
// samples, batch 10) and refreshes the snapshot at every epoch end (an epoch is a few hundred ms
// here, so the refreshes are part of what is measured). A client in a worker thread (an event
// loop of its own) sends one request at a time, 0-10 ms apart so they land anywhere in a chunk of
// steps, over a keep-alive connection. Prints a table of milliseconds per request. Uses the
// compiled package (dist/, `npm run build`).
import { createServer, request, Agent } from "node:http";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { quantile, ROOT, syntheticData } from "./common.mjs";

const FEATURES = 784;

if (isMainThread) await serve(Number(process.argv[2] ?? 300));
else await client(workerData);

async function serve(requests) {
  const { Model } = await import(pathToFileURL(join(ROOT, "dist", "index.js")).href);
  const data = { ...syntheticData(60_000, FEATURES, 10), classes: 10 };
  const model = Model.create({ layers: [784, 300, 100, 10], connectivity: [0.01, 0.03, 0.3], seed: 1 });
  await model.fit(data, { epochs: 1, lr: 0.05, batchSize: 10 }); // warm up: the data check, the JIT
  const snapshot = await model.snapshot();
  const targets = { "/model": model, "/snapshot": snapshot };

  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", async () => {
      const body = Buffer.concat(chunks);
      const inputs = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
      const probabilities = await targets[req.url].predict(inputs);
      res.end(Buffer.from(probabilities.buffer));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = new Worker(new URL(import.meta.url), { workerData: { port: server.address().port, requests } });
  const ask = (path) =>
    new Promise((resolve) => {
      client.once("message", resolve);
      client.postMessage(path);
    });

  const rows = [];
  const measure = async (name, path) => rows.push({ name, ...summary(await ask(path)) });
  await measure("model, idle", "/model");
  await measure("snapshot, idle", "/snapshot");
  const controller = new AbortController();
  const training = model
    .fit(data, { epochs: 1_000_000, signal: controller.signal, onEpochEnd: () => snapshot.refresh() })
    .catch((error) => (controller.signal.aborted ? undefined : Promise.reject(error)));
  await measure("model, during fit()", "/model");
  await measure("snapshot, during fit() (refreshed every epoch)", "/snapshot");
  controller.abort();
  await training;
  const epochs = model.progress.epoch;
  await client.terminate();
  server.close();
  snapshot.dispose();
  model.dispose();

  console.log(`Predictions of one sample over loopback HTTP, ${requests} requests per case, ms (${epochs} epochs trained):\n`);
  console.log("| case | median | p95 | max |");
  console.log("|---|---:|---:|---:|");
  for (const r of rows) console.log(`| ${r.name} | ${r.median.toFixed(2)} | ${r.p95.toFixed(2)} | ${r.max.toFixed(2)} |`);
}

function summary(ms) {
  return { median: quantile(ms, 0.5), p95: quantile(ms, 0.95), max: Math.max(...ms) };
}

// The client: for each path the server posts, times `requests` sequential requests and posts back the milliseconds.
async function client({ port, requests }) {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const sample = Buffer.from(syntheticData(1, FEATURES, 10, 3).inputs.buffer);
  const post = (path) =>
    new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, method: "POST", agent }, (res) => {
        res.on("data", () => {});
        res.on("end", resolve);
      });
      req.on("error", reject);
      req.end(sample);
    });
  parentPort.on("message", async (path) => {
    for (let n = 0; n < 20; n++) await post(path); // warm up the connection
    const ms = [];
    for (let n = 0; n < requests; n++) {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10));
      const start = performance.now();
      await post(path);
      ms.push(performance.now() - start);
    }
    parentPort.postMessage(ms);
  });
}
