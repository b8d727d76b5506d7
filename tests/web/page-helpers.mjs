// What the browser tests share: a server and Chromium, a page opened as a person opens it (errors
// and CSP violations collected, every worker message recorded), the one-final-reply check, the
// axe-core audit, and whether a chart drew anything.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../../web/dev-server.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const WEB = path.resolve(HERE, '../../web');
export const OUT = path.join(HERE, 'output');
fs.mkdirSync(OUT, { recursive: true });

// The page's side of the protocol names the final replies (web/ has no package.json: see worker.test.mjs).
export const { FINAL_REPLIES } = await import(
  `data:text/javascript,${encodeURIComponent(fs.readFileSync(path.join(WEB, 'worker-client.js'), 'utf8'))}`);

// Runs in the page before its scripts: records every message the page sends to a worker and every
// message a worker sends back ({id, type}), so a test can check each request got one final reply.
export function recordWorkerMessages() {
  const log = { sent: [], received: [] };
  window.__workerLog = log;
  const Native = window.Worker;
  window.Worker = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => log.received.push({ id: e.data?.id, type: e.data?.type }));
    }

    postMessage(msg, transfer) {
      log.sent.push({ id: msg?.id, type: msg?.type });
      return super.postMessage(msg, transfer);
    }
  };
}

// Every request the page sent got exactly one final reply, last, and nothing came unasked
// (waits up to 10 s for replies still on their way).
export async function assertOneReplyEach(page) {
  const settled = () => page.evaluate(() => window.__workerLog);
  let log;
  for (let t = 0; t < 100; t++) {
    log = await settled();
    const answered = (id) => log.received.some((m) => m.id === id && m.type !== 'progress' && m.type !== 'loaded');
    if (log.sent.every((m) => answered(m.id))) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(log.sent.length > 0);
  for (const req of log.sent) {
    const replies = log.received.filter((m) => m.id === req.id);
    const finals = replies.filter((m) => FINAL_REPLIES.has(m.type));
    assert.equal(finals.length, 1, `request ${req.id} (${req.type}): replies ${replies.map((m) => m.type)}`);
    assert.equal(replies[replies.length - 1], finals[0], `request ${req.id} (${req.type}): the final reply comes last`);
  }
  assert.ok(log.received.every((m) => log.sent.some((r) => r.id === m.id)), 'no reply without a request');
  return log;
}

// The dev server on a free port and headless Chromium: {server, browser, origin}.
export async function launch() {
  const server = await startServer(0);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--no-first-run', '--disable-sync'],
  });
  return { server, browser, origin: `http://127.0.0.1:${server.address().port}` };
}

// The dev server and Chromium for one test file, started before its tests and closed after them:
// {origin, requests, openPage()}; requests collects every URL any of its pages asked for.
export function browserForFile() {
  const env = { requests: [] };
  env.openPage = () => openPage(env.browser, env.origin, env.requests);
  before(async () => { Object.assign(env, await launch()); });
  after(async () => {
    await env.browser?.close();
    env.server?.close();
  });
  return env;
}

// A new page at origin, its settings form built: {page, errors}. requests collects every URL it asks for.
export async function openPage(browser, origin, requests) {
  const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1100, height: 900 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // Something the page's CSP blocked (an inline style a library sets, say) is an error too.
  page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text()); });
  page.on('request', (r) => requests.push(r.url()));
  await page.addInitScript(recordWorkerMessages);
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => document.querySelectorAll('#settings select, #settings input').length > 10);
  return { page, errors };
}

// The requests that left the page's origin (none may).
export const foreign = (requests, origin) => requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));

// axe-core (pinned in package-lock.json) run in the page: the serious and critical violations.
const AXE = fs.readFileSync(path.join(HERE, 'node_modules/axe-core/axe.min.js'), 'utf8');
export async function seriousViolations(page) {
  // Evaluated through the debugging protocol, which the page's CSP (scripts from its own files only) does not govern.
  await page.evaluate(AXE);
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`));
  return violations;
}

// Whether an element drew anything: its canvases have pixels that are not white or transparent.
export const inked = (page, selector) => page.$eval(selector, (el) => {
  let n = 0;
  for (const c of el instanceof HTMLCanvasElement ? [el] : el.querySelectorAll('canvas')) {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 200 || d[i + 1] < 200 || d[i + 2] < 200)) n++;
  }
  return n;
});

export async function downloadPng(page, id) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-download-png="${id}"]`)]);
  assert.equal(dl.suggestedFilename(), `${id}.png`);
  const bytes = fs.readFileSync(await dl.path());
  assert.equal(bytes.subarray(1, 4).toString('latin1'), 'PNG', `${id}.png is a PNG`);
  assert.ok(bytes.length > 2000, `${id}.png has a picture (${bytes.length} bytes)`);
  await dl.saveAs(path.join(OUT, `download-${id}.png`));  // to look at
}

