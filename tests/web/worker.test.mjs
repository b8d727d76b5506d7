// The worker protocol (web/worker.js, described at its top), with the page's client
// (web/worker-client.js): every request gets exactly one final reply, events come only before it,
// cancel is answered whether or not a job runs, and the cancelled job still ends with its own
// done {cancelled: true}. The worker runs in a Node worker thread with the few browser globals it
// uses (self, importScripts, postMessage, onmessage) shimmed; it loads the single-thread build.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WEB = path.resolve(HERE, '../../web');

// web/ has no package.json (wasm/load-node.mjs require()s web/zimpute.js), so Node would read
// worker-client.js as CommonJS: import its source as a module instead. It imports nothing.
const { WorkerClient, FINAL_REPLIES, EVENTS } = await import(
  `data:text/javascript,${encodeURIComponent(fs.readFileSync(path.join(WEB, 'worker-client.js'), 'utf8'))}`);

// A dedicated worker's scope, as far as worker.js needs one. Emscripten sees Node (process) and
// loads the wasm through require, which a script run in this context finds as a global.
const BOOT = `
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm'), fs = require('node:fs'), path = require('node:path'), url = require('node:url');
globalThis.self = globalThis;
globalThis.require = require;
globalThis.__dirname = workerData.web;
self.location = new URL(url.pathToFileURL(path.join(workerData.web, 'worker.js')).href);
self.importScripts = (...names) => {
  for (const n of names) vm.runInThisContext(fs.readFileSync(path.join(workerData.web, n), 'utf8'), { filename: n });
};
self.postMessage = (msg, transfer) => parentPort.postMessage(msg, transfer);
parentPort.on('message', (data) => self.onmessage({ data }));
vm.runInThisContext(fs.readFileSync(path.join(workerData.web, 'worker.js'), 'utf8'), { filename: 'worker.js' });
`;

// The Web Worker interface WorkerClient uses, over a Node worker thread; it records every
// request sent and every reply received.
class TestWorker {
  constructor() {
    this.sent = [];
    this.received = [];
    this.thread = new Worker(BOOT, { eval: true, workerData: { web: WEB } });
    this.thread.on('message', (data) => {
      this.received.push(data);
      this.onmessage?.({ data });
    });
    this.thread.on('error', (e) => this.onerror?.(e));
  }

  postMessage(msg, transfer) {
    this.sent.push(msg);
    this.thread.postMessage(msg, transfer);
  }
}

let worker, client;
const problems = [];

// A promise that fails after ms instead of waiting forever (a request without a reply).
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no final reply to ${what} within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const ask = (type, body = {}, onEvent = null, ms = 30000) => within(client.request(type, body, onEvent), ms, type);

before(async () => {
  worker = new TestWorker();
  client = new WorkerClient(worker, { onProblem: (m) => problems.push(m) });
});

after(async () => {
  await worker?.thread.terminate();
});

test('init answers ready with the option docs and their choices', async () => {
  const ready = await ask('init', {}, null, 60000);
  assert.equal(ready.type, 'ready');
  assert.equal(ready.build, 'single');
  assert.equal(ready.threads, 1);
  const docs = Object.fromEntries(ready.optionDocs.map((d) => [d.key, d]));
  assert.deepEqual(docs.batchnorm.choices, ['true', 'false']);
  assert.ok(docs.optimizer.choices.includes('rmsprop'));
  assert.deepEqual(docs.epochs.choices, []);
  for (const d of ready.optionDocs) if (d.choices.length) assert.ok(d.choices.includes(d.default), d.key);
});

test('cancel with nothing running is answered: cancelled {running: false}', async () => {
  const r = await ask('cancel', {}, null, 5000);
  assert.equal(r.type, 'cancelled');
  assert.equal(r.running, false);
});

test('unknown or missing types and impossible requests answer error', async () => {
  await assert.rejects(ask('frobnicate', {}, null, 5000), /unknown request 'frobnicate'/);
  await assert.rejects(ask(undefined, {}, null, 5000), /unknown request/);
  await assert.rejects(ask('output', { which: 'result' }, null, 5000), /nothing has been computed yet/);
  await assert.rejects(ask('pictures', {}, null, 5000), /nothing has been computed yet/);
  const s = await ask('settings', { options: { preset: 'course' } });
  assert.equal(s.settings['size-factors'], 'median');
  await assert.rejects(ask('settings', { options: { preset: 'fast' } }), /fast/);
});

