#!/usr/bin/env node
// Soak test (not run in CI): one million DEEP R steps of a small model with heavy rewiring, the
// strict-bound invariant checked every 1 000 steps (K active per layer, or in total with a global
// budget; no duplicates; indices in range; theta finite and >= 0; signs fixed). Zero violations.
//
//   npm run build && node bench/soak.mjs [--steps 1000000] [--every 1000] [--budget layer|global] [--seed 1]
//
// Prints progress every 100 000 steps and a JSON summary at the end; exits 1 on any violation.
import { parseArgs } from "node:util";
import { Model } from "../dist/index.js";

const { values: o } = parseArgs({
  options: {
    steps: { type: "string", default: "1000000" },
    every: { type: "string", default: "1000" },
    budget: { type: "string", default: "layer" },
    seed: { type: "string", default: "1" },
  },
});
const steps = Number(o.steps), every = Number(o.every), seed = Number(o.seed);

// `every` samples with batch size 1: one epoch is `every` steps, and the check runs after each.
const features = 32, classes = 4;
const inputs = new Float32Array(every * features), labels = new Int32Array(every);
let state = seed >>> 0 || 1;
const random = () => ((state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0), state / 4294967296);
for (let n = 0; n < every; n++) {
  labels[n] = n % classes;
  for (let i = 0; i < features; i++) inputs[n * features + i] = random() * 0.5 + (i % classes === labels[n] ? 0.5 : 0);
}
const data = { inputs, labels, count: every, features, classes };

const model = Model.create({ layers: [features, 24, 16, classes], connectivity: [0.2, 0.3, 0.5], bias: true, budget: o.budget, seed });
const K = model.layers().map((l) => l.budget);
let rewired = 0, violations = 0, checks = 0;
const problems = [];
const started = performance.now();
await model.fit(data, {
  epochs: Math.ceil(steps / every),
  batchSize: 1,
  lr: 0.05,
  lrDecay: 1, // a constant learning rate: the rewiring stays heavy to the end
  // Noise std sqrt(2 lr T) = 0.03 per step and an l1 pull of lr * alpha = 0.0025 keep the thetas
  // near zero: about 10 % of the connections die and regrow every step, and the model still learns.
  temperature: 0.01,
  alpha: 0.05,
  momentum: 0.5,
  onEpochEnd: async (e) => {
    rewired += e.layers.reduce((s, l) => s + l.rewired, 0);
    checks++;
    try {
      await model.checkInvariants();
      const active = e.layers.map((l) => l.active);
      if (o.budget === "layer" ? active.some((a, l) => a !== K[l]) : active.reduce((a, b) => a + b) !== K.reduce((a, b) => a + b))
        throw new Error(`active ${active} for budget ${K}`);
    } catch (err) {
      violations++;
      if (problems.length < 10) problems.push(`after step ${model.progress.step}: ${err.message}`);
    }
    if ((e.epoch * every) % 100_000 === 0)
      console.error(`${e.epoch * every} steps, ${((performance.now() - started) / 1000).toFixed(1)} s, ${rewired} connections rewired, ${violations} violations`);
  },
});
const seconds = (performance.now() - started) / 1000;
const summary = {
  steps: model.progress.step, checks, violations, problems, seconds: Number(seconds.toFixed(1)),
  stepsPerSecond: Math.round(model.progress.step / seconds), activeConnections: K.reduce((a, b) => a + b),
  rewired, rewiredPerStep: Number((rewired / model.progress.step).toFixed(2)), budget: o.budget,
  accuracy: (await model.evaluate(data)).accuracy,
};
console.log(JSON.stringify(summary));
model.dispose();
process.exit(violations === 0 ? 0 : 1);
