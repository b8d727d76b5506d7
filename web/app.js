// zimpute page: files and settings in, a worker does all computing, results out.
'use strict';

const $ = (id) => document.getElementById(id);

// Threads need a cross-origin-isolated page. A server that sends COOP/COEP headers (web/
// dev-server.mjs) gives that directly; on a static host that cannot, coi-sw.js adds the headers
// and the page reloads once. Where neither works (file://, no service workers) the single-thread
// engine runs; the page says which (#engine).
if (!window.crossOriginIsolated && window.isSecureContext && 'serviceWorker' in navigator &&
    !sessionStorage.getItem('zimpute-coi-reload')) {
  navigator.serviceWorker.register('coi-sw.js').then(() => navigator.serviceWorker.ready).then(() => {
    sessionStorage.setItem('zimpute-coi-reload', '1');  // once: never a reload loop
    window.location.reload();
  }).catch(() => {});
}

const worker = new Worker('worker.js');
const pending = new Map();  // request id -> {resolve, reject, onEvent}
let nextId = 1;

worker.onmessage = (event) => {
  const msg = event.data;
  const p = pending.get(msg.id);
  if (!p) return;
  if (msg.type === 'error') {
    pending.delete(msg.id);
    p.reject(new Error(msg.message));
  } else if (['ready', 'simulated', 'output', 'done', 'settings'].includes(msg.type)) {
    pending.delete(msg.id);
    p.resolve(msg);
  } else if (p.onEvent) {
    p.onEvent(msg);
  }
};
worker.onerror = (e) => showError(`The worker failed: ${e.message || 'could not start'}`);

function request(type, body = {}, onEvent = null) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { resolve, reject, onEvent });
    worker.postMessage({ id, type, ...body });
  });
}

// ---- state ---------------------------------------------------------------------------------
const files = { data: null, truth: null, model: null };
let optionDocs = [];
let lastReport = null;
let running = false;

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

// The wasm engine holds matrices densely in at most 4 GB; text above ~800 MB (about 150 million
// values) cannot fit with training's copies. Refused before reading, so the tab never runs out.
const MAX_FILE_BYTES = 800 * 2 ** 20;

function tooLarge(file) {
  return file.size > MAX_FILE_BYTES
    ? `${file.name} is ${(file.size / 2 ** 30).toFixed(2)} GB; the page handles files up to about 800 MB ` +
      '(some 150 million values). Use the command-line zimpute for this file, or keep fewer genes or cells.'
    : null;
}

async function readFile(file) {
  const problem = tooLarge(file);
  if (problem) throw new Error(problem);
  return { name: file.name, bytes: await file.arrayBuffer() };
}

function describeFiles() {
  const parts = [];
  if (files.data) parts.push(`data: ${files.data.name}`);
  if (files.truth) parts.push(`truth: ${files.truth.name}`);
  if (files.model) parts.push(`model: ${files.model.name} (the data will be imputed without training)`);
  $('files-status').textContent = parts.join(' · ');
  updateButtons();
}

// Every control's enabled state, derived from `running`, the loaded files and the last result.
function updateButtons() {
  $('train').disabled = running || !files.data;
  $('train').textContent = files.model ? 'Impute with saved model' : 'Train';
  $('run-experiment').disabled = running || !files.data || !files.truth;
  $('simulate').disabled = running;
  $('cancel').disabled = !running;
  $('example').disabled = running;
  $('apply').disabled = running || !lastReport || !$('apply-file').files.length;
  for (const id of ['data-file', 'truth-file', 'model-file', 'preset', 'orientation']) $(id).disabled = running;
}

async function setFile(kind, file) {
  showError('');
  try {
    files[kind] = file ? await readFile(file) : null;
  } catch (e) {
    files[kind] = null;
    showError(e.message);
  }
  describeFiles();
}

