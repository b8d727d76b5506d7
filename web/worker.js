// zimpute worker: owns the WebAssembly session so the page never blocks.
//
// Protocol. Every request (page -> worker) is {id, type, ...} with an id the page chose; every
// reply (worker -> page) is {id, type, ...} with the id of the request it answers. A request gets
// zero or more *events* (loaded, progress) and then exactly one *final* reply; nothing follows it.
//   init                                  -> ready {optionDocs, threads, build}: optionDocs as
//                                            Module.optionDocs() (key, default, help, choices);
//                                            threads is the most a batch can use; build is
//                                            'threads' (zimpute-mt.js) or 'single' (zimpute.js)
//   simulate {options}                    -> simulated {data, truth}            (ArrayBuffers)
//   settings {options}                    -> settings {settings}   (a preset's values, as text)
//   run {data, truth?, model?, options, layout?: {orientation: auto|genes|cells, header, rowNames:
//       auto|yes|no}} (how CSV/TSV data and truth are read; missing = auto)
//       data/truth/model are {name, bytes: ArrayBuffer}; data may instead be {name, trio: {mtx,
//       features, barcodes}} (a 10x matrix); with a model the data is imputed without training.
//                                         -> loaded {info, settings}, progress {status}...,
//                                            done {report, cancelled} (report null when cancelled
//                                            before the first epoch ended)
//   experiment {data, truth, options, fraction, layout?}
//                                         -> progress {status}..., done {experiment}: the course
//                                            experiment's rows, tables and plot samples
//   cancel                                -> cancelled {running}: running is whether a run or
//                                            experiment was going; that job then ends after its
//                                            current slice with its own done {cancelled: true}
//   output {which: result|pi|mu|theta|latent|model} -> output {which, bytes}   (ArrayBuffer)
//   pictures                              -> pictures {pictures}: after a run, what the page draws
//                                            (core/pictures.hpp via Session.pictures()): the cell
//                                            map (mapObservedX/Y, mapImputedX/Y, group,
//                                            groupNames, groupSource: the label column or null for
//                                            clusters of the imputed cells), the heatmap (heatGenes,
//                                            heatCells, heatObserved, heatImputed: genes x cells,
//                                            column-major, heatGroup), truthTrue/truthImputed
//                                            (null without a truth) and counts {entries, zeros,
//                                            filled, filledOne, unsure, trueDropouts?}; typed
//                                            arrays, their buffers transferred
// One run or experiment at a time: another one meanwhile is refused. A failure, an unknown type or
// a message without a type answers error {message} as the final reply for that id. Buffers are
// transferred, never shared views.
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

// An event (loaded, progress) for request id; its final reply is what the handler returns.
function event(id, type, body = {}) {
  self.postMessage({ id, type, ...body });
}

// A final reply: [type, body, transfer].
const final = (type, body = {}, transfer = []) => [type, body, transfer];

const yieldToMessages = () => new Promise((resolve) => setTimeout(resolve, 0));

// One gzip member, inflated by the browser itself; null if it does not inflate to its end.
async function inflateMember(bytes) {
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    return null;
  }
}

// The member from start to the end of the file; zero bytes after it are padding, which gzip and
// zlib accept (the native reader and the Node entry too), so it may end up to 8 bytes (its CRC and
// size, which may end in zeros) after the last non-zero byte.
async function lastMember(bytes, start) {
  const whole = await inflateMember(bytes.subarray(start));
  if (whole) return whole;
  let z = bytes.length;
  while (z > start && bytes[z - 1] === 0) z--;
  for (let end = z; end < bytes.length && end <= z + 8; end++) {
    const out = await inflateMember(bytes.subarray(start, end));
    if (out) return out;
  }
  return null;
}

// .csv.gz / .tsv.gz, recognised by the gzip magic bytes, read whole when it has several members
// (cat a.gz b.gz, bgzip's blocks), as natively. DecompressionStream fails at the end of the first
// member, so members are found by trying: the whole file first (one member, the usual case), then
// each next gzip header (1f 8b 08) in turn as this member's end; a cut inside a member does not
// inflate, the true end does. Each member is inflated about once (never the whole rest of the
// file per member: bgzip's thousands of blocks would make that quadratic). Bytes that are no
// member are an error, never dropped.
async function gunzipIfNeeded(file) {
  const bytes = new Uint8Array(file.bytes);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  const parts = [];
  for (let start = 0; start < bytes.length;) {
    let out = start === 0 ? await inflateMember(bytes) : null;
    let end = bytes.length;
    for (let c = start + 18; !out && c + 2 < bytes.length; c++) {  // 18 bytes: the smallest member
      if (bytes[c] !== 0x1f || bytes[c + 1] !== 0x8b || bytes[c + 2] !== 0x08) continue;
      out = await inflateMember(bytes.subarray(start, c));
      if (out) end = c;
    }
    if (!out) out = await lastMember(bytes, start);
    if (!out) {
      // Which one cannot be told without parsing deflate: a truncated member and trailing bytes
      // both end the browser's stream with the same error.
      throw new Error(`${file.name}: damaged gzip data, or bytes after it that are not gzip${start ? ` (from offset ${start})` : ''}`);
    }
    parts.push(out);
    start = end;
  }
  if (parts.length === 1) return parts[0];
  const whole = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { whole.set(p, at); at += p.length; }
  return whole;
}

