#!/usr/bin/env node
// The WebAssembly build from a terminal: a thin driver of the native CLI's command contract
// (cli/command.hpp, bound in wasm/command_binding.cpp). Arguments, checks, settings, progress
// lines and RESULT_JSON come from the module; this file reads and writes files.
//   node wasm/zimpute-node.mjs impute --data D --out R [--truth T] [--metrics M] [--option value ...]
//   node wasm/zimpute-node.mjs train --data D --save model.zim [options]
//   node wasm/zimpute-node.mjs apply --model model.zim --data D --out R [--truth T] [--threads N]
//   node wasm/zimpute-node.mjs simulate --out D [--truth-out T] [--genes N] [--cells N] [--seed S]
// Progress goes to stderr, one line per epoch; the last stdout line is RESULT_JSON {...}.
// CSV/TSV input (gzipped or not); 10x input, evaluate, split and experiment: the native zimpute.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { loadZimpute } from './load-node.mjs';

const SESSION_COMMANDS = new Set(['impute', 'train', 'apply']);

// The one argument read before the module is loaded: --threads 1 picks the single-thread build.
function threadsArg(argv) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--threads') return argv[i + 1];
    if (argv[i].startsWith('--threads=')) return argv[i].slice('--threads='.length);
  }
  return 0;
}

// The wasm module has no zlib: .gz input is inflated here (recognised by its magic bytes).
function readInput(file) {
  const bytes = fs.readFileSync(file);
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b ? zlib.gunzipSync(bytes) : bytes;
}

// Every file goes to a temporary file first (`write(put)` calls put() with each piece); all are
// renamed only once all were written, so a failure never leaves a partial set.
function writeAll(files) {
  const temps = [];
  try {
    for (const [file, write] of files) {
      const tmp = `${file}.zimpute-tmp`;
      temps.push([tmp, file]);
      const fd = fs.openSync(tmp, 'w');
      try {
        write((piece) => fs.writeSync(fd, piece));
      } finally {
        fs.closeSync(fd);
      }
    }
    for (const [tmp, file] of temps) fs.renameSync(tmp, file);
    temps.length = 0;
  } finally {
    for (const [tmp] of temps) fs.rmSync(tmp, { force: true });
  }
}

const say = (line) => { if (line) process.stderr.write(`${line}\n`); };

function train(session, quiet, Z) {
  session.startTraining();
  say(session.trainingLine());
  let status;
  do {
    status = session.step(1000);
    for (const r of status.reports) say(Z.progressLine(r, status.epochs, quiet));
  } while (!status.done);
  say(session.recoveryLine());
}

// impute, train, apply: the steps of cli/main.cpp's run_session.
function runSession(Z, cmd) {
  const { data, truth, model } = cmd.options;
  if ((fs.existsSync(data) && fs.statSync(data).isDirectory()) || /\.mtx(\.gz)?$/.test(data))
    throw new Error(`${data}: 10x input is read by the native zimpute (or the page); the Node entry reads CSV/TSV`);
  const session = new Z.Session(cmd.settings);
  try {
    const bytes = readInput(data);
    const t0 = performance.now();
    const info = session.loadData(bytes, path.basename(data), cmd.orientation);
    const parseSeconds = (performance.now() - t0) / 1000;
    for (const w of info.warnings) say(Z.warningLine(data, w));
    if (truth) session.loadTruth(readInput(truth), path.basename(truth), cmd.orientation);
    if (model) session.loadModel(fs.readFileSync(model), path.basename(model));
    else train(session, cmd.quiet, Z);
    session.impute();
    writeAll(cmd.outputs.map(([file, what]) => [file, (put) => session.writeOutput(what, put)]));
    // The wasm heap only grows, so its size now is its peak (bench/bench.py reads it).
    const summary = session.summary(parseSeconds, { wasm_heap_mb: Z.HEAP8.length / 2 ** 20 });
    process.stdout.write(`RESULT_JSON ${summary}\n`);
  } finally {
    session.delete();
  }
}

function simulate(Z, cmd) {
  const run = Z.simulateCommand(cmd);
  writeAll(run.files.map(([file, bytes]) => [file, (put) => put(bytes)]));
  process.stdout.write(`RESULT_JSON ${run.summary}\n`);
}

async function main() {
  const argv = process.argv.slice(2);
  const Z = await loadZimpute({ threads: threadsArg(argv) });
  const cmd = Z.parseCommand(argv);
  if (cmd.help) {
    process.stdout.write(Z.usage());
    if (!cmd.name && !cmd.flags.includes('help')) process.exitCode = 2;
  } else if (SESSION_COMMANDS.has(cmd.name)) {
    runSession(Z, cmd);
  } else if (cmd.name === 'simulate') {
    simulate(Z, cmd);
  } else {
    throw Object.assign(new Error(`'${cmd.name}' runs in the native zimpute only (the Node entry runs impute, train, apply and simulate)`),
      { name: 'UsageError' });
  }
}

main().catch((e) => {
  const usage = e.name === 'UsageError';
  process.stderr.write(`zimpute: ${usage ? '' : 'error: '}${e.message}\n`);
  process.exitCode = usage ? 2 : 1;
});