// Sorts dropped or picked files by name: a model (.zim), a truth ("true"/"truth"), a 10x trio
// (matrix.mtx, features.tsv or genes.tsv, barcodes.tsv; each maybe .gz), or the data.
async function takeFiles(list) {
  showError('');
  const big = [...list].find(tooLarge);
  if (big) {
    showError(tooLarge(big));
    return;
  }
  const trio = {};
  for (const f of list) {
    if (/\.zim$/i.test(f.name)) files.model = await readFile(f);
    else if (/\.mtx(\.gz)?$/i.test(f.name)) trio.mtx = await readFile(f);
    else if (/(features|genes)\.tsv(\.gz)?$/i.test(f.name)) trio.features = await readFile(f);
    else if (/barcodes\.tsv(\.gz)?$/i.test(f.name)) trio.barcodes = await readFile(f);
    else if (/true|truth/i.test(f.name)) files.truth = await readFile(f);
    else files.data = await readFile(f);
  }
  if (trio.mtx || trio.features || trio.barcodes) {
    const missing = ['mtx', 'features', 'barcodes'].filter((k) => !trio[k]);
    if (missing.length) {
      showError(`A 10x matrix needs matrix.mtx, features.tsv (or genes.tsv) and barcodes.tsv together; missing: ${missing.join(', ')}.`);
    } else {
      files.data = { name: trio.mtx.name, trio };
    }
  }
  describeFiles();
}

// ---- settings form -------------------------------------------------------------------------
const CHOICES = {
  optimizer: ['adam', 'rmsprop'], loss: ['guarded', 'original', 'nb'], dispersion: ['gene', 'cell-gene'],
  'theta-activation': ['softplus', 'exp'], 'size-factors': ['libsize', 'median', 'none'],
  scale: ['per-gene', 'global', 'none'], rule: ['posterior', 'seed', 'mean'],
};

function buildSettings(docs) {
  const box = $('settings');
  box.textContent = '';
  for (const d of docs) {
    const label = document.createElement('label');
    label.title = d.help;
    label.append(`${d.key} `);
    let input;
    if (CHOICES[d.key]) {
      input = document.createElement('select');
      for (const c of CHOICES[d.key]) input.append(new Option(c, c));
    } else if (d.default === 'true' || d.default === 'false') {  // every boolean option, by its default
      input = document.createElement('input');
      input.type = 'checkbox';
    } else {
      input = document.createElement('input');
      input.type = 'text';
      input.size = 8;
    }
    input.id = `opt-${d.key}`;
    const small = document.createElement('small');
    small.textContent = ` default ${d.default} — ${d.help}`;
    label.append(input, small);
    box.append(label);
  }
}

function fillSettings(values) {
  for (const [k, v] of Object.entries(values)) {
    const input = $(`opt-${k}`);
    if (!input) continue;
    if (input.type === 'checkbox') input.checked = v === 'true';
    else input.value = v;
  }
}

function readSettings() {
  const out = {};
  for (const d of optionDocs) {
    const input = $(`opt-${d.key}`);
    out[d.key] = input.type === 'checkbox' ? String(input.checked) : input.value.trim();
  }
  return out;
}

// ---- training ------------------------------------------------------------------------------
function setRunning(on) {
  running = on;
  updateButtons();
}

function formatStatus(status, reports) {
  const last = reports[reports.length - 1];
  const done = status.epoch + (status.fraction || 0);
  let text = `epoch ${status.epoch} of at most ${status.epochs}`;
  if (last) {
    text += ` · train loss ${last.trainLoss.toFixed(4)}`;
    if (last.valLoss !== null) text += ` · validation loss ${last.valLoss.toFixed(4)}`;
    const perEpoch = status.trainSeconds / Math.max(done, 1e-9);
    const left = perEpoch * (status.epochs - done);
    text += ` · ${perEpoch.toFixed(2)} s/epoch · `;
    text += status.done
      ? `finished (${status.stopReason.replace('_', ' ')}) in ${status.trainSeconds.toFixed(1)} s`
      : `at most ${Math.ceil(left)} s left (early stopping usually ends sooner)`;
    const events = reports.filter((r) => r.event).map((r) => `epoch ${r.epoch}: ${r.event}`);
    if (events.length) text += `\n${events.slice(-2).join('\n')}`;
  }
  return text;
}

