// The pictures after a training in headless Chromium (issue 20): the cell map, heatmap, truth plot
// and loss chart drawn and downloadable as PNG, the "what happened" line, the metrics explained,
// keyboard reach, an axe-core audit and no sideways scroll at 1280 and 390 px, a file's group
// column colouring the map; the vendored chart library is the pinned one. Screenshots land in
// tests/web/output/ (pictures-1280.png, pictures-390.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { HERE, WEB, OUT, browserForFile, assertOneReplyEach, seriousViolations, inked, downloadPng, foreign } from './page-helpers.mjs';

const env = browserForFile();
const { openPage, requests } = env;

test('web/vendor/uplot is the pinned uPlot (tests/web/package-lock.json), byte for byte', () => {
  const pkg = path.join(HERE, 'node_modules/uplot');
  assert.equal(JSON.parse(fs.readFileSync(path.join(HERE, 'package.json'), 'utf8')).devDependencies.uplot,
    JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version);
  for (const [vendored, original] of [['uPlot.iife.min.js', 'dist/uPlot.iife.min.js'], ['uPlot.min.css', 'dist/uPlot.min.css'], ['LICENSE', 'LICENSE']])
    assert.ok(fs.readFileSync(path.join(WEB, 'vendor/uplot', vendored)).equals(fs.readFileSync(path.join(pkg, original))), vendored);
});

test('pictures after training, the teaching line, keyboard, axe-core and both widths (1280 and 390 px)', async () => {
  const { page, errors } = await openPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(await seriousViolations(page), [], 'the first screen');
  // Keyboard only: Tab reaches the example button, the first settings and Train.
  const reached = new Set();
  for (let k = 0; k < 40; k++) {
    await page.keyboard.press('Tab');
    reached.add(await page.evaluate(() => document.activeElement.id || document.activeElement.tagName));
  }
  for (const id of ['data-file', 'truth-file', 'example', 'preset', 'opt-epochs', 'opt-learning-rate']) assert.ok(reached.has(id), `Tab reaches #${id}: ${[...reached]}`);
  await page.focus('#example');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => /example_data\.csv/.test(document.getElementById('files-status').textContent));
  await page.fill('#opt-epochs', '40');
  await page.focus('#train');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#pictures:not([hidden])', { timeout: 120000 });
  assert.equal(await page.$eval('#pictures', (e) => getComputedStyle(e).display), 'block');

  const line = await page.$eval('#what-happened', (e) => e.textContent);
  assert.match(line, /^What happened: [\d,]+ of the 400,000 entries \([\d.]+%\) were zeros\. The model filled [\d,]+ of them .* kept [\d,]+ at zero\. /);
  assert.match(line, /(unsure about [\d,]+ zeros|sure about every zero)/);
  assert.match(line, /The truth file says [\d,]+ of the zeros .* were dropouts/);
  // Filled + kept = zeros, and the zero count is the metric table's.
  const [zeros, filled, kept] = [/([\d,]+) of the/, /filled ([\d,]+) of them/, /kept ([\d,]+) at zero/].map((r) => Number(line.match(r)[1].replace(/,/g, '')));
  assert.equal(filled + kept, zeros);
  const table = await page.$eval('#metrics-table', (t) => t.innerText);
  assert.match(table, new RegExp(`zero count \\(observed zeros\\)\\s+${zeros}`));
  assert.equal(await page.$$eval('#metrics-help dd', (d) => d.length), 12);
  assert.match(await page.$eval('#metrics-table tr', (tr) => tr.title), /observed data/);

  assert.match(await page.$eval('#map-groups', (e) => e.textContent), /^Colour: [2-6] clusters of the imputed cells/);
  for (const id of ['loss-chart', 'map-observed', 'map-imputed', 'heatmap', 'truth-plot']) {
    const n = await inked(page, `#${id}`);
    assert.ok(n > 1000, `#${id} drew ${n} pixels`);
  }
  assert.equal(await page.$eval('#map-observed canvas', (c) => c.getAttribute('role') + ': ' + c.getAttribute('aria-label')),
    'img: Map of 400 cells by the first two principal components of the observed counts, coloured by group');
  for (const id of ['loss-chart', 'map-observed', 'map-imputed', 'heatmap', 'truth-plot']) await downloadPng(page, id);
  assert.deepEqual(await seriousViolations(page), [], 'the page with results');
  await page.screenshot({ path: path.join(OUT, 'pictures-1280.png'), fullPage: true });

  // A phone: nothing wider than the screen, the charts follow the width.
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => document.querySelector('#map-observed canvas').getBoundingClientRect().width <= 390);
  const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, body: document.body.scrollWidth, screen: window.innerWidth }));
  assert.ok(widths.page <= widths.screen && widths.body <= widths.screen, `no sideways scroll at 390 px: ${JSON.stringify(widths)}`);
  assert.deepEqual(await seriousViolations(page), [], 'at 390 px');
  await page.screenshot({ path: path.join(OUT, 'pictures-390.png'), fullPage: true });
  await assertOneReplyEach(page);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a cells-in-rows file with a group column colours the map by it', async () => {
  const { page, errors } = await openPage();
  // 60 cells in rows, a text column 'group' (A, B, C) and 80 genes: group C has more of the first genes.
  const genes = Array.from({ length: 80 }, (_, g) => `Gene${g + 1}`);
  const rows = Array.from({ length: 60 }, (_, c) => {
    const grp = 'ABC'[c % 3];
    return [`cell${c + 1}`, grp, ...genes.map((_, g) => ((c * 7 + g * 13) % 5) + (grp === 'C' && g < 20 ? 8 : 0))].join(',');
  });
  const csv = `cell,group,${genes.join(',')}\n${rows.join('\n')}\n`;
  await page.setInputFiles('#data-file', { name: 'grouped.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.selectOption('#orientation', 'cells');
  await page.fill('#opt-epochs', '3');
  await page.click('#train');
  await page.waitForSelector('#pictures:not([hidden])', { timeout: 60000 });
  assert.equal(await page.$eval('#map-groups', (e) => e.textContent), "Colour: the file's column 'group' (3 groups).");
  assert.deepEqual(await page.$$eval('#map-observed .u-legend .u-label', (l) => l.map((e) => e.textContent)), ['A', 'B', 'C']);
  assert.equal(await page.$eval('#fig-truth', (f) => f.hidden), true, 'no truth, no truth plot');
  await assertOneReplyEach(page);
  assert.deepEqual(errors, []);
  await page.close();
});


test('the pictures asked for nothing outside the page', () => {
  assert.ok(requests.includes(`${env.origin}/vendor/uplot/uPlot.iife.min.js`));
  assert.deepEqual(foreign(requests, env.origin), []);
});
