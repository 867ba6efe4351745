// The checkpoint writer of format 1, as deepr shipped it before format 2, kept to make the files
// that the format-1 loading tests read (no binary files live in the repository).
import { encodeSafetensors, type Tensor } from "../../lib/checkpoint/safetensors.js";
import type { Model } from "../../lib/model.js";

/** The bytes of `model` as format 1 would have saved it. */
export async function format1Bytes(model: Model): Promise<Buffer> {
  const tensors: Record<string, Tensor> = {};
  (await model.exportLayers()).forEach((layer, l) => {
    const k = layer.theta.length;
    tensors[`layers.${l}.positions`] = { dtype: "I32", shape: [k, 2], data: layer.positions };
    tensors[`layers.${l}.theta`] = { dtype: "F32", shape: [k], data: layer.theta };
    tensors[`layers.${l}.sign`] = { dtype: "I8", shape: [k], data: layer.sign };
    if (layer.bias) tensors[`layers.${l}.bias`] = { dtype: "F32", shape: [layer.outputs], data: layer.bias };
    if (layer.velocity) tensors[`layers.${l}.velocity`] = { dtype: "F32", shape: [k], data: layer.velocity };
    if (layer.biasVelocity) tensors[`layers.${l}.bias_velocity`] = { dtype: "F32", shape: [layer.outputs], data: layer.biasVelocity };
  });
  const { layers, connectivity, budgets, budget, globalShare, bias, seed } = model.options;
  return Buffer.concat(encodeSafetensors(tensors, {
    format: "deepr",
    "deepr.version": "1",
    "deepr.model": JSON.stringify({ layers, connectivity, budgets, budget, globalShare, bias, seed }),
    "deepr.training": JSON.stringify(model.trainOptions),
    "deepr.progress": JSON.stringify(model.progress),
    "deepr.rng": JSON.stringify({ algorithm: "philox4x32-10", seed, step: model.progress.step }),
  }));
}
