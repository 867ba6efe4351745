// Checkpoint in, exported model out: what `deepr export` runs.
import { Model } from "../model.js";
import { describe, nonEmptyString, object } from "../options.js";
import { exportOnnx, type OnnxOptions } from "./onnx.js";

export interface ExportOptions extends OnnxOptions {
  /** The file format; ONNX is the one there is. */
  format: "onnx";
}

/** Loads the checkpoint at `checkpointPath` and writes it to `outPath` in `options.format`. */
export async function exportModelFile(checkpointPath: string, outPath: string, options: ExportOptions): Promise<void> {
  object("options", options);
  if (options.format !== "onnx") throw new RangeError(`options.format must be "onnx" (the one export format), got ${describe(options.format)}`);
  nonEmptyString("outPath", outPath);
  const model = await Model.load(checkpointPath);
  try {
    await exportOnnx(model, outPath, { weights: options.weights });
  } finally {
    model.dispose();
  }
}
