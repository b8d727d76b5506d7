// Node tests of the WebAssembly module: same results as the native build, errors as JS Errors,
// no memory growth across repeated sessions, and the Node entry's CLI contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { loadZimpute } from '../../wasm/load-node.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// ZIMPUTE_NATIVE: another native build to compare with (default build/zimpute).
const NATIVE = process.env.ZIMPUTE_NATIVE || path.join(ROOT, 'build/zimpute');
const NODE_ENTRY = path.join(ROOT, 'wasm/zimpute-node.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'zimpute-wasm-'));
const Z = await loadZimpute();

function parseCsv(text) {
  const lines = text.trim().split('\n');
  return { header: lines[0], rows: lines.slice(1).map((l) => l.split(',').map(Number)) };
}

test('the wasm build gives the native build\'s results on a small fixed input', () => {
  const data = path.join(tmp, 'd.csv');
  execFileSync(NATIVE, ['simulate', '--out', data, '--genes', '60', '--cells', '80', '--seed', '3']);
  const out = path.join(tmp, 'native.csv');
  const native = execFileSync(NATIVE, ['impute', '--data', data, '--out', out, '--epochs', '3'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(native.trim().split('\n').pop(), /^RESULT_JSON /);

  const s = new Z.Session({ epochs: 3 });
  try {
    s.loadData(fs.readFileSync(data), 'd.csv', false);
    s.startTraining();
    let status;
    const reports = [];
    do { status = s.step(1000); reports.push(...status.reports); } while (!status.done);
    assert.equal(reports.length, 3);
    s.impute();
    const joined = s.output('result');
    const wasm = parseCsv(new TextDecoder().decode(joined));
    const nat = parseCsv(fs.readFileSync(out, 'utf8'));
    // writeOutput streams the same bytes in chunks.
    const chunks = [];
    s.writeOutput('result', (c) => chunks.push(c));
    assert.ok(chunks.length >= 1 && chunks.every((c) => c instanceof Uint8Array));
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(joined));
    assert.equal(wasm.header, nat.header);
    assert.equal(wasm.rows.length, nat.rows.length);
    let diff = 0, norm = 0;
    for (let i = 0; i < nat.rows.length; i++)
      for (let j = 0; j < nat.rows[i].length; j++) {
        diff += (wasm.rows[i][j] - nat.rows[i][j]) ** 2;
        norm += nat.rows[i][j] ** 2;
      }
    // Float sums are ordered differently (AVX vs wasm SIMD); three epochs keep the drift tiny.
    assert.ok(Math.sqrt(diff / norm) < 1e-3, `relative difference ${Math.sqrt(diff / norm)}`);
  } finally {
    s.delete();
  }
});

test('the single-thread build and the threads build (2 threads) agree; both report errors', async () => {
  const single = await loadZimpute({ threads: 1 });
  assert.equal(single.threadsBuild, false);
  assert.equal(Z.threadsBuild, true, 'Node has SharedArrayBuffer: the default is the threads build');
  const data = path.join(tmp, 'st.csv');
  execFileSync(NATIVE, ['simulate', '--out', data, '--genes', '80', '--cells', '90', '--seed', '4']);
  const results = [];
  for (const [M, threads] of [[single, 1], [Z, 2]]) {
    const s = new M.Session({ epochs: 3, threads });
    try {
      s.loadData(fs.readFileSync(data), 'st.csv', false);
      s.startTraining();
      let status;
      do { status = s.step(1000); } while (!status.done);
      s.impute();
      results.push(parseCsv(new TextDecoder().decode(s.output('result'))).rows.flat());
      assert.throws(() => s.loadData(new TextEncoder().encode('a,b\n1,-1\n'), 'x.csv', false), /x.csv: line 2, column 2/);
    } finally {
      s.delete();
    }
  }
  let diff = 0, norm = 0;
  results[0].forEach((v, k) => { diff += (v - results[1][k]) ** 2; norm += v * v; });
  assert.ok(Math.sqrt(diff / norm) < 1e-3, `relative difference ${Math.sqrt(diff / norm)}`);
});

test('C++ errors reach JavaScript as Error with the core\'s message', () => {
  assert.throws(() => new Z.Session({ epoch: 3 }), (e) => e instanceof Error && /unknown option 'epoch'/.test(e.message));
  assert.throws(() => new Z.Session({ rule: 'best' }), /rule must be .*, not 'best'/);
  const s = new Z.Session({});
  try {
    assert.throws(() => s.loadData(new TextEncoder().encode('Cell1,Cell2,Cell3\n1,2,3\n4,5\n'), 'bad.csv', false),
      (e) => e instanceof Error && e.message === 'bad.csv: line 3: expected 3 fields (as in the header, comma-separated), found 2');
    assert.throws(() => s.loadData(new TextEncoder().encode('a,b\n1,-1\n'), 'neg.csv', false), /neg.csv: line 2, column 2: expected a non-negative count, found '-1'/);
    assert.throws(() => s.step(10), /startTraining/);
    assert.throws(() => s.output('result'), /no data loaded|nothing imputed/);
    s.loadData(new TextEncoder().encode('c1,c2\n1,2\n3,4\n'), 'ok.csv', false);
    assert.throws(() => s.loadTruth(new TextEncoder().encode('c1,c2\n1,2\n'), 't.csv'), /the truth file has 1 genes, the data has 2/);
    assert.throws(() => s.loadModel(new TextEncoder().encode('nope'), 'm.zim'), /m.zim: not a zimpute model file/);
  } finally {
    s.delete();
  }
});

test('bad-input corpus: the wasm module gives exactly the native messages', () => {
  const dir = path.join(ROOT, 'tests/data/bad');
  const cases = fs.readFileSync(path.join(dir, 'MANIFEST.tsv'), 'utf8').split('\n')
    .filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t'));
  assert.ok(cases.length >= 30);
  for (const [file, stage, expected] of cases) {
    const s = new Z.Session({});
    let outcome = 'no error';
    try {
      const bytes = fs.readFileSync(path.join(dir, file));
      if (stage === 'data' || stage === 'train' || stage === 'warning') {
        const info = s.loadData(bytes, file, false);
        if (stage === 'warning') outcome = info.warnings.includes(expected) ? expected : `warnings: ${info.warnings.join('; ')}`;
        if (stage === 'train') s.startTraining();
      } else if (stage === 'mtx') {
        s.loadMtx(bytes, new Uint8Array(), new Uint8Array(), file, 'features.tsv', 'barcodes.tsv');
      } else {
        const base = stage.slice(stage.indexOf(':') + 1);
        s.loadData(fs.readFileSync(path.join(dir, base)), base, false);
        if (stage.startsWith('truth:')) s.loadTruth(bytes, file);
        else s.loadModel(bytes, file);
      }
    } catch (e) {
      assert.ok(e instanceof Error, `${file}: a JS Error`);
      outcome = e.message;
    } finally {
      s.delete();
    }
    assert.equal(outcome, expected, file);
  }
});

test('gzip: the Node entry inflates .gz input; the module itself refuses raw gzip with a message', () => {
  const data = path.join(tmp, 'g.csv');
  execFileSync(NATIVE, ['simulate', '--out', data, '--genes', '40', '--cells', '50', '--seed', '5']);
  fs.writeFileSync(`${data}.gz`, zlib.gzipSync(fs.readFileSync(data)));
  const out = path.join(tmp, 'g_out.csv');
  const run = spawnSync('node', [NODE_ENTRY, 'impute', '--data', `${data}.gz`, '--out', out, '--epochs', '1'], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.equal(fs.readFileSync(out, 'utf8').split('\n')[0], fs.readFileSync(data, 'utf8').split('\n')[0]);
  // Two members (cut at a line) give the same result as one; bytes after the gzip data are an
  // error naming the file, in both drivers.
  const text = fs.readFileSync(data);
  const cut = text.indexOf('\n', text.length >> 1) + 1;
  fs.writeFileSync(`${data}.2.gz`, Buffer.concat([zlib.gzipSync(text.subarray(0, cut)), zlib.gzipSync(text.subarray(cut))]));
  const two = spawnSync('node', [NODE_ENTRY, 'impute', '--data', `${data}.2.gz`, '--out', `${out}.2`, '--epochs', '1'], { encoding: 'utf8' });
  assert.equal(two.status, 0, two.stderr);
  assert.equal(fs.readFileSync(`${out}.2`, 'utf8'), fs.readFileSync(out, 'utf8'));
  fs.writeFileSync(`${data}.junk.gz`, Buffer.concat([zlib.gzipSync(text), Buffer.from('junk')]));
  for (const entry of [[NATIVE], ['node', NODE_ENTRY]]) {
    const bad = spawnSync(entry[0], [...entry.slice(1), 'impute', '--data', `${data}.junk.gz`, '--out', `${out}.3`], { encoding: 'utf8' });
    assert.equal(bad.status, 1, bad.stderr);
    assert.match(bad.stderr, /g\.csv\.junk\.gz: (unexpected bytes after the gzip data|damaged gzip data, or bytes after it that are not gzip)/);
    assert.equal(fs.existsSync(`${out}.3`), false);
  }
  const s = new Z.Session({});
  try {
    assert.throws(() => s.loadData(fs.readFileSync(`${data}.gz`), 'g.csv.gz', false),
      /g.csv.gz: gzip-compressed input; this build cannot decompress it \(decompress the file first\)/);
  } finally {
    s.delete();
  }
});

test('repeated sessions do not grow memory (nothing leaks per session)', () => {
  const sim = Z.simulate({ genes: 500, cells: 300, seed: 2 });
  const once = () => {
    const s = new Z.Session({ epochs: 1 });
    s.loadData(sim.data, 'sim.csv', false);
    s.loadTruth(sim.truth, 'truth.csv');
    s.startTraining();
    while (!s.step(1000).done);
    s.impute();
    s.output('result');
    s.output('model');
    JSON.parse(s.report());
    s.delete();
  };
  // The heap grows in steps and never shrinks. After the tests before this one, the free space can
  // be cut up so that one session's matrices need one more step: once (a fragmented heap settles),
  // not again. A leak grows it window after window: one session holds ~10 MB here, so a leaked
  // session per run would grow the heap past 100 MB in each window.
  for (let i = 0; i < 3; i++) once();
  const warm = Z.HEAPU8.buffer.byteLength;
  for (let i = 0; i < 12; i++) once();
  const settled = Z.HEAPU8.buffer.byteLength;
  assert.ok(settled - warm <= 2 ** 20 * 4, `the heap grew ${(settled - warm) / 2 ** 20} MB in 12 sessions`);
  for (let i = 0; i < 12; i++) once();
  assert.equal(Z.HEAPU8.buffer.byteLength, settled);
});

test('the Node entry keeps the CLI contract: RESULT_JSON last, errors one line, no partial output', () => {
  const data = path.join(tmp, 'e.csv');
  execFileSync(NATIVE, ['simulate', '--out', data, '--genes', '50', '--cells', '60', '--seed', '4']);
  const out = path.join(tmp, 'e_out.csv');
  const ok = spawnSync('node', [NODE_ENTRY, 'impute', '--data', data, '--out', out, '--epochs', '2'], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  const last = ok.stdout.trim().split('\n').pop();
  assert.match(last, /^RESULT_JSON /);
  const result = JSON.parse(last.slice('RESULT_JSON '.length));
  assert.equal(result.epochs, 2);
  assert.ok(result.sec_per_epoch > 0);
  assert.equal((ok.stderr.match(/^epoch /gm) || []).length, 2);
  assert.equal(fs.readFileSync(out, 'utf8').split('\n')[0], fs.readFileSync(data, 'utf8').split('\n')[0]);

  const bad = path.join(tmp, 'bad.csv');
  fs.writeFileSync(bad, 'Cell1,Cell2\n1,x\n2,3\n');
  const badOut = path.join(tmp, 'bad_out.csv');
  const err = spawnSync('node', [NODE_ENTRY, 'impute', '--data', bad, '--out', badOut], { encoding: 'utf8' });
  assert.equal(err.status, 1);
  assert.equal(err.stderr, "zimpute: error: bad.csv: line 2, column 2: expected a non-negative number, found 'x'\n");
  assert.ok(!fs.existsSync(badOut));
});

// The same command line natively and in Node: what each prints and writes.
function both(args) {
  const run = (cmd, argv) => {
    const r = spawnSync(cmd, argv, { encoding: 'utf8' });
    const last = r.stdout.trim().split('\n').pop() || '';
    return { status: r.status, stdout: r.stdout, stderr: r.stderr,
      result: last.startsWith('RESULT_JSON ') ? JSON.parse(last.slice('RESULT_JSON '.length)) : null };
  };
  return { native: run(NATIVE, args), node: run('node', [NODE_ENTRY, ...args]) };
}

// Numbers in a progress line differ by float rounding between the builds; the words may not.
const shape = (text) => text.replace(/-?\d+(\.\d+)?(e[-+]?\d+)?/g, '#');

function closeTo(a, b, what, tolerance) {
  if (typeof a !== 'number' || typeof b !== 'number') return assert.equal(a, b, what);
  assert.ok(Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(a)), `${what}: native ${a}, node ${b}`);
}

test('one command contract: the native CLI and the Node entry give the same RESULT_JSON, lines and errors', () => {
  const sim = ['simulate', '--genes', '50', '--cells', '70', '--seed', '8', '--zero-fraction=0.5'];
  const s = both([...sim, '--out', path.join(tmp, 'c.csv'), '--truth-out', path.join(tmp, 'ct.csv')]);
  const sn = both([...sim, '--out', path.join(tmp, 'cn.csv')]);
  assert.equal(s.native.status, 0, s.native.stderr);
  assert.equal(sn.node.status, 0, sn.node.stderr);
  assert.deepEqual(Object.keys(sn.node.result), ['genes', 'cells', 'zero_fraction', 'seconds']);
  assert.deepEqual(Object.keys(sn.node.result), Object.keys(s.native.result));
  for (const k of ['genes', 'cells', 'zero_fraction']) assert.equal(sn.node.result[k], s.native.result[k], k);
  assert.equal(fs.readFileSync(path.join(tmp, 'cn.csv'), 'utf8'), fs.readFileSync(path.join(tmp, 'c.csv'), 'utf8'));

  const data = path.join(tmp, 'c.csv');
  const run = (out) => ['impute', '--data', data, '--truth', path.join(tmp, 'ct.csv'), `--out=${out}.csv`,
    '--metrics', `${out}.json`, '--epochs', '3', '--threads', '1', '--seed=7', '--batch-size', '16'];
  const native = both(run(path.join(tmp, 'cx'))).native;
  const node = both(run(path.join(tmp, 'cy'))).node;
  assert.equal(native.status, 0, native.stderr);
  assert.equal(node.status, 0, node.stderr);
  const keys = ['parse_seconds', 'train_seconds', 'epochs', 'recoveries', 'sec_per_epoch', 'genes', 'genes_imputed', 'metrics'];
  assert.deepEqual(Object.keys(native.result), keys);
  // The Node entry adds one number of its own: the wasm heap's peak (bench/bench.py reads it).
  assert.deepEqual(Object.keys(node.result), [...keys.slice(0, 7), 'wasm_heap_mb', 'metrics']);
  assert.equal(node.result.genes_imputed, native.result.genes_imputed);
  assert.equal(node.result.epochs, 3);
  assert.equal(node.result.epochs, native.result.epochs);
  assert.equal(node.result.recoveries, native.result.recoveries);
  assert.deepEqual(Object.keys(node.result.metrics), Object.keys(native.result.metrics));
  // Float sums are ordered differently (AVX vs wasm SIMD): the course's metrics agree closely,
  // the last epoch's losses (of a model three epochs old, still moving fast) less so.
  for (const [k, v] of Object.entries(native.result.metrics)) {
    if (k === 'settings') assert.deepEqual(node.result.metrics.settings, v);
    else if (k !== 'train_seconds') closeTo(v, node.result.metrics[k], `metrics.${k}`, k.startsWith('final_') ? 0.05 : 1e-3);
  }
  const file = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));
  assert.deepEqual(Object.keys(file(path.join(tmp, 'cy.json'))), Object.keys(file(path.join(tmp, 'cx.json'))));
  assert.equal(shape(node.stderr), shape(native.stderr));
  assert.equal((node.stderr.match(/^epoch \d+\/3 {2}train /gm) || []).length, 3);

  // Mistakes: the same one line and exit code from both.
  for (const [args, code] of [
    [['impute', '--out', 'x.csv'], 2],
    [['impute', '--data', data, '--out', 'x.csv', '--model', 'm.zim'], 2],
    [['apply', '--model', 'm.zim', '--data', data, '--out', 'x.csv', '--epochs', '3'], 2],
    [['simulate', '--out', 'x.csv', '--genes', 'many'], 2],
    [['impute', '--data', data, '--out', 'x.csv', '--epoch', '3'], 1],
    [['frobnicate'], 2],
    [[], 2],
  ]) {
    const r = both(args);
    assert.equal(r.node.status, code, `${args.join(' ')}: ${r.node.stderr}`);
    assert.equal(r.native.status, code, args.join(' '));
    assert.equal(r.node.stderr, r.native.stderr, args.join(' '));
    assert.equal(r.node.stdout, r.native.stdout, args.join(' '));
  }
  const help = both(['--help']);
  assert.equal(help.node.status, 0);
  assert.equal(help.node.stdout, help.native.stdout);
});

test('--calibrate: both drivers print the same calibration lines in order and report what was tried', () => {
  // c.csv: the contract test's simulation (50 genes x 70 cells).
  const args = ['impute', '--data', path.join(tmp, 'c.csv'), '--out', path.join(tmp, 'cal.csv'), '--calibrate', 'true',
    '--epochs', '3', '--threads', '1', '--quiet'];
  const { native, node } = both(args);
  assert.equal(native.status, 0, native.stderr);
  assert.equal(node.status, 0, node.stderr);
  const lines = (r) => r.stderr.trim().split('\n').map((l) => l.replace(/^zimpute: /, '').replace(/ chose .*/, ' chose').split(/[:(;]/)[0]);
  assert.deepEqual(lines(node), [
    'calibrating on the data ', 'calibration candidate 1/2', 'calibration', 'calibration candidate 2/2', 'calibration',
    'calibration chose', 'training on 63 cells ']);
  assert.deepEqual(lines(node), lines(native));
  for (const r of [native, node]) {
    const c = r.result.calibration;
    assert.deepEqual(c.trials.map((t) => `${t.candidate}/${t.rule}`),
      ['default/posterior', 'default/mean', 'default/course', 'dca/posterior', 'dca/mean', 'dca/course']);
    const best = Math.min(...c.trials.map((t) => t.score));
    assert.equal(c.chosen.score, best);
    assert.ok(r.result.calibration_seconds > 0);
    assert.equal(r.result.epochs, 3);
  }
  assert.equal(node.result.calibration.held_out, native.result.calibration.held_out);
  // Without --quiet every epoch of each candidate and of the final training is printed, in order.
  const loud = both(args.filter((a) => a !== '--quiet'));
  for (const r of [loud.native, loud.node]) {
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stderr.match(/^epoch \d+/gm), ['epoch 1', 'epoch 2', 'epoch 3', 'epoch 1', 'epoch 2', 'epoch 3', 'epoch 1', 'epoch 2', 'epoch 3']);
  }
});

test('--ensemble: both drivers train each member in turn with the same lines and report every member', () => {
  const args = ['impute', '--data', path.join(tmp, 'c.csv'), '--out', path.join(tmp, 'ens.csv'), '--ensemble', '3',
    '--epochs', '2', '--threads', '1', '--quiet'];
  const { native, node } = both(args);
  assert.equal(native.status, 0, native.stderr);
  assert.equal(node.status, 0, node.stderr);
  assert.equal(node.stderr, native.stderr);  // no numbers but the seeds, which agree
  assert.deepEqual(node.stderr.trim().split('\n').slice(1),
    ['zimpute: ensemble member 1/3 (seed 42)', 'zimpute: ensemble member 2/3 (seed 43)', 'zimpute: ensemble member 3/3 (seed 44)']);
  for (const r of [native, node]) {
    assert.deepEqual(r.result.member_epochs, [2, 2, 2]);
    assert.equal(r.result.epochs, 6);
  }
  const save = both(['train', '--data', path.join(tmp, 'c.csv'), '--save', path.join(tmp, 'ens.zim'), '--ensemble', '2']);
  assert.equal(save.node.status, 2);
  assert.equal(save.node.stderr, save.native.stderr);
  assert.ok(!fs.existsSync(path.join(tmp, 'ens.zim')));
});

test('the Node entry trains, saves and applies a model like the native CLI', () => {
  const data = path.join(tmp, 'c.csv');
  const model = path.join(tmp, 'cn.zim');
  const trained = spawnSync('node', [NODE_ENTRY, 'train', '--data', data, '--save', model, '--epochs', '2', '--quiet'],
    { encoding: 'utf8' });
  assert.equal(trained.status, 0, trained.stderr);
  assert.doesNotMatch(trained.stderr, /^epoch /m, '--quiet');
  const out = path.join(tmp, 'ca.csv');
  const applied = both(['apply', '--model', model, '--data', data, '--out', out, '--threads', '1']);
  assert.equal(applied.node.status, 0, applied.node.stderr);
  assert.equal(applied.native.status, 0, applied.native.stderr);
  assert.equal(applied.node.result.epochs, 0);
  assert.deepEqual(Object.keys(applied.node.result).filter((k) => k !== 'wasm_heap_mb'), Object.keys(applied.native.result));
});

test('Experiment: bytes in, rows, table, best, metrics and plots out; its errors arrive as JS Error', () => {
  const sim = Z.simulate({ genes: 60, cells: 50, zeroFraction: 0.5, seed: 3 });
  const e = new Z.Experiment(sim.data, 'd.csv', sim.truth.buffer, 't.csv', { settings: { epochs: 2, threads: 1 }, fraction: 0.7 });
  try {
    let status;
    const rows = [];
    do { status = e.step(0); rows.push(...status.rows); } while (!status.done);
    assert.equal(rows.length, 6);
    assert.equal(rows[0].history.length, 2);
    const best = e.best();
    assert.ok(best >= 0 && best < 6);
    assert.equal(JSON.parse(e.metrics()).length, 6);
    assert.match(e.table('md'), /\(best\)\*\*/);
    assert.equal(e.table('csv').trim().split('\n').length, 7);
    const plots = e.plots();
    assert.ok(plots.dropoutTruth instanceof Float32Array && plots.dropoutTruth.length > 0);
    assert.equal(plots.heatObserved.length, plots.heatGenes * plots.heatCells);
    assert.throws(() => e.table('html'), (err) => err instanceof Error && /table format must be md or csv/.test(err.message));
  } finally {
    e.delete();
  }
  assert.throws(() => new Z.Experiment(sim.data, 'd.csv', new Uint8Array(), 't.csv', { settings: {} }),
    (err) => err instanceof Error && /t.csv/.test(err.message));
  assert.throws(() => Z.parseCommand(['impute', '--out', 'x']), (err) => err.name === 'UsageError' && err.message === "'impute' needs --data");
});
