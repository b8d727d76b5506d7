// zimpute worker: owns the WebAssembly session so the page never blocks.
//
// Requests (page -> worker), each {id, type, ...}:
//   init                                  -> ready {optionDocs, threads}: threads is the most a
//                                            batch can use (1 without the threads build)
//   simulate {options}                    -> simulated {data, truth}            (ArrayBuffers)
//   run {data, truth?, model?, options, orientation: auto|genes|cells}
//       data/truth/model are {name, bytes: ArrayBuffer}; data may instead be {name, trio: {mtx,
//       features, barcodes}} (a 10x matrix); with a model the data is imputed without training.                 -> loaded {info}, progress {status}..., done {report, cancelled}
//   settings {options}                    -> settings {settings}   (a preset's values, as text)
//   experiment {data, truth, options, fraction, orientation}
//                                         -> progress {status}..., done {experiment}: the course
//                                            experiment's rows, tables and plot samples
//   cancel                                -> the running job ends after the current slice
//   output {which: result|pi|mu|theta|latent|model} -> output {which, bytes}   (ArrayBuffer)
// Any failure answers error {message} for that id. Buffers are transferred, never shared views.
/* global importScripts, createZimpute */
'use strict';

// The threads build (zimpute-mt.js, Emscripten pthreads) needs SharedArrayBuffer, which browsers
// give only to cross-origin-isolated pages (COOP/COEP headers from the server, or coi-sw.js on a
// static host); anywhere else, or if it fails to load, the single-thread build runs.
let THREADS = self.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function';
if (THREADS) {
  try {
    importScripts('zimpute-mt.js');
  } catch (e) {
    THREADS = false;
  }
}
if (!THREADS) importScripts('zimpute.js');

const SLICE_MS = 100;  // training time between two progress messages (and cancel checks)
let modulePromise = null;
let session = null;
let cancelRequested = false;
let busy = false;  // one job at a time: a second run would delete the session in use

function zimpute() {
  // The pthread workers load the module's script again: tell it where it is (in a worker,
  // Emscripten 3.1.6 cannot find out by itself).
  if (!modulePromise)
    modulePromise = createZimpute(THREADS ? { mainScriptUrlOrBlob: new URL('zimpute-mt.js', self.location.href).href } : {});
  return modulePromise;
}

function reply(id, type, body = {}, transfer = []) {
  self.postMessage({ id, type, ...body }, transfer);
}

function fail(id, e) {
  reply(id, 'error', { message: e instanceof Error ? e.message : String(e) });
}

const yieldToMessages = () => new Promise((resolve) => setTimeout(resolve, 0));

// .csv.gz / .tsv.gz: recognised by the gzip magic bytes and inflated by the browser itself.
async function gunzipIfNeeded(file) {
  const bytes = new Uint8Array(file.bytes);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  try {
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new Error(`${file.name}: damaged gzip data (${e.message})`);
  }
}

async function run(id, msg) {
  const Z = await zimpute();
  if (session) session.delete();
  session = null;
  cancelRequested = false;
  const s = new Z.Session(msg.options || {});
  session = s;
  const d = msg.data;
  const info = d.trio  // a 10x matrix.mtx with its features/genes and barcodes files
    ? s.loadMtx(await gunzipIfNeeded(d.trio.mtx), await gunzipIfNeeded(d.trio.features), await gunzipIfNeeded(d.trio.barcodes),
      d.trio.mtx.name, d.trio.features.name, d.trio.barcodes.name)
    : s.loadData(await gunzipIfNeeded(d), d.name, msg.orientation || 'auto');
  if (msg.truth) s.loadTruth(await gunzipIfNeeded(msg.truth), msg.truth.name);
  reply(id, 'loaded', { info, settings: s.settings() });
  let cancelled = false;
  if (msg.model) {
    s.loadModel(new Uint8Array(msg.model.bytes), msg.model.name);
  } else {
    const start = s.startTraining();
    reply(id, 'progress', { status: { epoch: 0, epochs: start.epochs, fraction: 0, reports: [], done: false, start } });
    for (;;) {
      if (cancelRequested) s.cancel();
      const status = s.step(SLICE_MS);
      reply(id, 'progress', { status });
      if (status.done) {
        cancelled = status.stopReason === 'cancelled';
        if (cancelled && status.epoch === 0) {
          reply(id, 'done', { cancelled: true, report: null });
          return;
        }
        break;
      }
      await yieldToMessages();  // lets a cancel message in
    }
  }
  s.impute();
  reply(id, 'done', { cancelled, report: JSON.parse(s.report()) });
}

async function experiment(id, msg) {
  if (msg.data.trio) throw new Error('The course experiment reads a CSV/TSV matrix with its truth; a 10x matrix can be imputed with Train.');
  const Z = await zimpute();
  cancelRequested = false;
  const e = new Z.Experiment(await gunzipIfNeeded(msg.data), msg.data.name, await gunzipIfNeeded(msg.truth),
    msg.truth.name, { settings: msg.options || {}, fraction: msg.fraction ?? 0.7, orientation: msg.orientation || 'auto' });
  try {
    for (;;) {
      if (cancelRequested) e.cancel();
      const status = e.step(SLICE_MS);
      reply(id, 'progress', { status });
      if (status.done) break;
      await yieldToMessages();
    }
    const best = e.best();
    const plots = best >= 0 ? e.plots() : null;
    const transfer = plots ? Object.values(plots).filter((v) => v instanceof Float32Array).map((v) => v.buffer) : [];
    reply(id, 'done', {
      experiment: { metrics: JSON.parse(e.metrics()), best, markdown: e.table('md'), csv: e.table('csv'), plots,
        cancelled: cancelRequested },
    }, transfer);
  } finally {
    e.delete();
  }
}

self.onmessage = async (event) => {
  const msg = event.data;
  const { id } = msg;
  try {
    switch (msg.type) {
      case 'init': {
        const Z = await zimpute();
        reply(id, 'ready', { optionDocs: Z.optionDocs(), threads: THREADS ? Z.maxThreads() : 1 });
        break;
      }
      case 'simulate': {
        const Z = await zimpute();
        const sim = Z.simulate(msg.options || {});
        reply(id, 'simulated', { data: sim.data.buffer, truth: sim.truth.buffer }, [sim.data.buffer, sim.truth.buffer]);
        break;
      }
      case 'settings': {
        const Z = await zimpute();
        const s = new Z.Session(msg.options || {});
        try {
          reply(id, 'settings', { settings: s.settings() });
        } finally {
          s.delete();
        }
        break;
      }
      case 'run':
      case 'experiment':
        if (busy) throw new Error('a job is already running; cancel it first');
        busy = true;
        try {
          await (msg.type === 'run' ? run(id, msg) : experiment(id, msg));
        } finally {
          busy = false;
        }
        break;
      case 'cancel':
        cancelRequested = true;
        break;
      case 'output': {
        if (!session) throw new Error('nothing has been computed yet');
        const bytes = session.output(msg.which);
        reply(id, 'output', { which: msg.which, bytes: bytes.buffer }, [bytes.buffer]);
        break;
      }
      default:
        throw new Error(`unknown request '${msg.type}'`);
    }
  } catch (e) {
    fail(id, e);
  }
};