let data, truth;

test('a cancelled run: cancel is answered cancelled {running: true}, the run ends with done {cancelled: true}', async () => {
  const sim = await ask('simulate', { options: { genes: 200, cells: 120, seed: 3 } });
  assert.equal(sim.type, 'simulated');
  data = { name: 'data.csv', bytes: sim.data };
  truth = { name: 'truth.csv', bytes: sim.truth };
  const events = [];
  let trained;
  const epochOne = new Promise((resolve) => { trained = resolve; });
  const run = ask('run', { data, truth, options: { epochs: '300', patience: '300' } }, (msg) => {
    events.push(msg.type);
    if (msg.type === 'progress' && msg.status.epoch >= 1) trained();
  }, 120000);
  await within(epochOne, 60000, 'the first epoch');
  await assert.rejects(ask('run', { data, options: {} }, null, 5000), /already running/);
  await assert.rejects(ask('pictures', {}, null, 5000), /a job is running/);
  const cancel = await ask('cancel', {}, null, 5000);
  assert.equal(cancel.type, 'cancelled');
  assert.equal(cancel.running, true);
  const done = await run;
  assert.equal(done.type, 'done');
  assert.equal(done.cancelled, true);
  assert.equal(done.report.stop_reason, 'cancelled');
  assert.ok(done.report.epochs >= 1 && done.report.epochs < 300, `${done.report.epochs} epochs`);
  assert.equal(events[0], 'loaded');
  assert.ok(events.slice(1).every((t) => t === 'progress'));
  const out = await ask('output', { which: 'result' });
  assert.ok(out.bytes.byteLength > 1000);
});

test('pictures after a run: the cell map, heatmap, truth pairs and counts, as transferred typed arrays', async () => {
  const r = await ask('pictures');
  assert.equal(r.type, 'pictures');
  const p = r.pictures;
  assert.equal(p.cells, 120);
  for (const k of ['mapObservedX', 'mapObservedY', 'mapImputedX', 'mapImputedY']) {
    assert.ok(p[k] instanceof Float32Array, k);
    assert.equal(p[k].length, 120, k);
    assert.ok(p[k].every(Number.isFinite), k);
  }
  assert.ok(p.group instanceof Int32Array && p.group.length === 120);
  // No label column: clusters of the imputed cells (k in 2..6), every one used.
  assert.equal(p.groupSource, null);
  assert.ok(p.groupNames.length >= 2 && p.groupNames.length <= 6);
  assert.deepEqual([...new Set(p.group)].sort(), p.groupNames.map((_, k) => k));
  assert.equal(p.heatGenes.length, 30);
  assert.equal(p.heatObserved.length, 30 * p.heatCells.length);
  assert.equal(p.heatImputed.length, p.heatObserved.length);
  assert.equal(p.heatGroup.length, p.heatCells.length);
  assert.ok(p.truthTrue.length > 0 && p.truthTrue.length === p.truthImputed.length);
  const c = p.counts;
  assert.equal(c.entries, 200 * 120);
  assert.ok(c.zeros > 0 && c.zeros < c.entries);
  assert.ok(c.filled <= c.zeros && c.filledOne <= c.filled && c.unsure <= c.zeros && c.trueDropouts <= c.zeros);
});

test('a cancel sent right after the run request stops it before the first epoch', async () => {
  const run = ask('run', { data, options: { epochs: '300' } }, null, 60000);
  const cancel = ask('cancel', {}, null, 5000);
  assert.equal((await cancel).running, true);
  const done = await run;
  assert.equal(done.cancelled, true);
  assert.equal(done.report, null);
});

