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

// The wasm module has no zlib: .gz input is inflated here (recognised by its magic bytes), every
// member of it (Node's gunzip reads concatenated members, as the native reader does).
function readInput(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return zlib.gunzipSync(bytes);
  } catch (e) {  // zlib's words alone ('incorrect header check') would not name the file
    throw new Error(`${file}: damaged gzip data, or bytes after it that are not gzip (${e.message})`);
  }
}

// The same checks as core/output_file.cpp's check_output_paths, before any work: two outputs
// on one file, an output on an input, an output that is a directory or in a missing or
// read-only directory.
function sameFile(a, b) {
  try {
    const sa = fs.statSync(a), sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return path.resolve(a) === path.resolve(b);
  }
}

function checkOutputPaths(outputs, inputs) {
  const quoted = ([option, file]) => `--${option} '${file}'`;
  outputs.forEach((o, i) => {
    const [option, file] = o;
    for (const p of outputs.slice(0, i))
      if (sameFile(p[1], file)) throw new Error(`--${p[0]} and --${option} name the same file '${file}': give each output its own file`);
    for (const p of inputs)
      if (sameFile(p[1], file)) throw new Error(`${quoted(o)} is the input --${p[0]}: writing it would destroy the input; choose another output file`);
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (st?.isDirectory()) throw new Error(`${quoted(o)} is a directory, not a file`);
    const dir = path.dirname(file);
    if (!fs.statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new Error(`${quoted(o)}: the directory '${dir}' does not exist`);
    if (!(st && !st.isFile())) {
      try {
        fs.accessSync(dir, fs.constants.W_OK);
      } catch (e) {
        throw new Error(`${quoted(o)}: the directory '${dir}' cannot be written (${e.code})`);
      }
    }
  });
}

// While temporary files exist, SIGINT/SIGTERM remove them and end the process. Node runs such a
// handler only once the synchronous writing returns (the outputs are then whole, or removed by
// writeAll), so the handlers are in place only then: before, a signal ends the process at once.
const liveTemps = new Set();
const onSignal = (sig) => {
  for (const tmp of liveTemps) fs.rmSync(tmp, { force: true });
  process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
};

// Writes every byte of a piece (writeSync may write fewer bytes than asked, as on a filling disk).
function writeFully(fd, piece) {
  const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
  for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, bytes.length - done);
}

// Every file goes to a temporary file of its own beside it first (`write(put)` calls put() with
// each piece); all are renamed only once all were written, so a failure never leaves a partial
// set and the old files stay as they were. A device or pipe is written in place, and first: a
// pipe nobody reads blocks the writer, and then no temporary file is waiting beside a result.
function writeAll(files) {
  const temps = [];
  // A link (such as /dev/stdout) is written where it points: a rename would replace the link.
  const target = (file) => {
    if (!fs.lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink()) return file;
    try {
      return fs.realpathSync(file);
    } catch {
      return path.resolve(path.dirname(file), fs.readlinkSync(file));  // a link to a file not yet made
    }
  };
  const resolved = files.map(([file, write]) => [target(file), write]);
  const inPlace = (file) => fs.statSync(file, { throwIfNoEntry: false })?.isFile() === false;
  const ordered = [...resolved.filter(([f]) => inPlace(f)), ...resolved.filter(([f]) => !inPlace(f))];
  let guarded = false;
  try {
    for (const [file, write] of ordered) {
      const st = fs.statSync(file, { throwIfNoEntry: false });
      const direct = st && !st.isFile();
      if (!direct && !guarded) {
        for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, onSignal);
        guarded = true;
      }
      const into = direct ? file : `${file}.zimpute-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
      if (!direct) {
        temps.push([into, file]);
        liveTemps.add(into);
      }
      const fd = fs.openSync(into, direct ? 'w' : 'wx', st ? st.mode & 0o7777 : 0o666);
      try {
        write((piece) => writeFully(fd, piece));
      } finally {
        fs.closeSync(fd);
      }
    }
    for (const [tmp, file] of temps) fs.renameSync(tmp, file);
    temps.length = 0;
  } finally {
    for (const [tmp] of temps) fs.rmSync(tmp, { force: true });
    liveTemps.clear();
    // Removed on the next turn, so a signal that came during the writing is still handled.
    if (guarded) setImmediate(() => { for (const sig of ['SIGINT', 'SIGTERM']) process.off(sig, onSignal); });
  }
}

const say = (line) => { if (line) process.stderr.write(`${line}\n`); };

// Between slices of training the event loop runs (the page's worker does the same).
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

async function train(session, quiet, Z) {
  for (const line of session.startTraining().lines) say(line);  // calibration's or the training's
  let status;
  do {
    status = session.step(250);
    for (const r of status.reports) say(Z.progressLine(r, status.epochs, quiet));
    for (const line of status.lines) say(line);
    await nextTurn();
  } while (!status.done);
  say(session.recoveryLine());
}

// impute, train, apply: the steps of cli/main.cpp's run_session.
async function runSession(Z, cmd) {
  const { data, truth, model } = cmd.options;
  if ((fs.existsSync(data) && fs.statSync(data).isDirectory()) || /\.mtx(\.gz)?$/.test(data))
    throw new Error(`${data}: 10x input is read by the native zimpute (or the page); the Node entry reads CSV/TSV`);
  const session = new Z.Session(cmd.settings);
  try {
    const bytes = readInput(data);
    const t0 = performance.now();
    const info = session.loadData(bytes, path.basename(data), cmd.layout);
    const parseSeconds = (performance.now() - t0) / 1000;
    for (const w of info.warnings) say(Z.warningLine(data, w));
    if (truth) for (const w of session.loadTruth(readInput(truth), path.basename(truth), cmd.layout)) say(Z.warningLine(truth, w));
    if (model) session.loadModel(fs.readFileSync(model), path.basename(model));
    else await train(session, cmd.quiet, Z);
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
    return;
  }
  if (!SESSION_COMMANDS.has(cmd.name) && cmd.name !== 'simulate')
    throw Object.assign(new Error(`'${cmd.name}' runs in the native zimpute only (the Node entry runs impute, train, apply and simulate)`),
      { name: 'UsageError' });
  checkOutputPaths(cmd.outputFiles, cmd.inputs);
  if (cmd.name === 'simulate') simulate(Z, cmd);
  else await runSession(Z, cmd);
}

main().catch((e) => {
  const usage = e.name === 'UsageError';
  process.stderr.write(`zimpute: ${usage ? '' : 'error: '}${e.message}\n`);
  process.exitCode = usage ? 2 : 1;
});
