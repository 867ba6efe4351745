// Crash-safe file replacement, for checkpoints and exported models: a crash or an error at any
// point leaves either the previous file or the complete new one.
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import { basename, dirname, join } from "node:path";

/** The error class a caller reports failures with (CheckpointError, ExportError). */
export type FileErrorClass = new (message: string, options?: ErrorOptions) => Error;

/**
 * Writes `chunks` to a temporary file beside `path`, syncs it, renames it over `path` and syncs
 * the directory, so the rename itself survives a crash. `what` names the file in messages
 * ("checkpoint", "ONNX model"); failures are thrown as `ErrorClass`.
 */
export async function writeFileAtomic(path: string, chunks: Iterable<Uint8Array>, what: string, ErrorClass: FileErrorClass): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const file = await fs.open(tmp, "wx");
    try {
      for (const chunk of chunks) {
        // Bounded writes: a single write call cannot take more than 2 GiB.
        for (let done = 0; done < chunk.length; ) {
          const { bytesWritten } = await file.write(chunk, done, Math.min(chunk.length - done, 1 << 30));
          // A write that makes no progress would otherwise loop forever.
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
    throw new ErrorClass(`cannot write ${what} ${path}: ${(err as Error).message}; the previous file, if any, is left intact`, { cause: err });
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
    throw new ErrorClass(
      `${what} ${path} was written but its directory could not be synced, so it may not survive a crash: ${(err as Error).message}`,
      { cause: err },
    );
  }
}