test('a calibrated run reports calibrating progress, then training, and its report says what was chosen', async () => {
  const phases = [];
  const lines = [];
  const done = await ask('run', { data, truth, options: { epochs: '3', calibrate: 'true' } }, (msg) => {
    if (msg.type !== 'progress') return;
    if (msg.status.start) lines.push(...msg.status.start.lines);
    if (msg.status.phase) phases.push(msg.status.phase);
    lines.push(...(msg.status.lines || []));
  }, 120000);
  assert.equal(done.cancelled, false);
  assert.ok(phases.indexOf('training') > phases.lastIndexOf('calibrating'), phases.join());
  assert.match(lines[0], /^zimpute: calibrating on the data/);
  assert.ok(lines.some((l) => /calibration chose the (default|dca) training/.test(l)), lines.join('\n'));
  assert.match(lines[lines.length - 1], /^zimpute: training on/);
  assert.equal(done.report.calibration.trials.length, 6);
  assert.equal(done.report.settings.calibrate, 'true');
});

test('a calibrated run cancelled before its first step ends with done {cancelled: true}', async () => {
  const run = ask('run', { data, options: { epochs: '300', calibrate: 'true' } }, null, 60000);
  assert.equal((await ask('cancel', {}, null, 5000)).running, true);
  const done = await run;
  assert.equal(done.cancelled, true);
  assert.equal(done.report, null);
});

test('an ensemble run reports each member, and the model cannot be saved', async () => {
  const seen = new Set();
  const done = await ask('run', { data, options: { epochs: '2', ensemble: '2' } }, (msg) => {
    if (msg.type === 'progress' && msg.status.members) seen.add(`${msg.status.member}/${msg.status.members}`);
  }, 120000);
  assert.equal(done.cancelled, false);
  assert.deepEqual([...seen].sort(), ['0/2', '1/2']);
  assert.deepEqual(done.report.member_epochs, [2, 2]);
  await assert.rejects(ask('output', { which: 'model' }), /a model file holds one network/);
  const out = await ask('output', { which: 'result' });
  assert.ok(out.bytes.byteLength > 1000);
});

test('a run cancelled while calibrating ends with done {cancelled: true} and no report', async () => {
  let started;
  const calibrating = new Promise((resolve) => { started = resolve; });
  const run = ask('run', { data, options: { epochs: '300', patience: '300', calibrate: 'true' } }, (msg) => {
    if (msg.type === 'progress' && msg.status.phase === 'calibrating') started();
  }, 120000);
  await within(calibrating, 60000, 'calibrating progress');
  assert.equal((await ask('cancel', {}, null, 5000)).running, true);
  const done = await run;
  assert.equal(done.cancelled, true);
  assert.equal(done.report, null);
});

test('a cancelled experiment ends with done {cancelled: true}', async () => {
  let started;
  const progress = new Promise((resolve) => { started = resolve; });
  const ex = ask('experiment', { data, truth, options: { epochs: '300' }, fraction: 0.7 }, (msg) => {
    if (msg.type === 'progress') started();
  }, 120000);
  await within(progress, 60000, 'the experiment\'s first progress');
  assert.equal((await ask('cancel', {}, null, 5000)).running, true);
  const done = await ex;
  assert.equal(done.cancelled, true);
  assert.equal(done.experiment.cancelled, true);
});

test('every request got exactly one final reply, and no event after it', async () => {
  await new Promise((resolve) => setTimeout(resolve, 300));  // anything late would arrive now
  assert.deepEqual(problems, []);
  assert.equal(client.waiting, 0);
  const sentIds = worker.sent.map((m) => m.id);
  assert.equal(new Set(sentIds).size, sentIds.length, 'request ids are unique');
  for (const id of sentIds) {
    const replies = worker.received.filter((m) => m.id === id);
    const finals = replies.filter((m) => FINAL_REPLIES.has(m.type));
    assert.equal(finals.length, 1, `request ${id} (${worker.sent.find((m) => m.id === id).type}): ${replies.map((m) => m.type)}`);
    assert.equal(replies[replies.length - 1], finals[0], `request ${id}: the final reply comes last`);
    assert.ok(replies.every((m) => FINAL_REPLIES.has(m.type) || EVENTS.has(m.type)), `request ${id}: only known reply types`);
  }
  assert.ok(worker.received.every((m) => sentIds.includes(m.id)), 'no reply without a request');
  assert.ok(worker.sent.filter((m) => m.type === 'cancel').length >= 4);
});
