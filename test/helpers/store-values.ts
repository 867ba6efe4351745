// Layer states compared as plain numbers, so that a test's failure shows which array differs.
import type { LayerState } from "../../lib/model.js";

/** Every array of every store by `{l}.{store}.{field}`, l counting the layers with parameters, as plain numbers. */
export function storeValues(layers: LayerState[]): Record<string, number[]> {
  const values: Record<string, number[]> = {};
  layers.forEach((layer, l) => {
    for (const [store, fields] of Object.entries(layer.stores))
      for (const [field, array] of Object.entries(fields)) values[`${l}.${store}.${field}`] = Array.from(array);
  });
  return values;
}