function drawLoss(reports) {
  const c = $('loss-chart');
  const g = c.getContext('2d');
  g.clearRect(0, 0, c.width, c.height);
  const pad = { l: 56, r: 12, t: 12, b: 30 };
  const w = c.width - pad.l - pad.r, h = c.height - pad.t - pad.b;
  const values = reports.flatMap((r) => [r.trainLoss, r.valLoss]).filter((v) => v !== null && Number.isFinite(v));
  g.fillStyle = '#333';
  g.font = '12px sans-serif';
  if (!values.length) { g.fillText('loss per epoch appears here', pad.l, pad.t + 20); return; }
  // Log scale: the first epochs' loss is often 10x the rest and would flatten the curve.
  const positive = values.filter((v) => v > 0);
  const logScale = positive.length === values.length;
  const tf = (v) => (logScale ? Math.log(v) : v);
  const lo = Math.min(...values.map(tf)), hi = Math.max(...values.map(tf)), span = hi - lo || 1;
  const n = Math.max(reports.length, 2);
  const x = (i) => pad.l + (w * i) / (n - 1), y = (v) => pad.t + h - (h * (tf(v) - lo)) / span;
  const fmt = (t) => (logScale ? Math.exp(t) : t).toPrecision(4);
  g.strokeStyle = '#999';
  g.strokeRect(pad.l, pad.t, w, h);
  g.fillText(fmt(hi), 4, pad.t + 10);
  g.fillText(fmt(lo), 4, pad.t + h);
  g.fillText(logScale ? 'loss (log scale) per epoch' : 'loss per epoch', pad.l + w / 2 - 60, c.height - 8);
  g.fillText(String(reports.length), pad.l + w - 20, c.height - 8);
  const line = (key, color, label, ly) => {
    g.strokeStyle = color;
    g.beginPath();
    reports.forEach((r, i) => { if (r[key] !== null) (i ? g.lineTo(x(i), y(r[key])) : g.moveTo(x(i), y(r[key]))); });
    g.stroke();
    g.fillStyle = color;
    g.fillText(label, pad.l + w - 110, pad.t + ly);
  };
  line('trainLoss', '#1f6feb', 'train loss', 16);
  line('valLoss', '#d1242f', 'validation loss', 32);
}

const METRIC_ROWS = [
  ['zero_num', 'zero count (observed zeros)'], ['true_dropout_num', 'true dropouts (zero observed, non-zero true)'],
  ['predict_dropout_num', 'predicted dropouts (zero observed, imputed non-zero)'], ['recall', 'recall'],
  ['precision', 'precision'], ['predict_distance', 'predict distance ‖true − imputed‖'],
  ['origin_distance', 'origin distance ‖true − observed‖'], ['distance_ratio', 'predict / origin distance'],
  ['zero_distance_ratio', 'the same ratio on observed zeros'], ['dropout_log_pearson', 'Pearson r of log1p on true dropouts'],
  ['mean_gene_correlation', 'mean per-gene correlation'], ['mean_cell_correlation', 'mean per-cell correlation'],
];

function showMetrics(report) {
  const box = $('metrics');
  box.textContent = '';
  const summary = document.createElement('p');
  summary.textContent = `${report.genes} genes × ${report.cells} cells` +
    (report.epochs !== undefined ? ` · ${report.epochs} epochs (${report.stop_reason.replace('_', ' ')}) in ${report.train_seconds.toFixed(1)} s` : ' · imputed with a saved model') +
    (report.recoveries ? ` · recovered from ${report.recoveries} divergence(s)` : '');
  box.append(summary);
  if (report.zero_num === undefined) {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent = 'Add a truth file to see the course metrics.';
    box.append(p);
    return;
  }
  const table = document.createElement('table');
  table.id = 'metrics-table';
  for (const [key, label] of METRIC_ROWS) {
    const tr = table.insertRow();
    tr.insertCell().textContent = label;
    const v = report[key];
    tr.insertCell().textContent = v === null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(4);
  }
  box.append(table);
}

async function run(dataFile, modelFile, truthFile) {
  showError('');
  setRunning(true);
  const reports = [];
  drawLoss(reports);
  $('progress').value = 0;
  for (const id of ['download-result', 'download-metrics', 'download-pi', 'download-mu', 'download-theta', 'download-latent', 'download-model'])
    $(id).disabled = true;
  $('metrics').textContent = '';
  $('status').textContent = 'Reading the data…';
  try {
    const done = await request('run', {
      data: dataFile, truth: truthFile, model: modelFile, options: readSettings(), orientation: $('orientation').value,
    }, (msg) => {
      if (msg.type === 'loaded') {
        const i = msg.info;
        let text = `${i.genes} genes × ${i.cells} cells, ${(100 * i.zeroFraction).toFixed(1)}% zeros`;
        if (i.warnings.length) text += `\nWarnings: ${i.warnings.join('; ')}`;
        $('status').textContent = text;
      } else if (msg.type === 'progress') {
        reports.push(...msg.status.reports);
        const s = msg.status;
        $('progress').value = (s.epoch + (s.fraction || 0)) / s.epochs;
        if (s.trainSeconds !== undefined) $('status').textContent = formatStatus(s, reports);
        if (msg.status.reports.length) drawLoss(reports);
      }
    });
    if (done.cancelled && !done.report) {
      $('status').textContent = 'Cancelled before the first epoch ended; nothing to show.';
      return;
    }
    $('progress').value = 1;
    lastReport = done.report;
    if (done.cancelled) $('status').textContent += '\nCancelled: results use the best weights so far.';
    showMetrics(done.report);
    for (const id of ['download-result', 'download-metrics', 'download-pi', 'download-mu', 'download-theta', 'download-latent', 'download-model'])
      $(id).disabled = false;
  } catch (e) {
    showError(e.message);
    $('status').textContent = '';
  } finally {
    setRunning(false);
  }
}

