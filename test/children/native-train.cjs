// Trains a small network on the addon binary named by argv[2], through the addon's own interface
// (no dist/, so that it also runs on an older Node, such as Debian's arm64 Node.js under
// qemu-user), and prints what the training gave as JSON: the loss of every batch, the evaluation,
// and the final parameters. test/prebuild-arm64.test.ts compares the arm64 prebuild's output with
// the x64 binary's.
"use strict";
const addon = require(require("node:path").resolve(process.argv[2]));

const [count, features, classes] = [400, 16, 4];
let state = 1;
const random = () => {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
};
const inputs = new Float32Array(count * features);
const labels = new Int32Array(count);
for (let n = 0; n < count; n++) {
  labels[n] = n % classes;
  for (let i = 0; i < features; i++) inputs[n * features + i] = random() * 0.5 + (i % classes === n % classes ? 0.6 : 0);
}

const sizes = [features, 32, classes];
const budgets = [256, 64];
const network = new addon.NativeNetwork({
  seed: 7,
  layers: [
    { kind: "sparse_linear", inputs: sizes[0], outputs: sizes[1], budget: budgets[0], bias: true },
    { kind: "relu" },
    { kind: "sparse_linear", inputs: sizes[1], outputs: sizes[2], budget: budgets[1], bias: true },
    { kind: "softmax_cross_entropy" },
  ],
  rule: { optimiser: "momentum", prior: "deep-r", structure: "deep-r", budget: "layer", globalShare: "budget" },
});
const hyper = { lr: 0.05, alpha: 1e-4, noiseStd: 1e-3, momentum: 0.9 };
(async () => {
  const loss = [];
  for (let epoch = 0; epoch < 3; epoch++) {
    const result = await network.train(inputs, labels, epoch, 0, count / 10, 10, hyper, true);
    loss.push(...result.loss);
  }
  const evaluation = await network.evaluate(inputs, labels);
  const layers = budgets.map((k, l) => ({
    positions: new Int32Array(2 * k),
    theta: new Float32Array(k),
    sign: new Int8Array(k),
    bias: new Float32Array(sizes[l + 1]),
    velocity: new Float32Array(k),
    biasVelocity: new Float32Array(sizes[l + 1]),
  }));
  // The addon's layout: per network layer (relu and head have none), per store, per field.
  await network.exportState(layers.flatMap((l) => [
    { weight: { positions: l.positions, theta: l.theta, sign: l.sign, velocity: l.velocity }, bias: { value: l.bias, velocity: l.biasVelocity } },
    {},
  ]));
  network.dispose();
  const plain = (layer) => Object.fromEntries(Object.entries(layer).map(([key, array]) => [key, Array.from(array)]));
  console.log(JSON.stringify({ arch: process.arch, simd: addon.simdLevel(), loss, evaluation, layers: layers.map(plain) }));
})();
