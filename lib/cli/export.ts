// deepr export FILE: a checkpoint as a model file that other runtimes run (ONNX).
import { exportModelFile } from "../export/model-file.js";
import type { Flags } from "./args.js";

export async function exportModel(file: string, flags: Flags): Promise<void> {
  const out = flags.text("out") ?? `${file.replace(/\.safetensors$/i, "")}.onnx`;
  const weights = flags.choice<"sparse" | "dense">("weights");
  await exportModelFile(file, out, { format: flags.choice<"onnx">("format") ?? "onnx", ...(weights ? { weights } : {}) });
  console.log(`${file}: exported as ONNX to ${out}${weights === "dense" ? " (dense weights)" : ""}`);
}
