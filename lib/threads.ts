// How many threads the core splits large layers over. Results are bit-identical for any count.
import { native } from "./native.js";
import { integer } from "./options.js";

/** Threads used for large layers (the calling thread included). Starts at DEEPR_THREADS, else the number of cores. */
export function getThreads(): number {
  return native().threads();
}

/**
 * Sets the threads used for large layers, process-wide. Small layers always run on one thread,
 * where splitting would cost more than it saves.
 */
export function setThreads(threads: number): void {
  native().setThreads(integer("threads", threads, 1, 256));
}
