// The pictures after every run (section 4): the cell map observed beside imputed, the heatmap of
// the genes that tell the groups apart, imputed vs true on true dropouts (with a truth), and the "what
// happened" line; each picture downloads as PNG. The worker computes their data (request
// `pictures`, core/pictures.hpp); this module only draws.
import { $, showError, saveBytes } from './dom.js';
import { scatter, chartPng, destroy, hasChart } from './plot-lib.js';
import { drawHeatmap } from './heatmap.js';
import { whatHappened } from './teaching.js';

const CHARTS = ['map-observed', 'map-imputed', 'truth-plot'];
let last = null;  // the pictures drawn, to redraw the heatmap at a new width

// Hides the pictures of an earlier run (a new one is starting).
export function hidePictures() {
  $('pictures').hidden = true;
  for (const id of CHARTS) destroy($(id));
  last = null;
}

function drawMaps(p) {
  const names = p.groupNames;
  $('map-groups').textContent = p.groupSource
    ? `Colour: the file's column '${p.groupSource}' (${names.length} groups).`
    : `Colour: ${names.length} clusters of the imputed cells (k-means on their first 10 principal components, ` +
      'the number of clusters chosen by silhouette), since the file has no group column.';
  for (const [id, which, xs, ys] of [['map-observed', 'observed', p.mapObservedX, p.mapObservedY],
    ['map-imputed', 'imputed', p.mapImputedX, p.mapImputedY]]) {
    scatter($(id), {
      xs, ys, groups: p.group, names, xLabel: 'PC1', yLabel: 'PC2', height: 320,
      title: `Cells, ${which} counts: PCA of log1p(normalized counts)`,
      label: `Map of ${p.cells} cells by the first two principal components of the ${which} counts, coloured by group`,
    });
  }
}

function drawTruth(p) {
  const figure = $('fig-truth');
  figure.hidden = !p.truthTrue;
  if (!p.truthTrue) return;
  scatter($('truth-plot'), {
    xs: p.truthTrue, ys: p.truthImputed, names: ['true dropouts'], diagonal: true, height: 320,
    xLabel: 'log1p(true count)', yLabel: 'log1p(imputed)',
    title: `Imputed vs true on ${p.truthTrue.length} true dropouts (sampled)`,
    label: `Imputed against true counts on ${p.truthTrue.length} true dropouts, log scale, with the line y = x`,
  });
}

// Asks the worker for the last run's pictures and draws them; a failure shows in the error box
// and leaves the pictures hidden.
export async function showPictures(client) {
  try {
    const { pictures: p } = await client.request('pictures');
    last = p;
    $('pictures').hidden = false;  // first: the charts take their box's width
    $('what-happened').textContent = whatHappened(p.counts);
    drawMaps(p);
    drawHeatmap($('heatmap'), p);
    drawTruth(p);
  } catch (e) {
    showError(`The pictures could not be made: ${e.message}`);
  }
}

export function initPicturesPanel() {
  for (const b of document.querySelectorAll('[data-download-png]')) {
    b.onclick = async () => {
      const id = b.dataset.downloadPng, box = $(id);
      const blob = box instanceof HTMLCanvasElement
        ? await new Promise((resolve) => box.toBlob(resolve, 'image/png'))
        : hasChart(box) ? await chartPng(box) : null;
      if (blob) saveBytes(blob, `${id}.png`, 'image/png');
      else showError('Nothing to download yet.');
    };
  }
  // The heatmap is a plain canvas: redraw it when its box changes width (uPlot charts resize themselves).
  let width = 0;
  new ResizeObserver(() => {
    const w = $('heatmap').parentElement.clientWidth;
    if (last && Math.abs(w - width) > 4) drawHeatmap($('heatmap'), last);
    width = w;
  }).observe($('pictures'));
}
