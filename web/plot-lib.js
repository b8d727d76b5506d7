// Charts drawn with uPlot (web/vendor/uplot/, version 1.6.32, MIT; README "In the browser" says
// why): it gives axes with ticks, axis labels, a legend, zoom by dragging and a resize for free,
// in 51 KB. This module adapts it to the page: charts that follow their box's width, scatter
// plots (uPlot draws lines over a sorted x; a scatter is one points-only series per group) and a
// PNG of a chart with its title and legend (uPlot draws the plot and axes on one canvas; title
// and legend are HTML, so the PNG redraws them).
const uPlot = globalThis.uPlot;  // loaded by a classic <script> before the page's modules

// Okabe & Ito's colour-blind-safe palette, then a few more for up to 12 groups.
export const COLORS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442',
  '#8250df', '#6e7781', '#a40e26', '#1a7f37'];
export const color = (k) => COLORS[k % COLORS.length];

const live = new Map();  // box element -> {u, observer, title, legend}

// The width a chart gets in box: the box's own (the page sets it by CSS), or a fallback while hidden.
const widthOf = (box) => Math.max(220, Math.floor(box.clientWidth || 600));

// Replaces whatever chart box held with a uPlot chart of opts and data that follows box's width.
// label: the chart's text alternative; title and legend ([{name, color}]) go into its PNG.
export function chart(box, opts, data, { height = 300, label, title, legend = [] }) {
  destroy(box);
  box.textContent = '';
  const u = new uPlot({ ...opts, width: widthOf(box), height }, data, box);
  u.ctx.canvas.setAttribute('role', 'img');
  u.ctx.canvas.setAttribute('aria-label', label);
  const observer = new ResizeObserver(() => {
    const w = widthOf(box);
    if (Math.abs(w - u.width) > 1) u.setSize({ width: w, height });
  });
  observer.observe(box);
  live.set(box, { u, observer, title, legend });
  return u;
}

export function destroy(box) {
  const c = live.get(box);
  if (!c) return;
  c.observer.disconnect();
  c.u.destroy();
  live.delete(box);
}

// A points-only scatter of (xs[i], ys[i]) coloured by groups[i] (names[k] for group k; no groups:
// one series). diagonal adds the line y = x.
export function scatter(box, { xs, ys, groups = null, names = ['cells'], xLabel, yLabel, title, label, diagonal = false, height = 300 }) {
  const n = xs.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const x = order.map((i) => xs[i]);
  const ys2 = names.map(() => new Array(n).fill(null));
  order.forEach((i, j) => { ys2[groups ? groups[i] : 0][j] = ys[i]; });
  const size = n > 2000 ? 3 : 5;
  const series = [{ label: xLabel }, ...names.map((name, k) => ({
    label: name, stroke: color(k), fill: color(k), paths: () => null,  // fill: the legend's marker
    points: { show: true, size, width: 0, fill: color(k) + 'b0', stroke: color(k) },
  }))];
  const data = [x, ...ys2];
  if (diagonal) {
    series.push({ label: 'y = x', stroke: '#57606a', dash: [5, 5], width: 1, points: { show: false } });
    data.push(x.slice());
  }
  const legend = series.slice(1).map((s) => ({ name: s.label, color: s.stroke }));
  return chart(box, {
    series,
    scales: { x: { time: false } },
    axes: [{ label: xLabel }, { label: yLabel }],
    legend: { live: false },
    cursor: { drag: { x: true, y: true, uni: 20 }, points: { show: false } },
  }, data, { height, label, title, legend });
}

// A PNG (Blob) of the chart in box: a title line, the chart's canvas (plot, axes, labels) and
// its legend, on white.
export function chartPng(box) {
  const { u, title, legend } = live.get(box);
  const src = u.ctx.canvas;
  const dpr = src.width / u.width;
  const font = (px) => `${Math.round(px * dpr)}px system-ui, sans-serif`;
  const top = 26 * dpr, row = 18 * dpr;
  const c = document.createElement('canvas');
  const g = c.getContext('2d');
  g.font = font(12);
  // Legend entries flow left to right and wrap at the canvas width.
  let x = 8 * dpr, rows = legend.length ? 1 : 0;
  const at = legend.map((l) => {
    const w = 22 * dpr + g.measureText(l.name).width + 14 * dpr;
    if (x + w > src.width && x > 8 * dpr) { x = 8 * dpr; rows++; }
    const p = { x, row: rows - 1 };
    x += w;
    return p;
  });
  c.width = src.width;
  c.height = top + src.height + rows * row + 8 * dpr;
  g.fillStyle = '#fff';
  g.fillRect(0, 0, c.width, c.height);
  g.fillStyle = '#1f2328';
  g.font = font(14);
  g.fillText(title, 8 * dpr, 18 * dpr);
  g.drawImage(src, 0, top);
  g.font = font(12);
  legend.forEach((l, k) => {
    const y = top + src.height + at[k].row * row + 12 * dpr;
    g.fillStyle = l.color;
    g.fillRect(at[k].x, y - 9 * dpr, 14 * dpr, 10 * dpr);
    g.fillStyle = '#1f2328';
    g.fillText(l.name, at[k].x + 20 * dpr, y);
  });
  return new Promise((resolve) => c.toBlob(resolve, 'image/png'));
}

export const hasChart = (box) => live.has(box);
