// Number and network formats shared by the commands' human-readable output.
import { isLayerList, networkWidths, type NormalizedModelOptions } from "../options.js";

/** 0.9683 -> "96.83 %"; "-" when there is no value (no test split evaluated). */
export function percent(x: number | undefined): string {
  return x === undefined ? "-" : `${(100 * x).toFixed(2)} %`;
}

/** A model's layers as errors name them: "layers 784,300,10", or for a layer list its sample shape and output width. */
export function describeLayers(options: NormalizedModelOptions): string {
  if (!isLayerList(options.layers)) return `layers ${options.layers.join(",")}`;
  const { inputs, outputs } = networkWidths(options);
  const shape = options.inputShape.length > 1 ? ` [${options.inputShape.join(", ")}],` : "";
  return `a layer list of samples${shape} ${inputs} inputs, and ${outputs} outputs`;
}
