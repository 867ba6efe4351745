// The charts the experiments and `deepr train --plot` draw, as Vega-Lite specifications: a line per
// series with its spread shaded, a heat map of one value over a grid, and a figure of charts side by side.
import type { VegaLiteSpec } from "./render.js";

export type Row = Record<string, unknown>;

export interface LineChartOptions {
  /** One row per run and point: several rows with the same x and color (seeds) make one median point. */
  data: Row[];
  x: string;
  y: string;
  /** The field that names each line (the legend). */
  color?: string;
  /**
   * The shaded band: fields holding its low and high end, or false for none. Default: from the
   * lowest to the highest y of the rows sharing an x and a color (the range over seeds).
   */
  band?: { lo: string; hi: string } | false;
  title: string;
  xTitle: string;
  yTitle: string;
  colorTitle?: string;
  /** A logarithmic x axis. */
  logX?: boolean;
  /** Fixes the x axis to this range (room for points at its ends). */
  xDomain?: [number, number];
  /** Ticks at whole numbers only (epochs). */
  integerX?: boolean;
  /** A logarithmic y axis. */
  logY?: boolean;
  /** A point on the line at every x. Default true. */
  points?: boolean;
  /** Fixes the y axis to this range instead of fitting the data. */
  yDomain?: [number, number];
  width?: number;
  height?: number;
}

/** Median lines (with a point per x) over a shaded min-max band. */
export function lineChart(o: LineChartOptions): VegaLiteSpec {
  const x = {
    field: o.x, type: "quantitative", title: o.xTitle,
    scale: { ...(o.logX ? { type: "log" } : { zero: false }), ...(o.xDomain ? { domain: o.xDomain, nice: false } : {}) },
    ...(o.integerX ? { axis: { tickMinStep: 1, format: "d" } } : {}),
  };
  const yScale = { ...(o.logY ? { type: "log" } : { zero: false }), ...(o.yDomain ? { domain: o.yDomain, clamp: true } : {}) };
  const series = o.color ? { field: o.color, type: "nominal", title: o.colorTitle ?? o.color } : undefined;
  // Each series also gets its own dash pattern, so that lines lying on each other all stay visible;
  // one legend shows both (colour and dash encode the same field).
  const color = series ? { color: series, strokeDash: series } : {};
  const line = {
    mark: { type: "line", point: o.points === false ? false : { size: 30 }, strokeWidth: 1.8 },
    encoding: { x, y: { field: o.y, type: "quantitative", aggregate: "median", title: o.yTitle, scale: yScale }, ...color },
  };
  const band = o.band === false ? [] : [{
    mark: { type: "area", opacity: 0.18 },
    encoding: {
      x,
      y: { field: o.band ? o.band.lo : o.y, type: "quantitative", aggregate: "min", scale: yScale },
      y2: { field: o.band ? o.band.hi : o.y, aggregate: "max" },
      ...(series ? { color: series } : {}),
    },
  }];
  return {
    title: o.title,
    width: o.width ?? 300,
    height: o.height ?? 220,
    data: { values: o.data },
    // The line first: the legend takes its symbols from the first layer (not the band's pale ones).
    layer: [line, ...band],
  };
}

export interface HeatmapOptions {
  /** One row per cell (rows sharing a cell are averaged). */
  data: Row[];
  x: string;
  y: string;
  /** The field that colours each cell and is written in it. */
  value: string;
  title: string;
  xTitle: string;
  yTitle: string;
  valueTitle: string;
  /** d3-format of the cell text, e.g. ".1f". Default ".2f". */
  format?: string;
  /** A logarithmic colour scale (for values spanning decades, such as connectivity). */
  logColor?: boolean;
}

/** A grid of cells coloured by `value`, each with the value written in it. */
export function heatmap(o: HeatmapOptions): VegaLiteSpec {
  const x = { field: o.x, type: "ordinal", title: o.xTitle, sort: "ascending", axis: { labelAngle: 0 } };
  const y = { field: o.y, type: "ordinal", title: o.yTitle, sort: "descending" };
  const value = { field: o.value, type: "quantitative", aggregate: "mean" };
  return {
    title: o.title,
    data: { values: o.data },
    width: { step: 52 },
    height: { step: 30 },
    layer: [
      {
        mark: "rect",
        encoding: {
          x, y,
          color: { ...value, title: o.valueTitle, legend: { format: o.format ?? ".2f" }, scale: { scheme: "viridis", ...(o.logColor ? { type: "log" } : {}) } },
        },
      },
      {
        mark: { type: "text", fontSize: 10 },
        encoding: {
          x, y,
          text: { ...value, format: o.format ?? ".2f" },
          // Light text on the dark (low) end of viridis, dark text on the light end.
          color: { condition: { test: `datum['mean_${o.value}'] < ${midpoint(o)}`, value: "white" }, value: "black" },
        },
      },
    ],
    resolve: { scale: { color: "independent", strokeDash: "independent" } },
  };
}

// The value halfway along the colour scale (in log space for a log scale), where the text colour flips.
function midpoint(o: HeatmapOptions): number {
  const values = o.data.map((r) => Number(r[o.value])).filter(Number.isFinite);
  const lo = Math.min(...values), hi = Math.max(...values);
  return o.logColor && lo > 0 ? Math.sqrt(lo * hi) : (lo + hi) / 2;
}

/** Charts side by side under one title (`columns` per row, default all in one row). */
export function figure(title: string, charts: VegaLiteSpec[], columns?: number): VegaLiteSpec {
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: title, fontSize: 15 },
    ...(columns !== undefined ? { columns, concat: charts } : { hconcat: charts }),
    resolve: { scale: { color: "independent", strokeDash: "independent" } },
    config: { background: "white", view: { stroke: "#ddd" }, axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 } },
  };
}
