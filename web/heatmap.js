// The results' heatmap, drawn by hand on a canvas (a chart library gains nothing for a grid of
// coloured cells): the genes that best tell the groups apart (rows) over a sample of cells (columns, grouped as
// on the cell map), observed beside imputed, on one colour scale of log1p(count).
import { color } from './plot-lib.js';

// White -> dark blue for v in [0, 1] (readable in grey print too: darker is more).
function shade(v) {
  const t = Math.max(0, Math.min(1, v));
  return `rgb(${Math.round(255 - 247 * t)},${Math.round(255 - 207 * t)},${Math.round(255 - 148 * t)})`;
}

// p: the worker's pictures (heatGenes, heatCells, heatObserved, heatImputed, heatGroup,
// groupNames). Sizes the canvas to its CSS width so text stays sharp.
export function drawHeatmap(canvas, p) {
  const genes = p.heatGenes.length, cells = p.heatCells.length;
  const dpr = window.devicePixelRatio || 1;
  const cssWidth = Math.max(300, canvas.parentElement.clientWidth || 640);
  const nameWidth = cssWidth < 500 ? 58 : 86, gap = 10, top = 40, strip = 8, bottom = 46;
  const rowH = cssWidth < 500 ? 9 : 12;
  const cssHeight = top + strip + 4 + genes * rowH + bottom;
  canvas.width = Math.round(cssWidth * dpr);
  canvas.height = Math.round(cssHeight * dpr);
  canvas.style.height = `${cssHeight}px`;
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.fillStyle = '#fff';
  g.fillRect(0, 0, cssWidth, cssHeight);
  const max = Math.max(1e-9, ...p.heatObserved, ...p.heatImputed);
  const panelW = (cssWidth - nameWidth - gap - 8) / 2, cellW = panelW / Math.max(cells, 1);
  g.font = '13px system-ui, sans-serif';
  g.fillStyle = '#1f2328';
  g.fillText(`${genes} genes that tell the groups apart × ${cells} cells, log1p(count)`, 4, 15);
  g.font = '12px system-ui, sans-serif';
  [['observed', p.heatObserved], ['imputed', p.heatImputed]].forEach(([name, m], k) => {
    const x0 = nameWidth + k * (panelW + gap);
    g.fillStyle = '#1f2328';
    g.fillText(name, x0, top - 6);
    for (let j = 0; j < cells; j++) {
      g.fillStyle = color(p.heatGroup[j]);  // the cell's group, as on the map
      g.fillRect(x0 + j * cellW, top, cellW + 0.5, strip);
      for (let i = 0; i < genes; i++) {
        g.fillStyle = shade(m[j * genes + i] / max);
        g.fillRect(x0 + j * cellW, top + strip + 4 + i * rowH, cellW + 0.5, rowH + 0.5);
      }
    }
  });
  g.fillStyle = '#1f2328';
  g.font = `${Math.min(11, rowH)}px system-ui, sans-serif`;
  const chars = nameWidth < 80 ? 8 : 13;
  p.heatGenes.forEach((name, i) => {
    g.fillText(name.length > chars ? `${name.slice(0, chars - 1)}…` : name, 2, top + strip + 4 + (i + 1) * rowH - 2);
  });
  // Colour scale: 0 .. max.
  const y = cssHeight - bottom + 14, x0 = nameWidth, w = Math.min(220, panelW);
  for (let k = 0; k < w; k++) {
    g.fillStyle = shade(k / w);
    g.fillRect(x0 + k, y, 1.5, 10);
  }
  g.strokeStyle = '#6e7781';
  g.strokeRect(x0, y, w, 10);
  g.fillStyle = '#1f2328';
  g.font = '11px system-ui, sans-serif';
  g.fillText('0', x0, y + 24);
  g.fillText(`${max.toFixed(1)} = log1p(${Math.round(Math.expm1(max))})`, x0 + w - 70, y + 24);
  g.fillText('strip: group', x0 + w + 12, y + 9);
}
