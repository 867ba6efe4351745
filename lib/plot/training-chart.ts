// The figure of one training run (`deepr train --plot`): loss, accuracy and each sparse layer's
// connectivity per epoch, from fit()'s epoch stats.
import type { EpochStats } from "../model-types.js";
import { figure, lineChart, type Row } from "./charts.js";
import type { VegaLiteSpec } from "./render.js";

/** The three panels of a run's epochs; `title` heads the figure. A regression run (no accuracy) gets no accuracy panel. */
export function trainingChart(epochs: readonly EpochStats[], title: string): VegaLiteSpec {
  const loss: Row[] = [], accuracy: Row[] = [], connectivity: Row[] = [];
  for (const s of epochs) {
    loss.push({ epoch: s.epoch, series: "train", value: s.loss });
    if (s.testLoss !== undefined) loss.push({ epoch: s.epoch, series: "test", value: s.testLoss });
    if (Number.isFinite(s.trainAccuracy)) accuracy.push({ epoch: s.epoch, series: "train", value: 100 * s.trainAccuracy });
    if (s.testAccuracy !== undefined) accuracy.push({ epoch: s.epoch, series: "test", value: 100 * s.testAccuracy });
    s.layers.forEach((l, i) => connectivity.push({ epoch: s.epoch, series: `layer ${i + 1}`, value: 100 * l.connectivity }));
  }
  // Connectivities of one run span decades (1 % next to 30 %): a log axis shows each layer's changes.
  const panel = (data: Row[], title: string, yTitle: string, colorTitle: string, logY = false) =>
    lineChart({ data, x: "epoch", y: "value", color: "series", band: false, title, xTitle: "epoch", yTitle, colorTitle, logY, integerX: true });
  return figure(title, [
    panel(loss, "Loss", "mean loss per sample", "data"),
    ...(accuracy.length > 0 ? [panel(accuracy, "Accuracy", "accuracy (%)", "data")] : []),
    ...(connectivity.length > 0 ? [panel(connectivity, "Connectivity per layer", "active connections (%, log)", "sparse layer", true)] : []),
  ]);
}

