// The course experiment panel: runs it in the worker, shows the comparison table (best row
// highlighted), draws the four plots on canvases, and exports table, PNGs and an HTML report.
// Uses $, request, files, readSettings, showError, saveBytes, setRunning, describeFiles (app.js).
'use strict';

const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#8250df', '#bf8700', '#0a3069'];
let lastExperiment = null;

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

function drawLossCurves(c, rows) {
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

function drawScatter(c, x, y) {
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

function drawPiHistogram(c, dropout, zero) {
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

function drawHeatmap(c, p) {
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

function showExperimentTable(ex, rows) {
  const box = $('experiment-table');
  box.textContent = '';
  const table = document.createElement('table');
  table.id = 'experiment-results';
  const head = table.createTHead().insertRow();
  for (const h of ['model', 'zero count', 'true dropouts', 'predicted dropouts', 'recall', 'precision',
    'predict distance', 'origin distance', 'predict / origin', 'epochs'])
    head.append(Object.assign(document.createElement('th'), { textContent: h }));
  const body = table.createTBody();
  rows.forEach((r, k) => {
    const m = ex.metrics[k], tr = body.insertRow();
    if (k === ex.best) tr.className = 'best';
    const f = (v, d) => (v === null || v === undefined ? '—' : Number(v).toFixed(d));
    for (const v of [r.name + (k === ex.best ? ' (best)' : ''), m.zero_num, m.true_dropout_num, m.predict_dropout_num,
      f(m.recall, 4), f(m.precision, 4), f(m.predict_distance, 1), f(m.origin_distance, 1), f(m.distance_ratio, 4), r.epochs])
      tr.insertCell().textContent = String(v);
  });
  box.append(table);
}

function reportHtml(ex, rows) {
  const esc = (s) => String(s).replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[ch]));
  const img = (id, caption) => `<figure><img src="${$(id).toDataURL('image/png')}" alt="${esc(caption)}"><figcaption>${esc(caption)}</figcaption></figure>`;
  const settings = Object.entries(readSettings()).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>zimpute course experiment</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:3px 10px 3px 0;text-align:left}tr.best{font-weight:bold;background:#dafbe1}img{max-width:100%}</style></head><body>
<h1>zimpute course experiment</h1>
<p>Data: ${esc(files.data.name)} with truth ${esc(files.truth.name)}; cells split 7:3 (seed ${esc(readSettings().seed)}) into a test part
for training and a validation part for scoring. Made ${esc(new Date().toISOString())} with zimpute, in the browser.</p>
${$('experiment-table').innerHTML}
<h2>Plots</h2>${img('plot-loss', 'Validation loss per epoch')}${img('plot-scatter', 'Best model: imputed vs true on true dropouts (log1p)')}
${img('plot-pi', 'Best model: π on true dropouts vs true zeros')}${img('plot-heatmap', 'Observed · imputed · true (log1p)')}
<h2>Settings of "zimpute defaults" (the other rows: their presets with these epochs and seed)</h2><table>${settings}</table>
</body></html>`;
}

async function runExperiment() {
  showError('');
  setRunning(true);
  $('cancel-experiment').disabled = false;
  $('plots').hidden = true;
  $('experiment-table').textContent = '';
  for (const id of ['download-table-csv', 'download-table-md', 'download-report']) $(id).disabled = true;
  const rows = [];
  try {
    const done = await request('experiment', {
      data: files.data, truth: files.truth, options: readSettings(), fraction: 0.7, orientation: $('orientation').value,
    }, (msg) => {
      if (msg.type !== 'progress') return;
      const s = msg.status;
      rows.push(...s.rows);
      $('experiment-progress').value = (s.current + (s.epoch ? s.epoch / s.epochs : 0)) / s.total;
      $('experiment-status').textContent = s.done ? 'Scoring…'
        : `model ${s.current + 1} of ${s.total}: ${s.name}${s.epoch !== undefined ? ` · epoch ${s.epoch} of at most ${s.epochs}` : ''}`;
    });
    const ex = done.experiment;
    lastExperiment = { ex, rows };
    $('experiment-progress').value = 1;
    $('experiment-status').textContent = `${rows.length} models trained${ex.cancelled ? ' (cancelled)' : ''}; best on the validation part: ${ex.best >= 0 ? rows[ex.best].name : 'none'}.`;
    showExperimentTable(ex, rows);
    if (ex.plots) {
      $('plots').hidden = false;
      drawLossCurves($('plot-loss'), rows);
      drawScatter($('plot-scatter'), ex.plots.dropoutTruth, ex.plots.dropoutImputed);
      drawPiHistogram($('plot-pi'), ex.plots.piDropout, ex.plots.piTrueZero);
      drawHeatmap($('plot-heatmap'), ex.plots);
    }
    for (const id of ['download-table-csv', 'download-table-md', 'download-report']) $(id).disabled = false;
  } catch (e) {
    showError(e.message);
    $('experiment-status').textContent = '';
  } finally {
    $('cancel-experiment').disabled = true;
    setRunning(false);
  }
}

$('run-experiment').onclick = runExperiment;
$('cancel-experiment').onclick = () => { request('cancel'); $('cancel-experiment').disabled = true; };
$('simulate').onclick = async () => {
  try {
    const options = { genes: Number($('sim-genes').value), cells: Number($('sim-cells').value),
      zeroFraction: Number($('sim-zeros').value), seed: 1 };
    const sim = await request('simulate', { options });
    files.data = { name: `simulated_${options.genes}x${options.cells}.csv`, bytes: sim.data };
    files.truth = { name: `simulated_${options.genes}x${options.cells}_truth.csv`, bytes: sim.truth };
    files.model = null;
    describeFiles();
    showError('');
  } catch (e) {
    showError(e.message);
  }
};
$('download-table-csv').onclick = () => saveBytes(lastExperiment.ex.csv, 'experiment.csv', 'text/csv');
$('download-table-md').onclick = () => saveBytes(lastExperiment.ex.markdown, 'experiment.md', 'text/markdown');
$('download-report').onclick = () => saveBytes(reportHtml(lastExperiment.ex, lastExperiment.rows), 'report.html', 'text/html');
for (const b of document.querySelectorAll('[data-png]'))
  b.onclick = () => $(b.dataset.png).toBlob((blob) => saveBytes(blob, `${b.dataset.png}.png`, 'image/png'));
