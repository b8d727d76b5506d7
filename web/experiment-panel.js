// Section 5, the course experiment: Simulate data with its truth, run the experiment in the
// worker, show the comparison table (best row highlighted) and the four plots, and export the
// table (CSV, Markdown), each plot (PNG) and an HTML report.
import { $, showError, saveBytes } from './dom.js';
import { fileLayout } from './files.js';
import { drawLossCurves, drawScatter, drawPiHistogram, drawHeatmap } from './charts.js';

const EXPORTS = ['download-table-csv', 'download-table-md', 'download-report'];

// The comparison table (#experiment-results) of ex (the worker's experiment) and rows (the
// models' progress rows: name, epochs, history).
function showExperimentTable(box, ex, rows) {
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

// One HTML file with the table, the four plots and the settings of the run (run: {dataName,
// truthName, settings}, as they were when it started).
function reportHtml(run) {
  const esc = (s) => String(s).replace(/[&<>]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[ch]));
  const img = (id, caption) => `<figure><img src="${$(id).toDataURL('image/png')}" alt="${esc(caption)}"><figcaption>${esc(caption)}</figcaption></figure>`;
  const settings = Object.entries(run.settings).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${esc(v)}</td></tr>`).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>zimpute course experiment</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:auto}table{border-collapse:collapse}td,th{border-bottom:1px solid #ccc;padding:3px 10px 3px 0;text-align:left}tr.best{font-weight:bold;background:#dafbe1}img{max-width:100%}</style></head><body>
<h1>zimpute course experiment</h1>
<p>Data: ${esc(run.dataName)} with truth ${esc(run.truthName)}; cells split 7:3 (seed ${esc(run.settings.seed)}) into a test part
for training and a validation part for scoring. Made ${esc(new Date().toISOString())} with zimpute, in the browser.</p>
${$('experiment-table').innerHTML}
<h2>Plots</h2>${img('plot-loss', 'Validation loss per epoch')}${img('plot-scatter', 'Best model: imputed vs true on true dropouts (log1p)')}
${img('plot-pi', 'Best model: π on true dropouts vs true zeros')}${img('plot-heatmap', 'Observed · imputed · true (log1p)')}
<h2>Settings of "zimpute defaults" (the other rows: their presets with these epochs and seed)</h2><table>${settings}</table>
</body></html>`;
}

// page: {client, state: {files}, settings() -> the form's values, setRunning(on), setFiles(files)}.
export function initExperimentPanel(page) {
  const { client, state } = page;
  let last = null;  // {ex, rows, dataName, truthName, settings} of the last finished experiment

  async function runExperiment() {
    showError('');
    page.setRunning(true);
    $('cancel-experiment').disabled = false;
    $('plots').hidden = true;
    $('experiment-table').textContent = '';
    for (const id of EXPORTS) $(id).disabled = true;
    const { data, truth } = state.files;
    const settings = page.settings();
    const rows = [];
    try {
      const done = await client.request('experiment', {
        data, truth, options: settings, fraction: 0.7, layout: fileLayout($),
      }, (msg) => {
        if (msg.type !== 'progress') return;
        const s = msg.status;
        rows.push(...s.rows);
        $('experiment-progress').value = (s.current + (s.epoch ? s.epoch / s.epochs : 0)) / s.total;
        $('experiment-status').textContent = s.done ? 'Scoring…'
          : `model ${s.current + 1} of ${s.total}: ${s.name}${s.epoch !== undefined ? ` · epoch ${s.epoch} of at most ${s.epochs}` : ''}`;
      });
      const ex = done.experiment;
      last = { ex, rows, dataName: data.name, truthName: truth.name, settings };
      $('experiment-progress').value = 1;
      $('experiment-status').textContent = `${rows.length} models trained${ex.cancelled ? ' (cancelled)' : ''}; best on the validation part: ${ex.best >= 0 ? rows[ex.best].name : 'none'}.`;
      showExperimentTable($('experiment-table'), ex, rows);
      if (ex.plots) {
        $('plots').hidden = false;
        drawLossCurves($('plot-loss'), rows);
        drawScatter($('plot-scatter'), ex.plots.dropoutTruth, ex.plots.dropoutImputed);
        drawPiHistogram($('plot-pi'), ex.plots.piDropout, ex.plots.piTrueZero);
        drawHeatmap($('plot-heatmap'), ex.plots);
      }
      for (const id of EXPORTS) $(id).disabled = false;
    } catch (e) {
      showError(e.message);
      $('experiment-status').textContent = '';
    } finally {
      $('cancel-experiment').disabled = true;
      page.setRunning(false);
    }
  }

  $('run-experiment').onclick = runExperiment;
  $('cancel-experiment').onclick = () => {
    $('cancel-experiment').disabled = true;
    client.request('cancel').catch((e) => showError(e.message));
  };
  $('simulate').onclick = async () => {
    try {
      const options = { genes: Number($('sim-genes').value), cells: Number($('sim-cells').value),
        zeroFraction: Number($('sim-zeros').value), seed: 1 };
      const sim = await client.request('simulate', { options });
      const name = `simulated_${options.genes}x${options.cells}`;
      page.setFiles({ data: { name: `${name}.csv`, bytes: sim.data }, truth: { name: `${name}_truth.csv`, bytes: sim.truth }, model: null });
      showError('');
    } catch (e) {
      showError(e.message);
    }
  };
  $('download-table-csv').onclick = () => saveBytes(last.ex.csv, 'experiment.csv', 'text/csv');
  $('download-table-md').onclick = () => saveBytes(last.ex.markdown, 'experiment.md', 'text/markdown');
  $('download-report').onclick = () => saveBytes(reportHtml(last), 'report.html', 'text/html');
  for (const b of document.querySelectorAll('[data-png]'))
    b.onclick = () => $(b.dataset.png).toBlob((blob) => saveBytes(blob, `${b.dataset.png}.png`, 'image/png'));
}
