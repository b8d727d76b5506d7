#!/usr/bin/env node
// The WebAssembly build from a terminal, with the native CLI's contract for `impute`:
//   node wasm/zimpute-node.mjs impute --data D --out R [--truth T] [--metrics M] [--option value ...]
//   node wasm/zimpute-node.mjs simulate --out D [--truth-out T] [--genes N] [--cells N] [--seed S]
// Progress goes to stderr, one line per epoch; the last stdout line is RESULT_JSON {...}.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { loadZimpute } from './load-node.mjs';

const FILE_KEYS = new Set(['data', 'out', 'truth', 'metrics', 'save', 'model', 'pi', 'mu', 'theta', 'latent', 'truth-out']);
const SIM_KEYS = new Set(['genes', 'cells', 'groups', 'zero-fraction', 'seed']);

function parseArgs(argv) {
  const args = { command: argv[0], values: {}, flags: new Set() };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}'`);
    const key = a.slice(2);
    if (key === 'cells-in-rows' || key === 'genes-in-rows' || key === 'quiet') { args.flags.add(key); continue; }
    if (i + 1 >= argv.length) throw new UsageError(`--${key} needs a value`);
    args.values[key] = argv[++i];
  }
  return args;
}

class UsageError extends Error {}

// The wasm module has no zlib: .gz input is inflated here (recognised by its magic bytes).
function readInput(file) {
  const bytes = fs.readFileSync(file);
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes;
}

// Write through a temporary file and a rename: a failure never leaves a partial file.
// `write(put)` calls put() with each piece (a matrix's text arrives in ~1 MB chunks).
function writeTemp(file, write) {
  const tmp = `${file}.zimpute-tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    write((piece) => fs.writeSync(fd, piece));
  } finally {
    fs.closeSync(fd);
  }
  return tmp;
}

function writeAtomic(files) {
  const temps = files.map(([f, bytes]) => [writeTemp(f, (put) => put(bytes)), f]);
  for (const [tmp, f] of temps) fs.renameSync(tmp, f);
}

function need(args, key) {
  if (!(key in args.values)) throw new UsageError(`'${args.command}' needs --${key}`);
  return args.values[key];
}

async function impute(Z, args) {
  const options = {};
  for (const [k, v] of Object.entries(args.values)) if (!FILE_KEYS.has(k)) options[k] = v;
  const dataPath = need(args, 'data');
  const outPath = need(args, 'out');
  const session = new Z.Session(options);
  try {
    const t0 = performance.now();
    const orientation = args.flags.has('cells-in-rows') ? 'cells' : args.flags.has('genes-in-rows') ? 'genes' : 'auto';
    const info = session.loadData(readInput(dataPath), path.basename(dataPath), orientation);
    const parseSeconds = (performance.now() - t0) / 1000;
    let training = null;
    for (const w of info.warnings) process.stderr.write(`zimpute: warning: ${dataPath}: ${w}\n`);
    if (args.values.truth) session.loadTruth(readInput(args.values.truth), path.basename(args.values.truth));
    if (args.values.model) {
      session.loadModel(fs.readFileSync(args.values.model), path.basename(args.values.model));
    } else {
      const start = session.startTraining();
      process.stderr.write(`zimpute: training on ${start.trainCells} cells (${start.validationCells} for validation), ${info.genes} genes\n`);
      let status;
      do {
        status = session.step(1000);
        for (const r of status.reports) {
          if (args.flags.has('quiet') && !r.event) continue;
          const val = r.valLoss === null ? 'nan' : r.valLoss.toFixed(5);
          process.stderr.write(`epoch ${r.epoch}/${status.epochs}  train ${r.trainLoss.toFixed(5)}  val ${val}  ` +
            `lr ${r.learningRate.toPrecision(3)}  ${r.seconds.toFixed(3)} s${r.event ? `  [${r.event}]` : ''}\n`);
        }
      } while (!status.done);
      training = status;
    }
    session.impute();
    // Every output goes to a temporary file first; all are renamed only once all were written.
    const files = [[outPath, 'result']];
    for (const m of ['pi', 'mu', 'theta', 'latent']) if (args.values[m]) files.push([args.values[m], m]);
    if (args.values.save) files.push([args.values.save, 'model']);
    const report = session.report();
    const temps = [];
    try {
      for (const [f, which] of files) temps.push([writeTemp(f, (put) => session.writeOutput(which, put)), f]);
      if (args.values.metrics) temps.push([writeTemp(args.values.metrics, (put) => put(report + '\n')), args.values.metrics]);
      for (const [tmp, f] of temps) fs.renameSync(tmp, f);
      temps.length = 0;
    } finally {
      for (const [tmp] of temps) fs.rmSync(tmp, { force: true });
    }
    const result = { parse_seconds: parseSeconds };
    if (training) {
      result.train_seconds = training.trainSeconds;
      result.epochs = training.epoch;
      if (training.epoch > 0) result.sec_per_epoch = training.trainSeconds / training.epoch;
    }
    if (session.hasTruth()) result.metrics = JSON.parse(report);
    // The wasm heap only grows, so its size now is its peak (bench/bench.py reads it).
    result.wasm_heap_mb = Z.HEAP8.length / 2 ** 20;
    process.stdout.write(`RESULT_JSON ${JSON.stringify(result)}\n`);
  } finally {
    session.delete();
  }
}

function simulate(Z, args) {
  const o = {};
  for (const k of SIM_KEYS) if (k in args.values) o[k === 'zero-fraction' ? 'zeroFraction' : k] = Number(args.values[k]);
  const sim = Z.simulate(o);
  const files = [[need(args, 'out'), sim.data]];
  if (args.values['truth-out']) files.push([args.values['truth-out'], sim.truth]);
  writeAtomic(files);
  process.stdout.write(`RESULT_JSON ${JSON.stringify({ genes: o.genes ?? 1000, cells: o.cells ?? 600 })}\n`);
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const Z = await loadZimpute({ threads: args.values.threads ?? 0 });
  if (args.command === 'impute') return impute(Z, args);
  if (args.command === 'simulate') return simulate(Z, args);
  throw new UsageError(`unknown command '${args.command ?? ''}' (impute or simulate)`);
}

main().catch((e) => {
  process.stderr.write(`zimpute: ${e instanceof UsageError ? '' : 'error: '}${e.message}\n`);
  process.exitCode = e instanceof UsageError ? 2 : 1;
});
