// Sections 3 and 4: train (or impute with a saved model) in the worker, live progress, status and
// loss curve, Cancel, the metric table, the pictures (pictures-panel.js), downloads, and applying
// the trained model to another file.
import { $, showError, saveBytes } from './dom.js';
import { LossChart } from './loss-chart.js';
import { showPictures, hidePictures, initPicturesPanel } from './pictures-panel.js';
import { showMetrics } from './metrics-table.js';
import { readFile, fileLayout } from './files.js';

// Download buttons: [button id, worker output, file name, MIME type].
const OUTPUTS = [
  ['download-result', 'result', 'result.csv', 'text/csv'], ['download-pi', 'pi', 'pi.csv', 'text/csv'],
  ['download-mu', 'mu', 'mu.csv', 'text/csv'], ['download-theta', 'theta', 'theta.csv', 'text/csv'],
  ['download-latent', 'latent', 'latent.csv', 'text/csv'], ['download-model', 'model', 'model.zim', 'application/octet-stream'],
];
const RESULT_BUTTONS = [...OUTPUTS.map(([id]) => id), 'download-metrics'];

// The status line of a training: epoch, losses, speed, time left or how it finished, and the last
// two events (divergences recovered).
export function formatStatus(status, reports) {
  const last = reports[reports.length - 1];
  const done = status.epoch + (status.fraction || 0);
  let text = status.members > 1 ? `model ${status.member + 1} of ${status.members} · ` : '';
  text += `epoch ${status.epoch} of at most ${status.epochs}`;
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

// "K of N genes imputed" under the results' summary line: genes without counts, with fewer than
// min-gene-counts or outside the top-genes most variable are written unchanged (metrics.json
// lists the imputed ones by name).
function genesImputedText(report) {
  if (report.genes_imputed === undefined) return '';
  return `${report.genes_imputed} of ${report.genes} genes imputed` +
    (report.genes_imputed < report.genes ? '; the others are written unchanged' : '');
}

// A hint paragraph under the results (nothing when there is no text).
function hint(id, text) {
  if (!text) return null;
  const p = document.createElement('p');
  p.id = id;
  p.className = 'hint';
  p.textContent = text;
  return p;
}

function showGenesImputed(box, report) {
  const p = hint('genes-imputed', genesImputedText(report));
  if (!p) return;
  if (box.firstChild) box.firstChild.after(p);
  else box.append(p);
}

// With "calibrate": what was tried on the held-out counts and what was chosen (report.calibration,
// core/calibrate.hpp).
// The training is chosen on mu's error on the held-out counts (its mean-rule trial's
// held_out_score), then its rule on each rule's error; lower is better for both.
export function calibrationText(report) {
  const c = report && report.calibration;
  if (!c) return '';
  const num = (x) => (x === null ? 'n/a' : x.toFixed(3));
  const trainings = c.trials.filter((t) => t.rule === 'mean').map((t) => `${t.candidate} ${num(t.held_out_score)}`);
  const rules = c.trials.filter((t) => t.candidate === c.chosen.candidate).map((t) => `${t.rule} ${num(t.score)}`);
  return `Calibration held out ${c.held_out} non-zero counts and chose the ${c.chosen.candidate} training ` +
    `with the ${c.chosen.rule} rule (lower is better). Error of mu on the held-out counts, by training: ` +
    `${trainings.join(', ')}. Error of the ${c.chosen.candidate} training by rule, changes to the observed ` +
    `counts included: ${rules.join(', ')}.`;
}

function showCalibration(box, report) {
  const p = hint('calibration', calibrationText(report));
  if (p) box.append(p);
}

// The contract's lines ("zimpute: calibration: ...") as the page shows them.
const plainLine = (line) => line.replace(/^zimpute: /, '');

// page: {client, state: {files, lastReport}, settings() -> the form's values, setRunning(on)}.
export function initTrainingPanel(page) {
  const { client, state } = page;
  initPicturesPanel();
  const lossChart = new LossChart($('loss-chart'));

  async function run(dataFile, modelFile, truthFile) {
    showError('');
    page.setRunning(true);
    let reports = [];
    const calibrationLines = [];
    let candidates = 0;  // with calibrate: the bar's first candidates/(candidates + 1) is theirs
    lossChart.update(reports);
    hidePictures();
    $('progress').value = 0;
    for (const id of RESULT_BUTTONS) $(id).disabled = true;
    $('metrics').textContent = '';
    $('status').textContent = 'Reading the data…';
    try {
      const done = await client.request('run', {
        data: dataFile, truth: truthFile, model: modelFile, options: page.settings(), layout: fileLayout($),
      }, (msg) => {
        if (msg.type === 'loaded') {
          const i = msg.info;
          let text = `${i.genes} genes × ${i.cells} cells, ${(100 * i.zeroFraction).toFixed(1)}% zeros`;
          if (i.warnings.length) text += `\nWarnings: ${i.warnings.join('; ')}`;
          $('status').textContent = text;
        } else if (msg.type === 'progress') {
          const s = msg.status;
          if (s.start && s.start.calibrating) calibrationLines.push(...s.start.lines.map(plainLine));
          if (s.phase === 'calibrating') {
            // Candidates' epochs are not the model's: the loss chart starts with the chosen training.
            calibrationLines.push(...s.lines.map(plainLine));
            const part = (s.epoch + (s.fraction || 0)) / s.epochs;
            candidates = s.candidates;
            $('progress').value = (s.candidate + (s.done ? 1 : part)) / (s.candidates + 1);
            $('status').textContent = `Calibrating: candidate ${s.candidate + 1} of ${s.candidates}, epoch ${s.epoch}\n` +
              calibrationLines.filter((l) => !l.startsWith('training on')).join('\n');
            if (s.training) reports = [];
            return;
          }
          reports.push(...s.reports);
          // The final training's share of the bar, split between an ensemble's members.
          const members = s.members || 1;
          const part = ((s.member || 0) + (s.epoch + (s.fraction || 0)) / s.epochs) / members;
          $('progress').value = (candidates + part) / (candidates + 1);
          if (s.trainSeconds !== undefined) $('status').textContent = formatStatus(s, reports);
          if (s.reports.length) lossChart.update(reports);
        }
      });
      if (done.cancelled && !done.report) {
        $('status').textContent = 'Cancelled before a model was trained; nothing to show.';
        return;
      }
      $('progress').value = 1;
      state.lastReport = done.report;
      if (done.cancelled) $('status').textContent += '\nCancelled: results use the best weights so far.';
      showMetrics($('metrics'), done.report);
      showGenesImputed($('metrics'), done.report);
      showCalibration($('metrics'), done.report);
      for (const id of RESULT_BUTTONS) $(id).disabled = false;
      await showPictures(client);
    } catch (e) {
      showError(e.message);
      $('status').textContent = '';
    } finally {
      page.setRunning(false);
    }
  }

  $('train').onclick = () => run(state.files.data, state.files.model, state.files.truth);
  $('cancel').onclick = () => {
    $('cancel').disabled = true;
    $('status').textContent += '\nCancelling…';
    client.request('cancel').catch((e) => showError(e.message));
  };
  for (const [id, which, name, type] of OUTPUTS) {
    $(id).onclick = async () => {
      try {
        saveBytes((await client.request('output', { which })).bytes, name, type);
      } catch (e) {
        showError(e.message);
      }
    };
  }
  $('download-metrics').onclick = () => saveBytes(JSON.stringify(state.lastReport, null, 2), 'metrics.json', 'application/json');
  $('apply').onclick = async () => {
    try {
      const model = await client.request('output', { which: 'model' });
      const data = await readFile($('apply-file').files[0]);
      await run(data, { name: 'model.zim', bytes: model.bytes }, null);
    } catch (e) {
      showError(e.message);
    }
  };
}
