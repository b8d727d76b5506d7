// The page's input files in headless Chromium: gzip (one member, several, zero padding, trailing
// bytes refused, as natively and in Node) and a file whose shape only the user can settle (Header
// row). Every page opened here requests nothing outside its own origin.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { WEB, browserForFile, foreign } from './page-helpers.mjs';

const env = browserForFile();
const { openPage, requests } = env;

test('a gzipped CSV (.csv.gz) trains like the plain file', async () => {
  const { page, errors } = await openPage();
  const gz = zlib.gzipSync(fs.readFileSync(path.join(WEB, 'example/data.csv')));
  await page.setInputFiles('#data-file', { name: 'data.csv.gz', mimeType: 'application/gzip', buffer: gz });
  await page.fill('#opt-epochs', '2');
  await page.click('#train');
  await page.waitForSelector('#metrics p', { timeout: 60000 });
  assert.match(await page.$eval('#metrics', (e) => e.textContent), /1000 genes × 400 cells/);
  assert.equal(await page.$eval('#error', (e) => e.hidden), true);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a gzip of several members (cat a.gz b.gz) is read whole; bytes after the gzip data are an error', async () => {
  const { page, errors } = await openPage();
  const text = fs.readFileSync(path.join(WEB, 'example/data.csv'));
  const cut = text.indexOf('\n', text.length >> 1) + 1;  // two members, split at a line
  const gz = Buffer.concat([zlib.gzipSync(text.subarray(0, cut)), zlib.gzipSync(text.subarray(cut))]);
  await page.setInputFiles('#data-file', { name: 'data.csv.gz', mimeType: 'application/gzip', buffer: gz });
  await page.fill('#opt-epochs', '1');
  await page.click('#train');
  await page.waitForSelector('#metrics p', { timeout: 60000 });
  assert.match(await page.$eval('#metrics', (e) => e.textContent), /1000 genes × 400 cells/);
  // Zero bytes after the data are padding, as natively and in Node.
  const padded = Buffer.concat([zlib.gzipSync(text), Buffer.alloc(16)]);
  await page.setInputFiles('#data-file', { name: 'padded.csv.gz', mimeType: 'application/gzip', buffer: padded });
  await page.$eval('#metrics', (e) => { e.textContent = ''; });  // the first run's table is not this one's
  await page.click('#train');
  await page.waitForSelector('#metrics p', { timeout: 60000 });
  assert.equal(await page.$eval('#error', (e) => e.hidden), true);
  // Trailing bytes that are no gzip member: refused, not dropped.
  const junk = Buffer.concat([zlib.gzipSync(text), Buffer.from('trailing junk')]);
  await page.setInputFiles('#data-file', { name: 'junk.csv.gz', mimeType: 'application/gzip', buffer: junk });
  await page.click('#train');
  await page.waitForSelector('#error:not([hidden])', { timeout: 60000 });
  assert.match(await page.$eval('#error', (e) => e.textContent), /junk\.csv\.gz: damaged gzip data, or bytes after it that are not gzip/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a file the page cannot shape by itself names the setting; choosing it there reads the file', async () => {
  const { page, errors } = await openPage();
  // Line 1 of distinct numbers: a header or data? Then the rows, 40 genes of counts.
  let text = '3,7,12,20\n';
  for (let g = 0; g < 40; g++) text += `${g % 5},${(g * 3) % 7},${g % 2},${(g + 1) % 4}\n`;
  await page.setInputFiles('#data-file', { name: 'nohead.csv', mimeType: 'text/csv', buffer: Buffer.from(text) });
  await page.fill('#opt-epochs', '1');
  await page.click('#train');
  await page.waitForSelector('#error:not([hidden])', { timeout: 60000 });
  assert.match(await page.$eval('#error', (e) => e.textContent), /nohead\.csv: line 1 holds only distinct numbers.*--header yes or --header no/);
  await page.selectOption('#header', 'no');
  await page.click('#train');
  await page.waitForSelector('#metrics p', { timeout: 60000 });
  assert.match(await page.$eval('#metrics', (e) => e.textContent), /41 genes × 4 cells/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-result')]);
  const lines = fs.readFileSync(await download.path(), 'utf8').trim().split('\n');
  assert.equal(lines.length, 41);  // written back without a header, as it came
  assert.deepEqual(errors, []);
  await page.close();
});

test('no page of these tests requested anything outside its own origin', () => {
  assert.ok(requests.length > 0);
  assert.deepEqual(foreign(requests, env.origin), []);
});
