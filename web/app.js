// zimpute page: files and settings in, a worker does all computing, results out. This module
// wires the parts: the worker client (worker-client.js), file sorting (files.js), the settings
// form (settings-form.js), the training and results panels (training-panel.js) and the course
// experiment (experiment-panel.js). Page state lives here and is handed to them explicitly.
import { $, showError } from './dom.js';
import { WorkerClient } from './worker-client.js';
import { readFile, sortFiles } from './files.js';
import { buildSettings, fillSettings, readSettings } from './settings-form.js';
import { initTrainingPanel } from './training-panel.js';
import { initExperimentPanel } from './experiment-panel.js';

// Threads need a cross-origin-isolated page. A server that sends COOP/COEP headers (web/
// dev-server.mjs) gives that directly; on a static host that cannot, coi-sw.js adds the headers
// and the page reloads once. Where neither works (no service workers, plain http to another
// host) the single-thread engine runs; the page says which (#engine).
if (!window.crossOriginIsolated && window.isSecureContext && 'serviceWorker' in navigator &&
    !sessionStorage.getItem('zimpute-coi-reload')) {
  navigator.serviceWorker.register('coi-sw.js').then(() => navigator.serviceWorker.ready).then(() => {
    sessionStorage.setItem('zimpute-coi-reload', '1');  // once: never a reload loop
    window.location.reload();
  }).catch(() => {});
}

const state = {
  files: { data: null, truth: null, model: null },  // as the worker takes them ({name, bytes} or a 10x trio)
  optionDocs: [],
  lastReport: null,  // the last run's report: enables Apply model and metrics.json
  running: false,
};

const page = {
  client: new WorkerClient(new Worker('worker.js'), { onProblem: showError }),
  state,
  settings: () => readSettings(state.optionDocs),
  setRunning(on) {
    state.running = on;
    updateButtons();
  },
  setFiles(files) {
    Object.assign(state.files, files);
    describeFiles();
  },
};

// Every control's enabled state, derived from `running`, the loaded files and the last result.
function updateButtons() {
  const { running, files, lastReport } = state;
  $('train').disabled = running || !files.data;
  $('train').textContent = files.model ? 'Impute with saved model' : 'Train';
  $('run-experiment').disabled = running || !files.data || !files.truth;
  $('simulate').disabled = running;
  $('cancel').disabled = !running;
  $('example').disabled = running;
  $('apply').disabled = running || !lastReport || !$('apply-file').files.length;
  for (const id of ['data-file', 'truth-file', 'model-file', 'preset', 'orientation', 'header', 'row-names']) $(id).disabled = running;
}

function describeFiles() {
  const { data, truth, model } = state.files;
  const parts = [];
  if (data) parts.push(`data: ${data.name}`);
  if (truth) parts.push(`truth: ${truth.name}`);
  if (model) parts.push(`model: ${model.name} (the data will be imputed without training)`);
  $('files-status').textContent = parts.join(' · ');
  updateButtons();
}

// The truth or model picker: one file of that kind, or none.
async function pickOne(kind, file) {
  showError('');
  try {
    state.files[kind] = file ? await readFile(file) : null;
  } catch (e) {
    state.files[kind] = null;
    showError(e.message);
  }
  describeFiles();
}

// Dropped files, or the data picker's: sorted by name into data, truth, model or a 10x trio.
async function takeFiles(list) {
  showError('');
  const { error, ...sorted } = await sortFiles(list);
  page.setFiles(sorted);
  if (error) showError(error);
}

$('data-file').onchange = (e) => takeFiles(e.target.files);
$('truth-file').onchange = (e) => pickOne('truth', e.target.files[0]);
$('model-file').onchange = (e) => pickOne('model', e.target.files[0]);
$('apply-file').onchange = updateButtons;
$('preset').onchange = async () => {
  try {
    fillSettings((await page.client.request('settings', { options: { preset: $('preset').value } })).settings);
  } catch (e) {
    showError(e.message);
  }
};
$('example').onclick = async () => {
  try {
    // The same call wasm/build.sh makes for web/example/*.csv, so the data is identical to those files.
    const sim = await page.client.request('simulate', { options: { genes: 1000, cells: 400, seed: 1 } });
    page.setFiles({ data: { name: 'example_data.csv', bytes: sim.data }, truth: { name: 'example_truth.csv', bytes: sim.truth }, model: null });
    showError('');
  } catch (e) {
    showError(e.message);
  }
};

const zone = $('drop-zone');
zone.ondragover = (e) => { e.preventDefault(); zone.classList.add('over'); };
zone.ondragleave = () => zone.classList.remove('over');
// Keyboard: Enter or Space on the drop zone opens the data picker (a drop needs a mouse).
zone.onkeydown = (e) => {
  if (e.key !== 'Enter' && e.key !== ' ') return;
  e.preventDefault();
  $('data-file').click();
};
zone.ondrop = async (e) => {
  e.preventDefault();
  zone.classList.remove('over');
  await takeFiles(e.dataTransfer.files);
};

initTrainingPanel(page);
initExperimentPanel(page);

try {
  const ready = await page.client.request('init');
  state.optionDocs = ready.optionDocs;
  const engine = $('engine');
  engine.dataset.build = ready.build;
  engine.dataset.threads = String(ready.threads);
  engine.textContent = ready.threads > 1
    ? `Engine: WebAssembly with up to ${ready.threads} threads (setting "threads", 0 = all of this computer's cores, at most 4).`
    : ready.build === 'threads'
      ? 'Engine: WebAssembly (threads build), 1 thread: this computer reports a single core.'
      : 'Engine: WebAssembly, 1 thread (threads need a cross-origin-isolated page: serve it with web/dev-server.mjs, or over https so its service worker can enable them).';
  buildSettings($('settings'), state.optionDocs);
  fillSettings(Object.fromEntries(state.optionDocs.map((d) => [d.key, d.default])));
  describeFiles();
} catch (e) {
  showError(`zimpute could not start: ${e.message}`);
}
