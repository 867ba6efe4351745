// deepr eval FILE: test accuracy and loss of a saved model. Reads only the test split.
import { Model } from "../model.js";
import { networkWidths } from "../options.js";
import type { Flags } from "./args.js";
import { dataFlags, loadTestSplit } from "./data.js";
import { describeLayers, percent } from "./format.js";
import { applyThreads } from "./threads.js";

export async function evaluate(file: string, flags: Flags): Promise<void> {
  applyThreads(flags);
  const model = await Model.load(file);
  const test = await loadTestSplit(flags);
  const { inputs, outputs } = networkWidths(model.options);
  if (test.features !== inputs || test.classes > outputs)
    throw new Error(
      `${file} has ${describeLayers(model.options)} but ${dataFlags(flags)} has ${test.features} inputs per sample ` +
        `and ${test.classes} classes; evaluate it on the data set it was trained on`,
    );
  const r = await model.evaluate(test);
  if (flags.boolean("json")) console.log(JSON.stringify({ file, testAccuracy: r.accuracy, testLoss: r.loss, count: r.count }));
  else console.log(`${file}: test accuracy ${percent(r.accuracy)}, loss ${r.loss.toFixed(4)} on ${r.count} samples`);
}