async function run(id, msg) {
  const Z = await zimpute();
  if (session) session.delete();
  session = null;
  const s = new Z.Session(msg.options || {});
  session = s;
  const d = msg.data;
  const info = d.trio  // a 10x matrix.mtx with its features/genes and barcodes files
    ? s.loadMtx(await gunzipIfNeeded(d.trio.mtx), await gunzipIfNeeded(d.trio.features), await gunzipIfNeeded(d.trio.barcodes),
      d.trio.mtx.name, d.trio.features.name, d.trio.barcodes.name)
    : s.loadData(await gunzipIfNeeded(d), d.name, msg.layout ?? 'auto');
  if (msg.truth) {
    const warnings = s.loadTruth(await gunzipIfNeeded(msg.truth), msg.truth.name, msg.layout ?? 'auto');
    info.warnings = [...info.warnings, ...warnings.map((w) => `${msg.truth.name}: ${w}`)];
  }
  event(id, 'loaded', { info, settings: s.settings() });
  let cancelled = false;
  if (msg.model) {
    s.loadModel(new Uint8Array(msg.model.bytes), msg.model.name);
  } else {
    const start = s.startTraining();
    event(id, 'progress', { status: { epoch: 0, epochs: start.epochs, fraction: 0, reports: [], done: false, start } });
    for (;;) {
      await yieldToMessages();  // lets a cancel message in (also one sent while the data loaded)
      if (cancelRequested) s.cancel();
      const status = s.step(SLICE_MS);
      event(id, 'progress', { status });
      if (status.done) {
        cancelled = status.stopReason === 'cancelled';
        // Cancelled while calibrating or in the first epoch: no model to impute with.
        if (cancelled && (status.phase === 'calibrating' || (status.epoch === 0 && !status.member))) {
          return final('done', { cancelled: true, report: null });
        }
        break;
      }
    }
  }
  s.impute();
  return final('done', { cancelled, report: JSON.parse(s.report()) });
}

async function experiment(id, msg) {
  if (msg.data.trio) throw new Error('The course experiment reads a CSV/TSV matrix with its truth; a 10x matrix can be imputed with Train.');
  const Z = await zimpute();
  const e = new Z.Experiment(await gunzipIfNeeded(msg.data), msg.data.name, await gunzipIfNeeded(msg.truth),
    msg.truth.name, { settings: msg.options || {}, fraction: msg.fraction ?? 0.7, layout: msg.layout ?? 'auto' });
  try {
    for (;;) {
      await yieldToMessages();
      if (cancelRequested) e.cancel();
      const status = e.step(SLICE_MS);
      event(id, 'progress', { status });
      if (status.done) break;
    }
    const best = e.best();
    const plots = best >= 0 ? e.plots() : null;
    const transfer = plots ? Object.values(plots).filter((v) => v instanceof Float32Array).map((v) => v.buffer) : [];
    const cancelled = cancelRequested;
    return final('done', {
      cancelled,
      experiment: { metrics: JSON.parse(e.metrics()), best, markdown: e.table('md'), csv: e.table('csv'), plots, cancelled },
    }, transfer);
  } finally {
    e.delete();
  }
}

// One run or experiment at a time (a second run would delete the session in use).
async function job(id, msg) {
  if (busy) throw new Error('a job is already running; cancel it first');
  busy = true;
  cancelRequested = false;  // here, not after an await: a cancel sent right after the job counts
  try {
    return await (msg.type === 'run' ? run(id, msg) : experiment(id, msg));
  } finally {
    busy = false;
  }
}

// The handler of each request type returns its final reply.
const handlers = {
  async init() {
    const Z = await zimpute();
    return final('ready', { optionDocs: Z.optionDocs(), threads: THREADS ? Z.maxThreads() : 1, build: THREADS ? 'threads' : 'single' });
  },
  async simulate(id, msg) {
    const Z = await zimpute();
    const sim = Z.simulate(msg.options || {});
    return final('simulated', { data: sim.data.buffer, truth: sim.truth.buffer }, [sim.data.buffer, sim.truth.buffer]);
  },
  async settings(id, msg) {
    const Z = await zimpute();
    const s = new Z.Session(msg.options || {});
    try {
      return final('settings', { settings: s.settings() });
    } finally {
      s.delete();
    }
  },
  run: job,
  experiment: job,
  cancel() {
    if (busy) cancelRequested = true;
    return final('cancelled', { running: busy });
  },
  pictures() {
    // Between a run's slices the session is half-made: only a finished run has pictures.
    if (busy) throw new Error('a job is running; pictures come after it');
    if (!session) throw new Error('nothing has been computed yet');
    const pictures = session.pictures();
    const transfer = Object.values(pictures).filter((v) => ArrayBuffer.isView(v)).map((v) => v.buffer);
    return final('pictures', { pictures }, transfer);
  },
  output(id, msg) {
    if (!session) throw new Error('nothing has been computed yet');
    const bytes = session.output(msg.which);
    return final('output', { which: msg.which, bytes: bytes.buffer }, [bytes.buffer]);
  },
};

self.onmessage = async (message) => {
  const msg = message.data;
  const id = msg?.id;
  let answer;
  try {
    const handler = typeof msg?.type === 'string' && Object.hasOwn(handlers, msg.type) ? handlers[msg.type] : null;
    if (!handler) throw new Error(`unknown request '${msg?.type}'`);
    answer = await handler(id, msg);
  } catch (e) {
    answer = final('error', { message: e instanceof Error ? e.message : String(e) });
  }
  const [type, body, transfer] = answer;
  try {
    self.postMessage({ id, type, ...body }, transfer);
  } catch (e) {  // a reply that cannot be cloned: the request still gets its one answer
    self.postMessage({ id, type: 'error', message: `the worker could not send its reply: ${e.message}` });
  }
};
