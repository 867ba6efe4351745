// --threads N: the core's thread count for this run.
import { setThreads } from "../threads.js";
import { flagError } from "./api-errors.js";
import type { Flags } from "./args.js";

export function applyThreads(flags: Flags): void {
  const threads = flags.number("threads");
  if (threads === undefined) return;
  try {
    setThreads(threads);
  } catch (e) {
    throw flagError(e, { flags, origin: "", values: {} });
  }
}
