// The plain-words lines under the results: what the imputation did to the zeros, and what each of
// the course's metrics means (shown in a <details> under the metric table and as each row's title).

const n = (x) => Math.round(x).toLocaleString('en-US');
const pct = (part, whole) => `${whole ? ((100 * part) / whole).toFixed(1) : '0.0'}%`;

// counts: the worker's pictures.counts {entries, zeros, filled, filledOne, unsure, trueDropouts?}.
export function whatHappened(c) {
  const kept = c.zeros - c.filled;
  let text = `What happened: ${n(c.zeros)} of the ${n(c.entries)} entries (${pct(c.zeros, c.entries)}) were zeros. ` +
    `The model filled ${n(c.filled)} of them (${pct(c.filled, c.zeros)}) with a value above zero — ` +
    `${n(c.filledOne)} with 0.5 or more, a count of at least 1 when rounded — and kept ${n(kept)} at zero. `;
  text += c.unsure
    ? `It is unsure about ${n(c.unsure)} zeros (${pct(c.unsure, c.zeros)}): there its dropout probability π is between 0.4 and 0.6, ` +
      'so whether the gene was missed by the sequencing or really silent is close to a coin toss.'
    : 'It is sure about every zero: no dropout probability π is between 0.4 and 0.6.';
  if (c.trueDropouts !== undefined)
    text += ` The truth file says ${n(c.trueDropouts)} of the zeros (${pct(c.trueDropouts, c.zeros)}) were dropouts, genes that were expressed.`;
  return text;
}

// Each metric of the course's table in one line (keys as in metrics.json).
export const METRIC_HELP = {
  zero_num: 'Entries that are 0 in the observed data: dropouts and true zeros together.',
  true_dropout_num: 'Observed zeros where the truth has a count: the dropouts an imputation should fill.',
  predict_dropout_num: 'Observed zeros the method gave a value above zero: the zeros it filled.',
  recall: 'Of the true dropouts, the share the method filled (1 is best).',
  precision: 'Of the zeros the method filled, the share that were true dropouts (1 is best; filling true zeros lowers it).',
  predict_distance: 'Euclidean distance from the imputed matrix to the truth (smaller is better).',
  origin_distance: 'The same distance from the observed matrix: where the method started.',
  distance_ratio: 'Predict distance over origin distance: below 1, imputation moved the data toward the truth.',
  zero_distance_ratio: 'The same ratio counted on the observed zeros only, where imputation acts.',
  dropout_log_pearson: 'Correlation of log1p(imputed) with log1p(true) on true dropouts: do filled values follow the true ones (1 is best).',
  mean_gene_correlation: "Each gene's correlation of imputed with true counts across cells, averaged over genes.",
  mean_cell_correlation: "Each cell's correlation of imputed with true counts across genes, averaged over cells.",
};
