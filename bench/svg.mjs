// Hand-written SVG line charts with log axes (no plotting library).

const LEGEND_ROW = 14; // px between legend entries

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push({ v, major: m === 1 });
    }
  return ticks;
}

const fmtTick = (v, unit) => {
  if (unit === "us") return v >= 1e6 ? `${v / 1e6} s` : v >= 1000 ? `${v / 1000} ms` : `${v} µs`;
  if (unit === "%") return `${+(v * 100).toPrecision(3)}%`;
  if (unit === "K") return v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : `${v}`;
  return String(v);
};

/**
 * One panel. series: [{name, color, points: [[x, y]], dashed?, marker?}]; hlines: [{y, color, name}];
 * marks: [{x, y, label, color}]. Both axes logarithmic.
 */
export function panel({ x0, y0, width, height, title, xLabel, yLabel, xUnit, yUnit, series, hlines = [], marks = [] }) {
  const all = series.flatMap((s) => s.points).concat(hlines.map((h) => [NaN, h.y])).concat(marks.map((m) => [m.x, m.y]));
  const xs = all.map((p) => p[0]).filter((v) => v > 0), ys = all.map((p) => p[1]).filter((v) => v > 0);
  const L = x0 + 62, R = x0 + width - 12, T = y0 + 30, B = y0 + height - 44;
  // The y range leaves the top of the panel, where the legend goes, free of data: the highest
  // point sits just below the legend's last entry.
  const entries = hlines.length + series.length + marks.length, free = Math.min(0.6, (entries * LEGEND_ROW + 16) / (B - T));
  const xlo = Math.min(...xs) / 1.3, xhi = Math.max(...xs) * 1.3, ylo = Math.min(...ys) / 1.6;
  const yhi = 10 ** ((Math.log10(Math.max(...ys)) - free * Math.log10(ylo)) / (1 - free));
  const X = (v) => L + ((Math.log10(v) - Math.log10(xlo)) / (Math.log10(xhi) - Math.log10(xlo))) * (R - L);
  const Y = (v) => B - ((Math.log10(v) - Math.log10(ylo)) / (Math.log10(yhi) - Math.log10(ylo))) * (B - T);
  const o = [];
  o.push(`<text x="${(L + R) / 2}" y="${y0 + 16}" text-anchor="middle" font-size="13" font-weight="bold">${esc(title)}</text>`);
  o.push(`<rect x="${L}" y="${T}" width="${R - L}" height="${B - T}" fill="none" stroke="#333"/>`);
  for (const t of logTicks(xlo, xhi)) {
    o.push(`<line x1="${X(t.v).toFixed(1)}" y1="${T}" x2="${X(t.v).toFixed(1)}" y2="${B}" stroke="${t.major ? "#ccc" : "#eee"}"/>`);
    o.push(`<text x="${X(t.v).toFixed(1)}" y="${B + 14}" text-anchor="middle" font-size="10">${esc(fmtTick(t.v, xUnit))}</text>`);
  }
  for (const t of logTicks(ylo, yhi)) {
    o.push(`<line x1="${L}" y1="${Y(t.v).toFixed(1)}" x2="${R}" y2="${Y(t.v).toFixed(1)}" stroke="${t.major ? "#ccc" : "#eee"}"/>`);
    o.push(`<text x="${L - 4}" y="${(Y(t.v) + 3).toFixed(1)}" text-anchor="end" font-size="10">${esc(fmtTick(t.v, yUnit))}</text>`);
  }
  o.push(`<text x="${(L + R) / 2}" y="${B + 32}" text-anchor="middle" font-size="11">${esc(xLabel)}</text>`);
  o.push(`<text x="${x0 + 14}" y="${(T + B) / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${x0 + 14} ${(T + B) / 2})">${esc(yLabel)}</text>`);
  const legend = [];
  for (const h of hlines) {
    o.push(`<line x1="${L}" y1="${Y(h.y).toFixed(1)}" x2="${R}" y2="${Y(h.y).toFixed(1)}" stroke="${h.color}" stroke-dasharray="6 4"/>`);
    legend.push({ name: h.name, color: h.color, dashed: true });
  }
  for (const s of series) {
    const pts = s.points.filter((p) => p[0] > 0 && p[1] > 0).sort((a, b) => a[0] - b[0]);
    if (pts.length > 1)
      o.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="3 3"' : ""} points="${pts.map((p) => `${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(" ")}"/>`);
    for (const p of pts) o.push(`<circle cx="${X(p[0]).toFixed(1)}" cy="${Y(p[1]).toFixed(1)}" r="3" fill="${s.color}"><title>${esc(`${s.name}: ${fmtTick(p[0], xUnit)}, ${p[1].toFixed(1)} µs`)}</title></circle>`);
    legend.push({ name: s.name, color: s.color, dashed: s.dashed });
  }
  for (const m of marks) {
    o.push(`<path d="M ${X(m.x).toFixed(1)} ${(Y(m.y) - 6).toFixed(1)} l 6 6 l -6 6 l -6 -6 z" fill="${m.color}"/>`);
    o.push(`<text x="${(X(m.x) - 8).toFixed(1)}" y="${(Y(m.y) + 18).toFixed(1)}" text-anchor="end" font-size="10" fill="${m.color}">${esc(m.label)}</text>`);
    legend.push({ name: m.label, color: m.color, diamond: true });
  }
  legend.forEach((l, n) => {
    const ly = T + 12 + n * LEGEND_ROW;
    o.push(`<line x1="${L + 8}" y1="${ly - 4}" x2="${L + 28}" y2="${ly - 4}" stroke="${l.color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6 4"' : ""}/>`);
    o.push(`<text x="${L + 32}" y="${ly}" font-size="10">${esc(l.name)}</text>`);
  });
  return o.join("\n");
}

export function svg(width, height, body, caption) {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
${body}
<text x="${width / 2}" y="${height - 6}" text-anchor="middle" font-size="10" fill="#555">${esc(caption)}</text>
</svg>
`;
}
