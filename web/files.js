// Files the page reads: the size limit, and sorting picked or dropped files into data, truth,
// model and a 10x trio by their names.

// The wasm engine holds matrices densely in at most 4 GB; text above ~800 MB (about 150 million
// values) cannot fit with training's copies. Refused before reading, so the tab never runs out.
export const MAX_FILE_BYTES = 800 * 2 ** 20;

// Why file is too large for the page, or null.
export function tooLarge(file) {
  return file.size > MAX_FILE_BYTES
    ? `${file.name} is ${(file.size / 2 ** 30).toFixed(2)} GB; the page handles files up to about 800 MB ` +
      '(some 150 million values). Use the command-line zimpute for this file, or keep fewer genes or cells.'
    : null;
}

// How CSV/TSV files are laid out, from the page's three selects: the worker's `layout`.
export function fileLayout($) {
  return { orientation: $('orientation').value, header: $('header').value, rowNames: $('row-names').value };
}

// A File as the worker takes it: {name, bytes: ArrayBuffer}.
export async function readFile(file) {
  const problem = tooLarge(file);
  if (problem) throw new Error(problem);
  return { name: file.name, bytes: await file.arrayBuffer() };
}

// The kind of a file by its name: model (.zim), one of a 10x trio (matrix.mtx, features.tsv or
// genes.tsv, barcodes.tsv; each maybe .gz), truth ("true"/"truth" in the name), else data.
export function kindOf(name) {
  if (/\.zim$/i.test(name)) return 'model';
  if (/\.mtx(\.gz)?$/i.test(name)) return 'mtx';
  if (/(features|genes)\.tsv(\.gz)?$/i.test(name)) return 'features';
  if (/barcodes\.tsv(\.gz)?$/i.test(name)) return 'barcodes';
  if (/true|truth/i.test(name)) return 'truth';
  return 'data';
}

// Reads a list of Files into {data?, truth?, model?} (the worker's form; a 10x trio becomes data
// {name, trio: {mtx, features, barcodes}}), or {error} naming what is wrong. Nothing is read when
// any file is too large.
export async function sortFiles(list) {
  const big = [...list].find(tooLarge);
  if (big) return { error: tooLarge(big) };
  const out = {};
  const trio = {};
  for (const f of list) {
    const kind = kindOf(f.name);
    if (kind === 'mtx' || kind === 'features' || kind === 'barcodes') trio[kind] = await readFile(f);
    else out[kind] = await readFile(f);
  }
  if (trio.mtx || trio.features || trio.barcodes) {
    const missing = ['mtx', 'features', 'barcodes'].filter((k) => !trio[k]);
    if (missing.length)
      return { ...out, error: `A 10x matrix needs matrix.mtx, features.tsv (or genes.tsv) and barcodes.tsv together; missing: ${missing.join(', ')}.` };
    out.data = { name: trio.mtx.name, trio };
  }
  return out;
}
