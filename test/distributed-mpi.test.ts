// Data-parallel training on MPI (README, "Training on several processes (MPI)"): 2 and 4
// processes under mpirun end with the parameters of one process trained on the same global
// batches, after hundreds of steps with rewiring, and every process with the same bits; a batch
// that is not finite on one process is skipped by all; train() reports the bytes and time of its
// all-reduces. Needs Open MPI (scripts/install-mpi.sh): without it these tests skip, unless
// DEEPR_REQUIRE_MPI=1 (CI) makes that a failure.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkShardable } from "../lib/distributed.js";
import { Model } from "../lib/index.js";
import { describeFailure, ensureBuilt, root, runDriver, scratch, type ChildResult } from "./helpers/child.js";
import { deepr } from "./helpers/cli.js";

const DRIVER = "test/children/distributed-train.mjs";
const SAMPLES = 3000, EPOCHS = 3;  // 3 x 94 = 282 steps at batch 32
const mpiFound = spawnSync("mpirun", ["--version"], { encoding: "utf8" }).status === 0;
const required = process.env.DEEPR_REQUIRE_MPI === "1";
// Two hosts on this machine: network namespaces (root and iproute2).
const canMakeHosts = process.getuid?.() === 0 && spawnSync("ip", ["netns", "list"]).status === 0;
if (!mpiFound && !required) console.warn("test/distributed-mpi.test.ts: mpirun not found, the MPI tests skip (scripts/install-mpi.sh installs Open MPI)");

interface StoreArrays {
  positions: number[];
  theta: number[];
  sign: number[];
}
interface Run {
  rank: number;
  ranks: number;
  step: number;
  losses: number[];
  skipped: number[];
  layers: { stores: { weight: StoreArrays } }[];
}