// ---- downloads -----------------------------------------------------------------------------
function saveBytes(bytes, name, type) {
  const url = URL.createObjectURL(new Blob([bytes], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function download(which, name, type) {
  try {
    const msg = await request('output', { which });
    saveBytes(msg.bytes, name, type);
  } catch (e) {
    showError(e.message);
  }
}

// ---- wiring --------------------------------------------------------------------------------
$('data-file').onchange = (e) => takeFiles(e.target.files);
$('truth-file').onchange = (e) => setFile('truth', e.target.files[0]);
$('model-file').onchange = (e) => setFile('model', e.target.files[0]);
$('apply-file').onchange = updateButtons;
$('train').onclick = () => run(files.data, files.model, files.truth);
$('cancel').onclick = () => { request('cancel'); $('cancel').disabled = true; $('status').textContent += '\nCancelling…'; };
$('download-result').onclick = () => download('result', 'result.csv', 'text/csv');
$('download-pi').onclick = () => download('pi', 'pi.csv', 'text/csv');
$('download-mu').onclick = () => download('mu', 'mu.csv', 'text/csv');
$('download-theta').onclick = () => download('theta', 'theta.csv', 'text/csv');
$('download-latent').onclick = () => download('latent', 'latent.csv', 'text/csv');
$('download-model').onclick = () => download('model', 'model.zim', 'application/octet-stream');
$('download-metrics').onclick = () => saveBytes(JSON.stringify(lastReport, null, 2), 'metrics.json', 'application/json');
$('apply').onclick = async () => {
  try {
    const model = await request('output', { which: 'model' });
    const data = await readFile($('apply-file').files[0]);
    await run(data, { name: 'model.zim', bytes: model.bytes }, null);
  } catch (e) {
    showError(e.message);
  }
};
$('preset').onchange = async () => {
  try {
    fillSettings((await request('settings', { options: { preset: $('preset').value } })).settings);
  } catch (e) {
    showError(e.message);
  }
};
$('example').onclick = async () => {
  // The same call wasm/build.sh makes for web/example/*.csv, so the data is identical to those files.
  const sim = await request('simulate', { options: { genes: 1000, cells: 400, seed: 1 } });
  files.data = { name: 'example_data.csv', bytes: sim.data };
  files.truth = { name: 'example_truth.csv', bytes: sim.truth };
  files.model = null;
  describeFiles();
  showError('');
};

const zone = $('drop-zone');
zone.ondragover = (e) => { e.preventDefault(); zone.classList.add('over'); };
zone.ondragleave = () => zone.classList.remove('over');
zone.ondrop = async (e) => {
  e.preventDefault();
  zone.classList.remove('over');
  await takeFiles(e.dataTransfer.files);
};

(async () => {
  try {
    const ready = await request('init');
    optionDocs = ready.optionDocs;
    $('engine').textContent = ready.threads > 1
      ? `Engine: WebAssembly with up to ${ready.threads} threads (setting "threads", 0 = all of this computer's cores, at most 4).`
      : 'Engine: WebAssembly, 1 thread (threads need a cross-origin-isolated page: serve it with web/dev-server.mjs, or over https so its service worker can enable them).';
    buildSettings(optionDocs);
    fillSettings(Object.fromEntries(optionDocs.map((d) => [d.key, d.default])));
    drawLoss([]);
    describeFiles();
  } catch (e) {
    showError(`zimpute could not start: ${e.message}`);
  }
})();
