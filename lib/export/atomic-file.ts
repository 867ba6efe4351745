// Crash-safe file replacement for exported models, as for checkpoints: a crash or error at any
// point leaves either the previous file or the complete new one.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ExportError } from "./export-error.js";

/**
 * Writes `chunks` to a temporary file beside `path`, syncs it, renames it over `path` and syncs
 * the directory. `what` names the file in error messages ("ONNX model").
 */
export async function writeFileAtomic(path: string, chunks: readonly Uint8Array[], what: string): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const file = await fs.open(tmp, "wx");
    try {
      for (const chunk of chunks) {
        // Bounded writes: a single write call cannot take more than 2 GiB.
        for (let done = 0; done < chunk.length; ) {
          const { bytesWritten } = await file.write(chunk, done, Math.min(chunk.length - done, 1 << 30));
          if (!(bytesWritten > 0)) throw new Error(`write made no progress after ${done} of ${chunk.length} bytes`);
          done += bytesWritten;
        }
      }
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {});
    throw new ExportError(`cannot write ${what} ${path}: ${(err as Error).message}; the previous file, if any, is left intact`, { cause: err });
  }
  try {
    const handle = await fs.open(dir, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    // Some platforms (Windows) cannot open or fsync a directory.
    if (["EISDIR", "EPERM", "EINVAL"].includes((err as NodeJS.ErrnoException).code ?? "")) return;
    throw new ExportError(`${what} ${path} was written but its directory could not be synced, so it may not survive a crash: ${(err as Error).message}`, { cause: err });
  }
}
