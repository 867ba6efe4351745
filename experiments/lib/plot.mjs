// The experiments' plotting: the package's own chart code (lib/plot/, built into dist/plot/), so
// that `deepr train --plot` and the experiments draw with one implementation.
export { renderSvg, writeSvg, loadRenderer } from "../../dist/plot/render.js";
export { lineChart, heatmap, figure } from "../../dist/plot/charts.js";
