// The results panel's summary line and the course's metric table (#metrics-table) for a report,
// each metric explained in one line (teaching.js): as the row's title and in a <details> below.
import { METRIC_HELP } from './teaching.js';

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
  const help = document.createElement('details');
  help.id = 'metrics-help';
  const summaryLine = document.createElement('summary');
  summaryLine.textContent = 'What these numbers mean';
  const list = document.createElement('dl');
  help.append(summaryLine, list);
  for (const [key, label] of METRIC_ROWS) {
    const tr = table.insertRow();
    tr.title = METRIC_HELP[key];
    tr.insertCell().textContent = label;
    const v = report[key];
    tr.insertCell().textContent = v === null ? '—' : Number.isInteger(v) ? String(v) : v.toFixed(4);
    list.append(Object.assign(document.createElement('dt'), { textContent: label }),
      Object.assign(document.createElement('dd'), { textContent: METRIC_HELP[key] }));
  }
  box.append(table, help);
}
