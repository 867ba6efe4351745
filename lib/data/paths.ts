import { stat } from "node:fs/promises";
import type { Stats } from "node:fs";

/**
 * The file system entry at `path`, or undefined when there is none. Only absence counts as
 * "not there": any other failure (permission denied, say) surfaces as itself.
 */
export async function entry(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw error;
  }
}
