// Canvas charts of the course experiment, each drawn from the data it is given: its four plots
// (loss per model, imputed vs true, π histogram, heatmap). The pictures after a training use uPlot
// (plot-lib.js); these stay hand-drawn: report.html embeds them as they are.

// The experiment's plots: one colour per model, in the table's order.
const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df', '#bf8700', '#0a3069'];

// A white plot area with its frame, title and axis labels.
function axes(g, c, pad, title, xlabel, ylabel) {
  g.clearRect(0, 0, c.width, c.height);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, c.width, c.height);
  g.strokeStyle = '#999';
  g.strokeRect(pad.l, pad.t, c.width - pad.l - pad.r, c.height - pad.t - pad.b);
  g.fillStyle = '#333';
  g.font = '12px sans-serif';
  g.fillText(title, pad.l, 13);
  g.fillText(xlabel, pad.l + (c.width - pad.l - pad.r) / 2 - 20, c.height - 6);
  g.save();
  g.translate(12, pad.t + (c.height - pad.t - pad.b) / 2 + 30);
  g.rotate(-Math.PI / 2);
  g.fillText(ylabel, 0, 0);
  g.restore();
}

// Validation loss per epoch (log scale) of every model (rows: [{name, history: [{valLoss}]}]).
export function drawLossCurves(c, rows) {
  const g = c.getContext('2d'), pad = { l: 58, r: 12, t: 22, b: 30 };
  axes(g, c, pad, 'validation loss per epoch (log scale)', 'epoch', 'loss');
  const w = c.width - pad.l - pad.r, h = c.height - pad.t - pad.b;
  const vals = rows.flatMap((r) => r.history.map((e) => e.valLoss)).filter((v) => v > 0);
  if (!vals.length) return;
  const lo = Math.log(Math.min(...vals)), hi = Math.log(Math.max(...vals)), span = hi - lo || 1;
  const n = Math.max(2, ...rows.map((r) => r.history.length));
  g.fillText(Math.max(...vals).toPrecision(4), pad.l + 3, pad.t + 12);
  g.fillText(Math.min(...vals).toPrecision(4), pad.l + 3, pad.t + h - 4);
  g.fillText(String(n), pad.l + w - 20, c.height - 6);
  rows.forEach((r, k) => {
    g.strokeStyle = COLORS[k % COLORS.length];
    g.beginPath();
    r.history.forEach((e, i) => {
      if (!(e.valLoss > 0)) return;
      const x = pad.l + (w * i) / (n - 1), y = pad.t + h - (h * (Math.log(e.valLoss) - lo)) / span;
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
    g.fillStyle = COLORS[k % COLORS.length];
    g.fillText(r.name.replace(/ \(.*/, ''), pad.l + w - 120, pad.t + 14 + 14 * k);
  });
}

// Imputed (y) against true (x) log1p counts on sampled true dropouts.
export function drawScatter(c, x, y) {
  const g = c.getContext('2d'), pad = { l: 44, r: 12, t: 22, b: 30 };
  axes(g, c, pad, `${x.length} true dropouts (sampled)`, 'log1p(true count)', 'log1p(imputed)');
  const w = c.width - pad.l - pad.r, h = c.height - pad.t - pad.b;
  const max = Math.max(1, ...x, ...y);
  g.strokeStyle = '#999';
  g.beginPath();
  g.moveTo(pad.l, pad.t + h);
  g.lineTo(pad.l + w, pad.t);
  g.stroke();
  g.fillStyle = 'rgba(31,111,235,0.35)';
  for (let i = 0; i < x.length; i++) g.fillRect(pad.l + (w * x[i]) / max - 1, pad.t + h - (h * y[i]) / max - 1, 2, 2);
  g.fillStyle = '#333';
  g.fillText(max.toFixed(1), pad.l + w - 24, c.height - 18);
  g.fillText('y = x', pad.l + w - 40, pad.t + 14);
}

// Histograms of π on true dropouts and on true zeros, each as shares of its entries.
export function drawPiHistogram(c, dropout, zero) {
  const g = c.getContext('2d'), pad = { l: 44, r: 12, t: 22, b: 30 };
  axes(g, c, pad, 'share of entries per π bin', 'π (dropout probability)', 'share');
  const w = c.width - pad.l - pad.r, h = c.height - pad.t - pad.b, bins = 20;
  const hist = (a) => {
    const counts = new Array(bins).fill(0);
    for (const v of a) counts[Math.min(bins - 1, Math.floor(v * bins))]++;
    return counts.map((n) => n / Math.max(1, a.length));
  };
  const a = hist(dropout), b = hist(zero), top = Math.max(...a, ...b, 1e-9);
  [[a, 'rgba(31,111,235,0.55)', `true dropouts (${dropout.length})`], [b, 'rgba(209,36,47,0.45)', `true zeros (${zero.length})`]]
    .forEach(([hs, color, label], k) => {
      g.fillStyle = color;
      hs.forEach((v, i) => g.fillRect(pad.l + (w * i) / bins + 1, pad.t + h - (h * v) / top, w / bins - 2, (h * v) / top));
      g.fillText(label, pad.l + 8, pad.t + 14 + 14 * k);
    });
  g.fillStyle = '#333';
  g.fillText('0', pad.l, c.height - 18);
  g.fillText('1', pad.l + w - 6, c.height - 18);
}

// Observed, imputed and true log1p counts side by side (p: the experiment's plot samples).
export function drawHeatmap(c, p) {
  const g = c.getContext('2d'), pad = { l: 20, r: 12, t: 22, b: 30 };
  axes(g, c, pad, 'observed · imputed · true', 'cells (three panels)', 'genes');
  const panels = [p.heatObserved, p.heatImputed, p.heatTruth];
  const max = Math.max(1e-9, ...p.heatTruth, ...p.heatImputed);
  const pw = (c.width - pad.l - pad.r - 16) / 3, ch = (c.height - pad.t - pad.b) / p.heatGenes, cw = pw / p.heatCells;
  panels.forEach((m, k) => {
    for (let j = 0; j < p.heatCells; j++)
      for (let i = 0; i < p.heatGenes; i++) {
        const v = m[j * p.heatGenes + i] / max;  // white -> dark blue
        g.fillStyle = `rgb(${Math.round(255 * (1 - v))},${Math.round(255 * (1 - 0.7 * v))},${Math.round(255 - 80 * v)})`;
        g.fillRect(pad.l + k * (pw + 8) + j * cw, pad.t + i * ch, cw + 0.5, ch + 0.5);
      }
  });
}
