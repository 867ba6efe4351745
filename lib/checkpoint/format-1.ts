// Reading checkpoint format 1, which deepr wrote before format 2: a stack of sparse linear layers
// described by the model options (deepr.model), with tensors named per layer only:
//   layers.{l}.positions int32 [K, 2], layers.{l}.theta float32 [K], layers.{l}.sign int8 [K],
//   layers.{l}.bias float32 [out], layers.{l}.velocity float32 [K], layers.{l}.bias_velocity float32 [out]
// where l counts the sparse linear layers. Such files load and resume exactly; saving writes format 2.
import type { SafetensorsFile } from "./safetensors.js";
import { describedRun, jsonObject, tensorOf } from "./checkpoint-fields.js";
import type { CheckpointState } from "./checkpoint-state.js";
import type { StoreStates } from "../layers/stores.js";
import type { LayerState } from "../model-types.js";

export function readFormat1(path: string, { metadata, tensors }: SafetensorsFile): CheckpointState {
  const model = jsonObject(path, metadata, "deepr.model");
  const progress = jsonObject(path, metadata, "deepr.progress");
  const training = jsonObject(path, metadata, "deepr.training");
  const run = describedRun(path, model, training, progress);
  const widths = run.options.layers as number[];
  const { bias } = run.options;
  const momentum = tensors.has("layers.0.velocity");
  const layers: LayerState[] = run.options.budgets.map((_, l) => {
    // K is what theta holds; the other per-connection tensors must agree with it.
    const k = tensors.get(`layers.${l}.theta`)?.shape[0] ?? 0;
    const out = widths[l + 1];
    const read = (name: string, dtype: "I32" | "F32" | "I8", shape: number[]) => tensorOf(path, tensors, `layers.${l}.${name}`, dtype, shape).data;
    const positions = read("positions", "I32", [k, 2]) as Int32Array;
    const theta = read("theta", "F32", [k]) as Float32Array;
    const sign = read("sign", "I8", [k]) as Int8Array;
    const velocity = momentum ? (read("velocity", "F32", [k]) as Float32Array) : undefined;
    const biasValue = bias ? (read("bias", "F32", [out]) as Float32Array) : undefined;
    const biasVelocity = momentum && bias ? (read("bias_velocity", "F32", [out]) as Float32Array) : undefined;
    const stores: StoreStates = { weight: { positions, theta, sign, ...(velocity ? { velocity } : {}) } };
    if (biasValue) stores.bias = { value: biasValue, ...(biasVelocity ? { velocity: biasVelocity } : {}) };
    return { stores, inputs: widths[l], outputs: out, positions, theta, sign, bias: biasValue, velocity, biasVelocity };
  });
  return { ...run, layers };
}
