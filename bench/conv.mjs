// Standalone: µs per full training step of a small convolutional network at batch 32, with its
// 28x28x1 -> 32 5x5 convolution sparse at 5 % connectivity (sparse_conv2d, DEEP R) and dense
// (dense_conv2d); the rest of the network is the same in both. Network: conv -> relu -> max_pool2d
// 2x2 -> sparse_linear 4608 -> 10 at 5 % -> softmax_cross_entropy. Needs only the built addon.
//
//   node bench/conv.mjs          (DEEPR_THREADS from the environment, if the addon reads it)
import { HYPER, fmtUs, fmtX, loadAddon, median, syntheticData } from "./common.mjs";

const BATCH = 32, CONNECTIVITY = 0.05, CHUNKS = 15, STEPS_PER_CHUNK = 20;
const image = { height: 28, width: 28 };
const conv = { in_channels: 1, ...image, out_channels: 32, kernel_height: 5, kernel_width: 5, stride: 1, padding: 0, bias: true };
const pooledInputs = 32 * 12 * 12;
const kernelWeights = conv.out_channels * conv.in_channels * conv.kernel_height * conv.kernel_width;
const tail = [
  { kind: "relu" },
  { kind: "max_pool2d", channels: 32, height: 24, width: 24, kernel_height: 2, kernel_width: 2, stride: 2 },
  { kind: "sparse_linear", inputs: pooledInputs, outputs: 10, budget: Math.floor(pooledInputs * 10 * CONNECTIVITY), bias: true },
  { kind: "softmax_cross_entropy" },
];
const rule = { optimiser: "sgd", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" };

const addon = loadAddon();
const cases = [
  { name: `sparse_conv2d, ${CONNECTIVITY * 100} % (K = ${Math.floor(kernelWeights * CONNECTIVITY)})`, layers: [{ kind: "sparse_conv2d", ...conv, budget: Math.floor(kernelWeights * CONNECTIVITY) }, ...tail] },
  { name: `dense_conv2d (${kernelWeights} weights)`, layers: [{ kind: "dense_conv2d", ...conv }, ...tail] },
];

const data = syntheticData(BATCH * STEPS_PER_CHUNK, 28 * 28, 10);
const rows = [];
for (const c of cases) {
  const net = new addon.NativeNetwork({ seed: 1, layers: c.layers, rule });
  const times = [];
  for (let chunk = 0; chunk < CHUNKS + 2; chunk++) {
    const started = process.hrtime.bigint();
    await net.train(data.inputs, data.labels, chunk, 0, STEPS_PER_CHUNK, BATCH, HYPER, false);
    if (chunk >= 2) times.push(Number(process.hrtime.bigint() - started) / 1000 / STEPS_PER_CHUNK);  // 2 chunks of warm-up
  }
  net.dispose();
  rows.push([c.name, median(times)]);
}
console.log(`Convolutional step, batch ${BATCH}, median of ${CHUNKS} chunks of ${STEPS_PER_CHUNK} steps (DEEPR_THREADS=${process.env.DEEPR_THREADS ?? "unset"}, ${addon.threads()} threads, ${addon.simdLevel()})`);
console.log("| first layer | µs/step | dense / this |\n|---|---|---|");
for (const [name, us] of rows) console.log(`| ${name} | ${fmtUs(us)} | ${fmtX(rows[1][1] / us)} |`);
