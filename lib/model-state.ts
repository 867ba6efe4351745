// A model's native network and the layer state that moves in and out of it: building the network
// a model spec describes, copying every layer's parameters out, and rebuilding the network with
// per-connection velocities when a model first trains with momentum.
import type { LayerState } from "./model-types.js";
import { native, type NativeNetwork } from "./native.js";
import type { NormalizedModelOptions } from "./options.js";

/** An empty network of the model's shape; with `momentum`, it keeps a velocity per connection and bias. */
export function buildNetwork(o: NormalizedModelOptions, momentum: boolean): NativeNetwork {
  return new (native().NativeNetwork)({
    sizes: o.layers,
    budgets: o.budgets,
    bias: o.bias,
    momentum,
    globalBudget: o.budget === "global",
    share: o.globalShare === "dormant" ? 1 : 0,
    seed: o.seed,
  });
}

/** A copy of every layer's parameters, and of its velocities when the network was built with momentum. */
export async function exportState(network: NativeNetwork, bias: boolean, momentum: boolean): Promise<LayerState[]> {
  const layers: LayerState[] = network.info().layers.map((l) => ({
    inputs: l.inputs,
    outputs: l.outputs,
    positions: new Int32Array(2 * l.active),
    theta: new Float32Array(l.active),
    sign: new Int8Array(l.active),
    ...(bias ? { bias: new Float32Array(l.outputs) } : {}),
    ...(momentum ? { velocity: new Float32Array(l.active) } : {}),
    ...(momentum && bias ? { biasVelocity: new Float32Array(l.outputs) } : {}),
  }));
  await network.exportState(layers);
  return layers;
}

/**
 * The same parameters and step in a network that also keeps velocities (starting at zero); the
 * network without them is disposed. The core keeps a velocity per connection only when momentum
 * is used, so a model gets one the first time it trains with momentum.
 */
export async function withMomentumState(network: NativeNetwork, o: NormalizedModelOptions): Promise<NativeNetwork> {
  const layers = await exportState(network, o.bias, false);
  const step = network.info().step;
  const next = buildNetwork(o, true);
  await next.importState(layers, step);
  network.dispose();
  return next;
}