let dir = "";
beforeAll(() => {
  ensureBuilt();
  dir = scratch("deepr-mpi-");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * mpirun with `processes` processes of node running `args` (after mpirun's own `options`); throws
 * with its output when it fails, unless `failing`.
 */
function mpirun(processes: number, args: string[], { failing = false, env = {}, options = [] as string[] } = {}): ChildResult {
  const r = spawnSync("mpirun", [...options, "--allow-run-as-root", "--oversubscribe", "-np", String(processes), process.execPath, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  const result = { code: r.status, signal: r.signal, timedOut: r.error !== undefined, stdout: r.stdout, stderr: r.stderr, lastCases: "" };
  if (r.status !== 0 && !failing) throw new Error(describeFailure(`mpirun -np ${processes} ${args.join(" ")}`, result));
  return result;
}

/** Trains in `processes` processes (1: plain node, no MPI) and returns every process's result. */
async function train(name: string, processes: number, batch: number, nanSample = -1): Promise<Run[]> {
  const out = join(dir, name);
  rmSync(out, { recursive: true, force: true });
  const args = [out, String(SAMPLES), String(batch), String(EPOCHS), String(nanSample)];
  mkdirSync(out, { recursive: true });
  if (processes > 1) mpirun(processes, [DRIVER, ...args, "mpi"]);
  else {
    const r = await runDriver(DRIVER, args, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(describeFailure(DRIVER, r));
  }
  return Array.from({ length: processes }, (_, rank) => JSON.parse(readFileSync(join(out, `rank-${rank}.json`), "utf8")) as Run);
}

// One process's float32 sums over its batch differ from the sum of the processes' partial sums
// only in the order of the additions (each share's weight, rows / batch, is applied exactly or
// within one rounding), so every step's gradients agree to a few ulps and the same connections
// die and regrow. Over 282 steps θ drifts apart by at most 4e-7 here; 1e-5 leaves room for other
// CPUs' SIMD widths while a wrong weighting of the shares (a sum instead of the mean, equal
// weights for unequal shares) moves θ by more than 1e-3.
const THETA_TOLERANCE = 1e-5;

function expectEquivalent(single: Run, distributed: Run[]): void {
  expect(distributed.map((r) => r.rank)).toEqual(distributed.map((_, n) => n));
  for (const r of distributed) {
    expect(r.ranks).toBe(distributed.length);
    expect(r.step).toBe(single.step);
    expect(r.skipped).toEqual(single.skipped);
    // Every process holds the same bits: they applied the same summed gradients, noise and regrowth.
    expect(r.layers).toEqual(distributed[0].layers);
    r.losses.forEach((loss, e) => expect(Math.abs(loss - single.losses[e])).toBeLessThan(1e-5));
    single.layers.forEach((layer, l) => {
      const [a, b] = [layer.stores.weight, r.layers[l].stores.weight];
      expect(b.positions).toEqual(a.positions);
      expect(b.sign).toEqual(a.sign);
      const drift = Math.max(...a.theta.map((t, k) => Math.abs(t - b.theta[k])));
      expect(drift).toBeLessThan(THETA_TOLERANCE);
    });
  }
}

describe.runIf(mpiFound || required)("distributed: \"mpi\" under mpirun", () => {
  it("finds mpirun (DEEPR_REQUIRE_MPI=1: scripts/install-mpi.sh installs Open MPI)", () => {
    expect(mpiFound).toBe(true);
  });

  it("2 processes end with one process's parameters, after 282 steps with rewiring", async () => {
    const [single] = await train("single-32", 1, 32);
    const initial = (await Model.create({ layers: [784, 64, 10], connectivity: 0.05, seed: 5 }).exportLayers())[0].stores.weight!;
    // The structure changed: the comparison covers connections that died and regrew.
    expect(Array.from(initial.positions!)).not.toEqual(single.layers[0].stores.weight.positions);
    expectEquivalent(single, await train("mpi-2", 2, 32));
  }, 120_000);

  it("4 processes with unequal shares of each batch (30 rows: 7, 8, 7, 8) end with one process's parameters", async () => {
    const [single] = await train("single-30", 1, 30);
    expectEquivalent(single, await train("mpi-4", 4, 30));
  }, 120_000);

  it("a batch that is NaN on one process only is skipped by every process, as one process skips it", async () => {
    const [single] = await train("single-nan", 1, 32, 1234);
    expect(single.skipped).toEqual([1, 1, 1]);  // the NaN sample's batch, once an epoch
    expectEquivalent(single, await train("mpi-2-nan", 2, 32, 1234));
  }, 120_000);

  it("train() reports the bytes and seconds of the chunk's all-reduces, the state comparisons' steps included", () => {
    const out = join(dir, "meter");
    mkdirSync(out, { recursive: true });
    mpirun(2, ["test/children/distributed-meter.mjs", out]);
    // K = 300 gradients, 30 biases and 4 loss fields a step; steps 0, 2 and 4 also carry 4 hash
    // slots per process (2 in the first call of steps 0-2, 1 in the second of steps 3-5).
    const step = (300 + 30 + 4) * 4, hashes = 2 * 4 * 4;
    for (const rank of [0, 1]) {
      const calls = JSON.parse(readFileSync(join(out, `meter-${rank}.json`), "utf8")) as { bytes: number; seconds: number; wallSeconds: number }[];
      expect(calls.map((c) => c.bytes)).toEqual([3 * step + 2 * hashes, 3 * step + hashes]);
      for (const c of calls) {
        expect(c.seconds).toBeGreaterThan(0);
        expect(c.seconds).toBeLessThan(c.wallSeconds);
      }
    }
  }, 60_000);

  it("a process that fails ends the run: the others stop with mpirun's error instead of waiting for it", () => {
    const out = join(dir, "failing");
    mkdirSync(out, { recursive: true });
    const started = performance.now();
    const r = mpirun(3, [DRIVER, out, String(SAMPLES), "32", String(EPOCHS), "-1", "mpi"], { failing: true, env: { DEEPR_TEST_EXIT_RANK: "1" } });
    expect(r.timedOut).toBe(false);
    expect(r.code).toBe(3);  // the failing process's code (Open MPI's own notice is not always printed)
    expect(performance.now() - started).toBeLessThan(30_000);
  }, 60_000);

  it("processes whose networks differ stop at the next comparison of their states, naming the one that differs", () => {
    const out = join(dir, "nudged");
    mkdirSync(out, { recursive: true });
    const r = mpirun(3, [DRIVER, out, String(SAMPLES), "32", String(EPOCHS), "-1", "mpi"], { failing: true, env: { DEEPR_TEST_NUDGE_RANK: "2" } });
    expect(r.timedOut).toBe(false);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("data-parallel training stopped at step 0: the state of process 2 differs from process 0's");
  }, 60_000);

  it.runIf(canMakeHosts)("across two hosts, two network namespaces joined by a veth pair, over TCP, as on one", async () => {
    // Host a (10.77.0.1) runs mpirun; it starts host b's processes through `agent`, which stands
    // in for ssh by entering b's namespace.
    const [a, b] = [`deepr-${process.pid}-a`, `deepr-${process.pid}-b`];
    const agent = join(dir, "netns-agent.sh");
    writeFileSync(agent, `#!/bin/sh\nhost=$1; shift\ncase $host in 10.77.0.1) ns=${a};; 10.77.0.2) ns=${b};; *) exit 1;; esac\nexec ip netns exec $ns sh -c "$*"\n`, { mode: 0o755 });
    const ip = (...args: string[]) => execFileSync("ip", args);
    try {
      ip("netns", "add", a);
      ip("netns", "add", b);
      ip("link", "add", `${a}-v`, "type", "veth", "peer", "name", `${b}-v`);
      for (const [ns, address] of [[a, "10.77.0.1/24"], [b, "10.77.0.2/24"]]) {
        ip("link", "set", `${ns}-v`, "netns", ns);
        ip("-n", ns, "addr", "add", address, "dev", `${ns}-v`);
        ip("-n", ns, "link", "set", `${ns}-v`, "up");
        ip("-n", ns, "link", "set", "lo", "up");
      }
      const [single] = await train("single-32-hosts", 1, 32);
      const out = join(dir, "hosts");
      mkdirSync(out, { recursive: true });
      const tcp = ["--mca", "plm_rsh_agent", agent, "--mca", "btl", "tcp,self", "--mca", "btl_tcp_if_include", "10.77.0.0/24",
        "--mca", "oob_tcp_if_include", "10.77.0.0/24", "-H", "10.77.0.1:1,10.77.0.2:1"];
      const where = `rank $OMPI_COMM_WORLD_RANK on $(ip -o -4 addr show | grep -o '10\\.77\\.0\\.[12]')`;
      const hosts = spawnSync("ip", ["netns", "exec", a, "mpirun", ...tcp, "--allow-run-as-root", "-np", "2", "sh", "-c", `echo ${where}`], { encoding: "utf8", timeout: 60_000 });
      expect(hosts.stdout.trim().split("\n").sort()).toEqual(["rank 0 on 10.77.0.1", "rank 1 on 10.77.0.2"]);
      const args = [DRIVER, out, String(SAMPLES), "32", String(EPOCHS), "-1", "mpi"];
      const r = spawnSync("ip", ["netns", "exec", a, "mpirun", ...tcp, "--allow-run-as-root", "-np", "2", process.execPath, ...args], { encoding: "utf8", timeout: 60_000 });
      if (r.status !== 0) throw new Error(`mpirun across the namespaces exited with ${r.status}: ${r.stderr}`);
      expectEquivalent(single, [0, 1].map((rank) => JSON.parse(readFileSync(join(out, `rank-${rank}.json`), "utf8")) as Run));
    } finally {
      for (const ns of [a, b]) spawnSync("ip", ["netns", "delete", ns]);
    }
  }, 120_000);

  it("deepr train --distributed mpi: rank 0 alone prints and saves, and a run resumed on 4 processes continues as one process does", async () => {
    const flags = ["--layers", "784,64,10", "--connectivity", "0.05", "--limit", "2000", "--json"];
    const [first, resumed, alone] = ["first", "resumed", "alone"].map((name) => join(dir, `${name}.safetensors`));
    const started = mpirun(2, ["dist/cli.js", "train", ...flags, "--epochs", "1", "--distributed", "mpi", "--out", first]);
    // One epoch line and one summary: rank 1 printed nothing.
    expect(started.stdout.trim().split("\n").map((l) => JSON.parse(l).type)).toEqual(["epoch", "final"]);
    mpirun(4, ["dist/cli.js", "train", "--resume", first, "--limit", "2000", "--epochs", "2", "--distributed", "mpi", "--out", resumed]);
    const single = await deepr(["train", "--resume", first, "--limit", "2000", "--epochs", "2", "--out", alone]);
    expect(single.code, single.stderr).toBe(0);
    const [a, b] = await Promise.all([alone, resumed].map(async (path) => (await Model.load(path)).exportLayers()));
    a.forEach((layer, l) => {
      const [x, y] = [layer.stores.weight!, b[l].stores.weight!];
      expect(Array.from(y.positions!)).toEqual(Array.from(x.positions!));
      expect(Math.max(...x.theta!.map((t, k) => Math.abs(t - y.theta![k])))).toBeLessThan(THETA_TOLERANCE);
    });
  }, 120_000);
});

// Where Open MPI is installed, a child in a mount namespace of its own (root and unshare only)
// sees an empty file in place of libmpi, as a machine without a usable MPI would.
const libmpi = spawnSync("sh", ["-c", "readlink -f $(ldconfig -p | sed -n 's/.*libmpi\\.so\\.40 .*=> //p' | head -n 1)"], { encoding: "utf8" }).stdout?.trim();
const canHide = process.getuid?.() === 0 && spawnSync("unshare", ["--version"]).status === 0;

describe("the distributed option", () => {
  it.runIf(!mpiFound || (libmpi && canHide))("without a loadable MPI says what to install", () => {
    const script = join(dir, "no-mpi.mjs");
    writeFileSync(script, `import { Model } from ${JSON.stringify(pathToFileURL(join(root, "dist/index.js")).href)};
Model.create({ layers: [4, 2], connectivity: 0.5, distributed: "mpi" });\n`);
    const r = mpiFound
      ? spawnSync("unshare", ["-m", "sh", "-c", 'mount --bind /dev/null "$0" && exec "$1" "$2"', libmpi, process.execPath, script], { encoding: "utf8", timeout: 30_000 })
      : spawnSync(process.execPath, [script], { encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /Error: deepr: cannot train with distributed: "mpi": cannot load Open MPI \(.*libmpi\.so\.40.*\): install Open MPI \(Debian, Ubuntu: sudo apt-get install openmpi-bin libopenmpi-dev;/,
    );
  });

  it("names its engines", () => {
    expect(() => Model.create({ layers: [4, 2], connectivity: 0.5, distributed: "nccl" as "mpi" })).toThrow(
      new RangeError('options.distributed must be one of "mpi", got "nccl"'),
    );
  });

  it("refuses a batch that cannot give every process a sample", () => {
    expect(() => checkShardable(100, 32, { rank: 0, ranks: 4 })).not.toThrow();  // 32, 32, 32, 4
    expect(() => checkShardable(96, 32, { rank: 0, ranks: 4 })).not.toThrow();
    expect(() => checkShardable(99, 32, { rank: 0, ranks: 4 })).toThrow(/a batch of 3 samples cannot be split over 4 processes.*remainder is 0 or at least 4/);
    expect(() => checkShardable(100, 2, { rank: 0, ranks: 4 })).toThrow(/give a batchSize of at least 4/);
    expect(() => checkShardable(1, 32, { rank: 0, ranks: 1 })).not.toThrow();
  });
});
