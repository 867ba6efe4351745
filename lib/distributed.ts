// Data-parallel training over several processes (README, "Training on several processes (MPI)"):
// the option that asks for it, its start on a native network, and the one condition it puts on
// the data. The core shards every batch and sums the gradients; this module holds the policy.
import { oneOf } from "./checks.js";
import { native, type NativeNetwork } from "./native.js";

/** The engines a model can train on several processes with. */
export const distributedEngines = ["mpi"] as const;
export type DistributedEngine = (typeof distributedEngines)[number];

/** Which process this is, and how many train the model together (rank 0 of 1 when it trains alone). */
export interface Distribution {
  rank: number;
  ranks: number;
}

export const alone: Distribution = { rank: 0, ranks: 1 };

/**
 * Steps between two checks that every process holds the same network (a hash of each one's state,
 * gathered in that step's gradient all-reduce): a pass over the state, negligible at this interval.
 */
const AGREEMENT_STEPS = 100;

/** Whether this process ends its part of the distributed run at exit (once, for all its models). */
let endsAtExit = false;

/** The `distributed` option: undefined (one process) or an engine. */
export function distributedOption(name: string, value: unknown): DistributedEngine | undefined {
  return value === undefined ? undefined : oneOf(name, value, distributedEngines);
}

/**
 * Joins the processes started by mpirun: from now on `network` trains this process's share of
 * every batch and sums the gradients with the others. Throws when MPI cannot be loaded.
 */
export function distribute(network: NativeNetwork, engine: DistributedEngine): Distribution {
  let distribution: Distribution;
  try {
    distribution = network.distribute(engine, AGREEMENT_STEPS);
  } catch (cause) {
    throw new Error(`deepr: cannot train with distributed: "${engine}": ${(cause as Error).message}`, { cause });
  }
  // A process that fails (an uncaught error, a non-zero exit) aborts the run, so that the others
  // end with mpirun's error instead of waiting for its gradients forever.
  if (!endsAtExit) process.once("exit", (code) => native().setExitCode(code));
  endsAtExit = true;
  return distribution;
}

/** Every batch of an epoch of `samples` must give each process at least one sample. */
export function checkShardable(samples: number, batchSize: number, { ranks }: Distribution): void {
  const last = samples % batchSize;
  const smallest = last === 0 ? Math.min(batchSize, samples) : last;
  if (smallest < ranks)
    throw new RangeError(
      `a batch of ${smallest} samples cannot be split over ${ranks} processes: ` +
        (batchSize < ranks
          ? `give a batchSize of at least ${ranks}`
          : `the last batch of each epoch (${samples} samples, batchSize ${batchSize}) is too small; choose a batchSize whose remainder is 0 or at least ${ranks}`),
    );
}
