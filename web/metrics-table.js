// The results panel's summary line and the course's metric table (#metrics-table) for a report.

const METRIC_ROWS = [
  ['zero_num', 'zero count (observed zeros)'], ['true_dropout_num', 'true dropouts (zero observed, non-zero true)'],
  ['predict_dropout_num', 'predicted dropouts (zero observed, imputed non-zero)'], ['recall', 'recall'],
  ['precision', 'precision'], ['predict_distance', 'predict distance ‖true − imputed‖'],
  ['origin_distance', 'origin distance ‖true − observed‖'], ['distance_ratio', 'predict / origin distance'],
  ['zero_distance_ratio', 'the same ratio on observed zeros'], ['dropout_log_pearson', 'Pearson r of log1p on true dropouts'],
  ['mean_gene_correlation', 'mean per-gene correlation'], ['mean_cell_correlation', 'mean per-cell correlation'],
];

// Replaces box's content with report's summary and, when it has metrics (a truth was given),
// their table; else a hint to add a truth file.
export function showMetrics(box, report) {
  box.textContent = '';
  const summary = document.createElement('p');
  summary.textContent = `${report.genes} genes × ${report.cells} cells` +
    (report.epochs !== undefined ? ` · ${report.epochs} epochs (${report.stop_reason.replace('_', ' ')}) in ${report.train_seconds.toFixed(1)} s` : ' · imputed with a saved model') +
    (report.recoveries ? ` · recovered from ${report.recoveries} divergence(s)` : '');
  box.append(summary);
  if (report.zero_num === undefined) {
    const p = document.createElement('p');
    p.className = 'hint';
    p.textContent = 'Add a truth file to see the course metrics.';
    box.append(p);
    return;
  }
  const table = document.createElement('table');
  table.id = 'metrics-table';
  for (const [key, label] of METRIC_ROWS) {
    const tr = table.insertRow();
    tr.insertCell().textContent = label;
    const v = report[key];
    tr.insertCell().textContent = v === null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(4);
  }
  box.append(table);
}
