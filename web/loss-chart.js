// The training panel's loss chart (uPlot, through plot-lib.js): training and validation loss per
// epoch, updated live as epochs end, on a log scale when every value is positive (the first
// epochs' loss is often 10x the rest and would flatten the curve on a linear one).
import { chart, destroy } from './plot-lib.js';

const finite = (v) => (v !== null && Number.isFinite(v) ? v : null);

export class LossChart {
  constructor(box) {
    this.box = box;
    this.log = null;  // the scale the chart was made with
    this.u = null;
    this.update([]);
  }

  // reports: [{trainLoss, valLoss|null}], every epoch so far.
  update(reports) {
    const epochs = reports.map((_, i) => i + 1);
    const train = reports.map((r) => finite(r.trainLoss)), val = reports.map((r) => finite(r.valLoss));
    const all = [...train, ...val].filter((v) => v !== null);
    const log = all.every((v) => v > 0);
    const data = [epochs, train, val];
    if (!reports.length) {
      destroy(this.box);
      this.u = null;
      this.box.textContent = 'The loss per epoch appears here while the model trains.';
      return;
    }
    if (this.u && log === this.log) {
      this.u.setData(data);
      return;
    }
    this.log = log;
    const label = `training and validation loss per epoch${log ? ' (log scale)' : ''}`;
    this.u = chart(this.box, {
      series: [{ label: 'epoch' },
        { label: 'training loss', stroke: '#0072B2', width: 2 },
        { label: 'validation loss', stroke: '#D55E00', width: 2, dash: [6, 3] }],
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      // Whole epochs on the x axis (uPlot would also tick 2.5, 7.5, ...).
      axes: [{ label: 'epoch', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] },
        { label: log ? 'loss (log scale)' : 'loss' }],
    }, data, {
      height: 320, label, title: `Loss per epoch${log ? ' (log scale)' : ''}`,
      legend: [{ name: 'training loss', color: '#0072B2' }, { name: 'validation loss', color: '#D55E00' }],
    });
  }
}
