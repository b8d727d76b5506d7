// The page in headless Chromium, as a person uses it: upload data and truth, train, watch
// progress, read the metric table, download result.csv; a bad file shows a plain error; Cancel
// stops early and keeps the best weights' results; and the page requests nothing but its own files.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { startServer } from '../../web/dev-server.mjs';
import { WEB, OUT, launch, openPage as open, assertOneReplyEach, seriousViolations, foreign } from './page-helpers.mjs';

let server, browser, origin;
const requests = [];  // every URL any page of these tests requested

before(async () => {
  ({ server, browser, origin } = await launch());
});

after(async () => {
  await browser?.close();
  server?.close();
});

// An isolated page's worker runs the threads build, with as many threads as this computer's
// cores (at most 4), and the page says so.
async function assertThreadsEngine(page) {
  await page.waitForFunction(() => /Engine: WebAssembly/.test(document.getElementById('engine').textContent));
  const engine = await page.$eval('#engine', (e) => ({ text: e.textContent, build: e.dataset.build, threads: Number(e.dataset.threads) }));
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  assert.equal(engine.build, 'threads', engine.text);
  assert.ok(engine.threads >= 1 && engine.threads <= Math.min(4, cores), `${engine.threads} threads on ${cores} cores`);
  if (cores > 1) assert.match(engine.text, /up to \d threads/);
  else assert.match(engine.text, /threads build\), 1 thread/);
}

const openPage = () => open(browser, origin, requests);

