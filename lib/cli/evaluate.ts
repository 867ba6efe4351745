// deepr eval FILE: test accuracy and loss of a saved model (a regression model: its loss). Reads only the test split.
import { Model } from "../model.js";
import { networkWidths } from "../options.js";
import type { Flags } from "./args.js";
import { dataFlags, loadRegressionTestSplit, loadTestSplit, regressionModel } from "./data.js";
import { describeLayers, percent } from "./format.js";
import { applyThreads } from "./threads.js";

export async function evaluate(file: string, flags: Flags): Promise<void> {
  applyThreads(flags);
  const model = await Model.load(file);
  if (regressionModel(model.options)) return evaluateRegression(file, model, flags);
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

/** A regression model's mean loss on the test part of the user's data: it has no accuracy. */
async function evaluateRegression(file: string, model: Model, flags: Flags): Promise<void> {
  const test = await loadRegressionTestSplit(flags);
  const { inputs, outputs } = networkWidths(model.options);
  if (test.features !== inputs || test.outputs !== outputs)
    throw new Error(
      `${file} has ${describeLayers(model.options)} but ${dataFlags(flags)} has ${test.features} inputs and ${test.outputs} targets per sample; ` +
        "evaluate it on the data set it was trained on",
    );
  const r = await model.evaluate(test);
  if (flags.boolean("json")) console.log(JSON.stringify({ file, testLoss: r.loss, count: r.count }));
  else console.log(`${file}: test loss ${r.loss.toFixed(4)} on ${r.count} samples`);
}
