// Golden values: the SHA-256 of the trained state of a few fixed runs. Any change to what
// training computes (the update rule, regrowth, the random streams, the schedules, the data order)
// changes a hash, and so does any change to how the state is laid out.
//
// The table is keyed by the checkpoint format version (metadata "deepr.version", FORMAT_2 in
// lib/checkpoint/format-2.ts): a checkpoint saved by one version resumes bit-identically
// only under a build that trains as that version did. So a row is never edited. A change that
// alters the trained state on purpose bumps the format version and adds a row for the new version.
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSafetensors } from "../lib/checkpoint/safetensors.js";
import { Model, type FitOptions } from "../lib/model.js";
import type { ModelOptions } from "../lib/options.js";
import { blobs } from "./helpers/synthetic.js";

interface Run {
  model: ModelOptions;
  fit: FitOptions;
}

const layers = [20, 16, 12, 4];
const runs: Record<string, Run> = {
  "layer budget, SGD, batch 1": {
    model: { layers, connectivity: [0.2, 0.3, 0.5], seed: 11 },
    fit: { epochs: 2, lr: 0.2, batchSize: 1, noise: 1e-2 },
  },
  "global budget by K, batch 7": {
    model: { layers, connectivity: [0.2, 0.3, 0.5], budget: "global", seed: 12 },
    fit: { epochs: 3, lr: 0.3, batchSize: 7, noise: 5e-2, alpha: 1e-3 },
  },
  "global budget by dormant positions, batch 32": {
    model: { layers, connectivity: [0.1, 0.2, 0.4], budget: "global", globalShare: "dormant", seed: 13 },
    fit: { epochs: 4, lr: 0.5, batchSize: 32, noise: 5e-2 },
  },
  "biases and momentum, temperature, batch 10": {
    model: { layers, connectivity: [0.2, 0.3, 0.5], bias: true, seed: 14 },
    fit: { epochs: 2, lr: 0.1, batchSize: 10, momentum: 0.5, temperature: 1e-4 },
  },
  "biases, cosine schedule, batch 3": {
    model: { layers, connectivity: 0.25, bias: true, seed: 15 },
    fit: { epochs: 3, lr: 0.4, lrSchedule: "cosine", batchSize: 3, noise: 1e-2 },
  },
};

const golden: Record<string, Record<string, string>> = {
  "1": {
    "layer budget, SGD, batch 1": "5209a005e313ef8229bebe57212916f4bcb6e60a5e4b23a3b96a62fb967ac8b3",
    "global budget by K, batch 7": "fc8bb1bdcf1bc690505f4fe21e4fee811aacb148cb1b994e483196d35288fafe",
    "global budget by dormant positions, batch 32": "6f006e930d9c715820498c9322f1c1b52a32cf86414f83207dcf1f5b521bd73a",
    "biases and momentum, temperature, batch 10": "f6d9a8c38717647b6e7e251c0f6934bb447f418be6b39545dade688cb4f45acb",
    "biases, cosine schedule, batch 3": "d5db58ce8e4f77dac47de094b9b9d1628f8dc4f11a5a51eb5b6282cc3a1726e7",
  },
  // Format 2 changed how the state is stored, not what training computes: the same states.
  "2": {
    "layer budget, SGD, batch 1": "5209a005e313ef8229bebe57212916f4bcb6e60a5e4b23a3b96a62fb967ac8b3",
    "global budget by K, batch 7": "fc8bb1bdcf1bc690505f4fe21e4fee811aacb148cb1b994e483196d35288fafe",
    "global budget by dormant positions, batch 32": "6f006e930d9c715820498c9322f1c1b52a32cf86414f83207dcf1f5b521bd73a",
    "biases and momentum, temperature, batch 10": "f6d9a8c38717647b6e7e251c0f6934bb447f418be6b39545dade688cb4f45acb",
    "biases, cosine schedule, batch 3": "d5db58ce8e4f77dac47de094b9b9d1628f8dc4f11a5a51eb5b6282cc3a1726e7",
  },
};

const data = blobs(160, 20, 4, 7);

/** SHA-256 over every tensor of every layer, each preceded by its name, in checkpoint order, then the step. */
async function stateHash(model: Model): Promise<string> {
  const hash = createHash("sha256");
  (await model.exportLayers()).forEach((layer, l) => {
    const tensors = { positions: layer.positions, theta: layer.theta, sign: layer.sign, bias: layer.bias, velocity: layer.velocity, bias_velocity: layer.biasVelocity };
    for (const [name, values] of Object.entries(tensors)) {
      if (values === undefined) continue;
      hash.update(`layers.${l}.${name}:${values.length}\n`);
      hash.update(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
    }
  });
  hash.update(`step:${model.progress.step}\n`);
  return hash.digest("hex");
}

async function formatVersion(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "deepr-golden-"));
  const model = Model.create({ layers: [2, 2], connectivity: 1 });
  try {
    await model.save(join(dir, "version.safetensors"));
    return (await readSafetensors(join(dir, "version.safetensors"))).metadata["deepr.version"];
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

describe("golden trained states", () => {
  // Everything runs inside the tests (nothing at collection time), so that mutation testing can
  // tell which test covers which code.
  it("has a row for the checkpoint format version this build writes", async () => {
    const version = await formatVersion();
    expect(golden[version], `checkpoint format version ${version} has no golden row: add one (keep the older rows)`).toBeDefined();
  });

  it.each(Object.keys(runs))("%s", async (name) => {
    const run = runs[name];
    const model = Model.create(run.model);
    await model.fit(data, run.fit);
    const hash = await stateHash(model);
    // The global runs did move connections between layers: they test what they say.
    expect(model.layers().some((l) => l.active !== l.budget)).toBe(run.model.budget === "global");
    model.dispose();
    const version = await formatVersion();
    expect(
      hash,
      `the trained state changed; if intended, update the golden hashes AND bump the checkpoint format version ` +
        `in lib/checkpoint/format-2.ts (FORMAT_2, now "${version}"): the new hashes go in a new row for the new version. ` +
        `This build's hash for "${name}": ${hash}`,
    ).toBe(golden[version]?.[name]);
  });
});
