// A network as a list of layer specs, planned layer by layer through the registry: each kind
// validates its own spec on the shape the layer before it outputs and says what it outputs, so
// nothing here knows a kind. The widths form of the model options is the same list written short.
import { describe, object } from "../checks.js";
import { findLayerKind, layerKindNames, type GraphLayer } from "./registry.js";
import type { LayerSpec } from "./layer-kind.js";

export interface PlannedNetwork {
  /** The graph entries, their stores without training state. */
  layers: GraphLayer[];
  /** The shape each layer outputs. */
  shapes: number[][];
}

/** Plans `specs` on samples of `inputShape`; errors name `name[i].field`. The loss head comes last, and only there. */
export function planNetwork(specs: readonly unknown[], inputShape: readonly number[], name: string): PlannedNetwork {
  if (specs.length === 0) throw new RangeError(`${name} must list at least a loss head, e.g. [{ kind: "sparse_linear", outputs: 10, connectivity: 0.1 }, { kind: "softmax_cross_entropy" }]`);
  const layers: GraphLayer[] = [];
  const shapes: number[][] = [];
  let shape = inputShape;
  specs.forEach((given, i) => {
    const at = `${name}[${i}]`;
    const spec = object(at, given);
    const kind = findLayerKind(spec.kind);
    if (!kind) throw new RangeError(`${at}.kind must be one of ${layerKindNames.map((k) => JSON.stringify(k)).join(", ")}, got ${describe(spec.kind)}`);
    const last = i === specs.length - 1;
    if (kind.head && !last) throw new RangeError(`${at} is a ${kind.kind} loss head, which must be the last layer`);
    if (!kind.head && last)
      throw new RangeError(`${at} is a ${kind.kind} layer, but the last layer must be a loss head (${headNames().join(", ")})`);
    const planned = kind.plan(spec, shape, at);
    layers.push(planned.layer);
    shapes.push(planned.outputShape);
    shape = planned.outputShape;
  });
  return { layers, shapes };
}

/** The user's spec of each layer of a graph. */
export function specsOf(layers: readonly GraphLayer[]): LayerSpec[] {
  return layers.map((layer) => findLayerKind(layer.kind)!.specOf(layer));
}

/** The layer list a list of widths stands for: sparse_linear layers with relu between them and a softmax_cross_entropy head. */
export function widthsAsSpecs(widths: readonly number[], connectivity: readonly number[], bias: boolean): LayerSpec[] {
  return widths.slice(1).flatMap((outputs, l) => [
    { kind: "sparse_linear", outputs, connectivity: connectivity[l], bias },
    l + 2 < widths.length ? { kind: "relu" } : { kind: "softmax_cross_entropy" },
  ]);
}

function headNames(): string[] {
  return layerKindNames.filter((k) => findLayerKind(k)!.head);
}
