// Edited copies of checkpoint files and the errors loading them gives, for the checkpoint format tests.
import { readFile, writeFile } from "node:fs/promises";
import { expect } from "vitest";
import { CheckpointError, decodeSafetensors, encodeSafetensors, type SafetensorsFile } from "../../lib/checkpoint/safetensors.js";
import { Model } from "../../lib/model.js";

/** Writes to `to` a copy of the checkpoint at `from` after `change` edits its decoded tensors and metadata. */
export async function editedCopy(from: string, to: string, change: (file: SafetensorsFile) => void): Promise<string> {
  const file = decodeSafetensors(await readFile(from), from);
  change(file);
  await writeFile(to, Buffer.concat(encodeSafetensors(file.tensors, file.metadata)));
  return to;
}

/** The CheckpointError that loading `path` gives. */
export async function loadError(path: string): Promise<string> {
  const error = await Model.load(path).then(
    (m) => {
      m.dispose();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error, `${path} loaded`).toBeInstanceOf(CheckpointError);
  expect((error as CheckpointError).code).toBe("DEEPR_BAD_CHECKPOINT");
  return (error as Error).message;
}

export const metadataJson = (file: SafetensorsFile, key: string) => JSON.parse(file.metadata[key]);

/** Rewrites metadata document `key` after `change` edits it. */
export function setJson(file: SafetensorsFile, key: string, change: (value: Record<string, unknown>) => void): void {
  const value = metadataJson(file, key);
  change(value);
  file.metadata[key] = JSON.stringify(value);
}