test('upload data and truth, train, see progress and metrics, download result.csv', async () => {
  const { page, errors } = await openPage();
  await page.setInputFiles('#data-file', path.join(WEB, 'example/data.csv'));
  await page.setInputFiles('#truth-file', path.join(WEB, 'example/truth.csv'));
  await page.fill('#opt-epochs', '150');
  await page.click('#train');
  await page.waitForFunction(() => /epoch [1-9]/.test(document.getElementById('status').textContent));
  assert.ok(await page.$eval('#progress', (p) => p.value > 0));
  await page.waitForSelector('#metrics-table', { timeout: 120000 });
  const table = await page.$eval('#metrics-table', (t) => t.innerText);
  assert.match(table, /zero count/);
  assert.match(table, /predict distance/);
  // Which genes were imputed (every gene with a count: top-genes is 0, all, by default).
  const genesLine = await page.$eval('#genes-imputed', (e) => e.textContent);
  assert.match(genesLine, /^\d+ of 1000 genes imputed/);
  assert.equal(await page.$eval('#error', (e) => e.hidden), true);

  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-result')]);
  assert.equal(download.suggestedFilename(), 'result.csv');
  const saved = path.join(OUT, 'result.csv');
  await download.saveAs(saved);
  const input = fs.readFileSync(path.join(WEB, 'example/data.csv'), 'utf8').trim().split('\n');
  const result = fs.readFileSync(saved, 'utf8').trim().split('\n');
  assert.equal(result[0], input[0], 'same header (cell labels)');
  assert.equal(result.length, input.length, 'same number of genes');
  assert.equal(result[1].split(',').length, input[1].split(',').length, 'same number of cells');

  const [metrics] = await Promise.all([page.waitForEvent('download'), page.click('#download-metrics')]);
  const m = JSON.parse(fs.readFileSync(await metrics.path(), 'utf8'));
  assert.ok(m.predict_distance < m.origin_distance, 'imputation moved the matrix toward the truth');
  assert.equal(`${m.genes_imputed} of ${m.genes} genes imputed`, genesLine.split(';')[0]);

  await page.screenshot({ path: path.join(OUT, 'e2e.png'), fullPage: true });

  // Apply the trained model to another file (here the same one): no training, same shape out.
  await page.setInputFiles('#apply-file', path.join(WEB, 'example/data.csv'));
  await page.click('#apply');
  await page.waitForFunction(() => /imputed with a saved model/.test(document.getElementById('metrics').textContent));
  // The pictures come after an applied model too (no truth given: no truth plot).
  await page.waitForSelector('#pictures:not([hidden])');
  assert.equal(await page.$eval('#fig-truth', (f) => f.hidden), true);
  assert.equal(await page.$eval('#error', (e) => e.hidden), true);
  const [applied] = await Promise.all([page.waitForEvent('download'), page.click('#download-result')]);
  assert.equal(fs.readFileSync(await applied.path(), 'utf8').trim().split('\n').length, input.length);
  await assertOneReplyEach(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('calibrate: the page shows the candidates while calibrating, then what was chosen', async () => {
  const { page, errors } = await openPage();
  await page.setInputFiles('#data-file', path.join(WEB, 'example/data.csv'));
  await page.fill('#opt-epochs', '2');
  // The first screen shows four settings; the rest (calibrate among them) under Advanced.
  assert.equal(await page.isVisible('#opt-learning-rate'), true);
  assert.equal(await page.isVisible('#opt-calibrate'), false);
  await page.click('#advanced summary');
  await page.check('#opt-calibrate');
  await page.click('#train');
  await page.waitForFunction(() => /Calibrating: candidate [12] of 2/.test(document.getElementById('status').textContent), null, { timeout: 60000 });
  await page.waitForSelector('#calibration', { timeout: 120000 });
  assert.match(await page.$eval('#calibration', (e) => e.textContent),
    /held out \d+ non-zero counts and chose the (default|dca) training with the (posterior|mean|course) rule[^]*by training: default [\d.]+, dca [\d.]+\. Error of the (default|dca) training by rule[^]*: posterior [\d.]+, mean [\d.]+, course [\d.]+\./);
  assert.equal(await page.$eval('#error', (e) => e.hidden), true);
  await page.screenshot({ path: path.join(OUT, 'calibration.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('a 10x trio (matrix.mtx, features.tsv, barcodes.tsv) loads and trains; result.csv has genes and barcodes', async () => {
  const { page, errors } = await openPage();
  const lines = fs.readFileSync(path.join(WEB, 'example/data.csv'), 'utf8').trim().split('\n');
  const cells = lines[0].split(',');
  const entries = [];
  lines.slice(1).forEach((l, g) => l.split(',').forEach((v, c) => { if (v !== '0') entries.push(`${g + 1} ${c + 1} ${v}`); }));
  const mtx = `%%MatrixMarket matrix coordinate integer general\n${lines.length - 1} ${cells.length} ${entries.length}\n${entries.join('\n')}\n`;
  const features = lines.slice(1).map((_, g) => `ENSG${g}\tGene${g + 1}\tGene Expression`).join('\n') + '\n';
  await page.setInputFiles('#data-file', [
    { name: 'matrix.mtx.gz', mimeType: 'application/gzip', buffer: zlib.gzipSync(mtx) },
    { name: 'features.tsv', mimeType: 'text/tab-separated-values', buffer: Buffer.from(features) },
    { name: 'barcodes.tsv', mimeType: 'text/tab-separated-values', buffer: Buffer.from(cells.map((c) => `${c}-1`).join('\n')) },
  ]);
  await page.waitForFunction(() => /data: matrix\.mtx\.gz/.test(document.getElementById('files-status').textContent));
  await page.fill('#opt-epochs', '2');
  await page.click('#train');
  await page.waitForSelector('#metrics p', { timeout: 60000 });
  assert.match(await page.$eval('#metrics', (e) => e.textContent), /1000 genes × 400 cells/);
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-result')]);
  const out = fs.readFileSync(await dl.path(), 'utf8').split('\n');
  assert.ok(out[0].startsWith('gene,Cell1-1,Cell2-1'), out[0].slice(0, 40));
  assert.ok(out[1].startsWith('Gene1,'));
  assert.deepEqual(errors, []);
  await page.close();
});

test('a file too large for the browser is refused before reading, with its size and what to do', async () => {
  const { page } = await openPage();
  // A file object of 900 MB without allocating it: the size check runs before any read.
  await page.evaluate(() => {
    const big = new File([new Blob([new ArrayBuffer(900 * 2 ** 20)])], 'huge.csv');
    const dt = new DataTransfer();
    dt.items.add(big);
    document.getElementById('drop-zone').dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  });
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.$eval('#error', (e) => e.textContent), /^huge\.csv is 0\.88 GB; the page handles files up to about 800 MB .*command-line zimpute/);
  assert.equal(await page.$eval('#train', (b) => b.disabled), true, 'nothing loaded');
  await page.close();
});

test('a malformed file shows a plain error naming the line', async () => {
  const { page } = await openPage();
  await page.setInputFiles('#data-file', { name: 'broken.csv', mimeType: 'text/csv', buffer: Buffer.from('Cell1,Cell2,Cell3\n1,2,3\n4,5\n') });
  await page.click('#train');
  await page.waitForSelector('#error:not([hidden])');
  assert.equal(await page.$eval('#error', (e) => e.textContent),
    'broken.csv: line 3: expected 3 fields (as in the header, comma-separated), found 2');
  assert.equal(await page.$eval('#train', (b) => b.disabled), false, 'the page recovers');
  await page.screenshot({ path: path.join(OUT, 'error.png') });
  await page.close();
});

test('Try the example then Cancel stops training early, keeps its results and the page usable', async () => {
  const { page, errors } = await openPage();
  await page.click('#example');
  await page.waitForFunction(() => /example_data\.csv/.test(document.getElementById('files-status').textContent));
  await page.click('#train');
  await page.waitForFunction(() => /epoch [2-9]/.test(document.getElementById('status').textContent), null, { timeout: 60000 });
  await page.click('#cancel');
  await page.waitForFunction(() => !document.getElementById('train').disabled, null, { timeout: 30000 });
  assert.match(await page.$eval('#status', (e) => e.textContent), /finished \(cancelled\)[^]*Cancelled: results use the best weights so far/);
  await page.waitForSelector('#metrics-table');  // results from the best weights so far
  const summary = await page.$eval('#metrics p', (e) => e.textContent);
  const epochs = Number(summary.match(/(\d+) epochs \(cancelled\)/)?.[1]);
  assert.ok(epochs >= 1 && epochs < 300, summary);
  assert.equal(await page.$eval('#cancel', (b) => b.disabled), true);
  assert.equal(await page.$eval('#error', (e) => e.hidden), true);
  const log = await assertOneReplyEach(page);
  assert.deepEqual(log.received.filter((m) => m.type === 'cancelled').length, 1, 'the cancel was answered');
  assert.deepEqual(errors, []);  // no unhandled rejection either
  await page.close();
});

test('presets fill the settings form with their values', async () => {
  const { page } = await openPage();
  assert.equal(await page.inputValue('#opt-rule'), 'posterior');
  await page.selectOption('#preset', 'course');
  await page.waitForFunction(() => document.getElementById('opt-rule').value === 'course');
  assert.equal(await page.inputValue('#opt-size-factors'), 'median');
  assert.equal(await page.inputValue('#opt-scale'), 'global');
  await page.selectOption('#preset', 'dca');
  await page.waitForFunction(() => document.getElementById('opt-optimizer').value === 'rmsprop');
  assert.equal(await page.inputValue('#opt-loss'), 'original');
  assert.equal(await page.inputValue('#opt-rule'), 'mean');
  await page.close();
});

test("the course report's Model I with unbounded heads at lr 0.1 diverges, recovers, and the page says so", async () => {
  const { page, errors } = await openPage();
  await page.selectOption('#preset', 'course');
  await page.waitForFunction(() => document.getElementById('opt-rule').value === 'course');
  await page.uncheck('#opt-batchnorm');
  await page.selectOption('#opt-loss', 'original');
  await page.click('#advanced summary');
  await page.uncheck('#opt-clip-heads');
  await page.fill('#opt-learning-rate', '0.1');
  await page.fill('#opt-epochs', '4');
  await page.setInputFiles('#data-file', path.join(WEB, 'example/data.csv'));
  await page.click('#train');
  await page.waitForSelector('#metrics-table, #metrics p', { timeout: 60000 });
  await page.waitForFunction(() => /finished/.test(document.getElementById('status').textContent));
  const status = await page.$eval('#status', (e) => e.textContent);
  assert.match(status, /diverged in epoch 1 .* and recovered: restored the initial weights and halved the learning rate/);
  assert.match(await page.$eval('#metrics', (e) => e.textContent), /recovered from [1-9]\d* divergence/);
  assert.match(status, /train loss \d+\.\d+ · validation loss \d+\.\d+/, 'finite losses are shown');
  assert.equal(await page.$eval('#error', (e) => e.hidden), true);
  assert.deepEqual(errors, []);
  await page.close();
});

test('Simulate then Run experiment: the comparison table, best row, plots, exports', async () => {
  const { page, errors } = await openPage();
  await page.fill('#sim-genes', '300');
  await page.fill('#sim-cells', '150');
  await page.click('#simulate');
  await page.waitForFunction(() => /simulated_300x150_truth/.test(document.getElementById('files-status').textContent));
  assert.equal(await page.$eval('#plots', (p) => getComputedStyle(p).display), 'none', 'no empty plots before a run');
  await page.fill('#opt-epochs', '6');
  await page.click('#run-experiment');
  await page.waitForSelector('#experiment-results', { timeout: 120000 });
  const rows = await page.$$eval('#experiment-results tbody tr', (trs) => trs.map((tr) => tr.innerText));
  assert.equal(rows.length, 6);
  assert.match(rows[0], /^Model I \(no BatchNorm, original loss\)/);
  assert.equal(await page.$$eval('#experiment-results tr.best', (trs) => trs.length), 1);
  assert.equal(await page.$eval('#plots', (p) => p.hidden), false);
  // every plot drew something (not a blank canvas)
  for (const id of ['plot-loss', 'plot-scatter', 'plot-pi', 'plot-heatmap']) {
    const inked = await page.$eval(`#${id}`, (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200) n++;
      return n;
    });
    assert.ok(inked > 500, `${id} has ${inked} inked pixels`);
  }
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#download-table-csv')]);
  assert.equal(fs.readFileSync(await csv.path(), 'utf8').trim().split('\n').length, 7);
  const [png] = await Promise.all([page.waitForEvent('download'), page.click('[data-png="plot-scatter"]')]);
  assert.equal(png.suggestedFilename(), 'plot-scatter.png');
  assert.deepEqual([...fs.readFileSync(await png.path()).subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
  const [report] = await Promise.all([page.waitForEvent('download'), page.click('#download-report')]);
  const html = fs.readFileSync(await report.path(), 'utf8');
  assert.match(html, /<table id="experiment-results"/);
  assert.equal((html.match(/data:image\/png;base64,/g) || []).length, 4);
  await page.screenshot({ path: path.join(OUT, 'experiment.png'), fullPage: true });
  assert.deepEqual(await seriousViolations(page), [], 'the page with the experiment table and plots');
  await assertOneReplyEach(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('served with COOP/COEP the page is cross-origin isolated and trains with the threads build', async () => {
  const { page, errors } = await openPage();
  assert.equal(await page.evaluate(() => window.crossOriginIsolated), true);
  await assertThreadsEngine(page);
  // Training with two threads ends with results, as with one (the other tests use the default).
  await page.click('#example');
  await page.waitForFunction(() => /example_data\.csv/.test(document.getElementById('files-status').textContent));
  await page.fill('#opt-epochs', '3');
  await page.click('#advanced summary');
  await page.fill('#opt-threads', '2');
  await page.click('#train');
  await page.waitForSelector('#metrics-table', { timeout: 60000 });
  assert.deepEqual(errors, []);
  await page.close();
});

test('on a static host without COOP/COEP, the service worker isolates the page after one reload', async () => {
  const plain = await startServer(0, { isolation: false });
  const url = `http://127.0.0.1:${plain.address().port}/`;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(url);
    // coi-sw.js registers, the page reloads itself once and comes back isolated.
    await page.waitForFunction(() => window.crossOriginIsolated === true, null, { timeout: 20000 });
    await page.waitForFunction(() => /Engine: WebAssembly/.test(document.getElementById('engine').textContent), null, { timeout: 20000 });
    await assertThreadsEngine(page);
  } finally {
    await context.close();
    plain.close();
  }
});

test('the page requests nothing outside its own origin (here and in every test before)', async () => {
  // A short training of its own, so the test means something when it runs alone.
  const { page, errors } = await openPage();
  await page.click('#example');
  await page.waitForFunction(() => /example_data\.csv/.test(document.getElementById('files-status').textContent));
  await page.fill('#opt-epochs', '2');
  await page.click('#train');
  await page.waitForSelector('#metrics-table', { timeout: 60000 });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download-result')]);
  assert.equal(dl.suggestedFilename(), 'result.csv');
  assert.deepEqual(errors, []);
  await page.close();
  for (const file of ['app.js', 'worker-client.js', 'style.css']) assert.ok(requests.includes(`${origin}/${file}`), `${file} was requested`);
  assert.deepEqual(foreign(requests, origin), []);
});
