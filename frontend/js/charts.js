// Chart.js (vendored, window.Chart) helpers: one palette, no animation, percent axes.

const PALETTE = ['#2563eb', '#dc2626', '#059669', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

// Series differ by marker and dash pattern as well as colour, so no reader depends on colour.
const MARKERS = ['circle', 'rect', 'triangle', 'rectRot', 'star', 'crossRot', 'rectRounded', 'cross'];
const DASHES = [[], [6, 3], [2, 2], [8, 3, 2, 3], [4, 4], [1, 3], [10, 4], [3, 6]];

export function colour(i) {
  return PALETTE[i % PALETTE.length];
}

export function marker(i) {
  return MARKERS[i % MARKERS.length];
}

export function chartsAvailable() {
  return typeof window.Chart === 'function';
}

function percentTicks(digits) {
  return { callback: (v) => `${(Number(v) * 100).toFixed(digits)}%` };
}

/** Axis bounds that fit values (fractions) with a margin, clamped to [lo, hi]. */
export function fitBounds(values, lo = -Infinity, hi = Infinity) {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return {};
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const pad = (max - min) * 0.1 || Math.abs(max) * 0.1 || 0.01;
  return { yMin: Math.max(lo, min - pad), yMax: Math.min(hi, max + pad) };
}

/**
 * Vertical markers on a category x-axis: options.plugins.bkMarkers.items = [{index, number,
 * label}] draws a dashed line at each label index with "number label" at its top (the number
 * alone on a narrow plot). The items
 * stay on the chart's options, so a test (or a reader of the page) finds what is marked where.
 */
const MARKERS_PLUGIN = {
  id: 'bkMarkers',
  afterDatasetsDraw(chart, _args, opts) {
    const items = opts?.items ?? [];
    const x = chart.scales.x;
    const area = chart.chartArea;
    if (!items.length || !x || !area) return;
    const c = chart.ctx;
    c.save();
    c.font = '600 11px system-ui, sans-serif';
    c.textBaseline = 'top';
    const rowEnds = []; // per row of labels, where its rightmost label ends
    items.forEach((item) => {
      const px = x.getPixelForValue(item.index);
      if (!Number.isFinite(px)) return;
      c.strokeStyle = '#374151';
      c.lineWidth = 1;
      c.setLineDash([4, 3]);
      c.beginPath();
      c.moveTo(px, area.top);
      c.lineTo(px, area.bottom);
      c.stroke();
      c.setLineDash([]);
      // a narrow plot (a phone) shows the numbers only: the list above the charts names them
      const text = area.right - area.left < 480 ? String(item.number) : `${item.number} ${item.label}`;
      const w = c.measureText(text).width + 6;
      const left = px + w + 2 > area.right ? px - w - 2 : px + 2; // stay inside the plot
      // the first row where it overlaps no label, so neighbours step down instead
      let row = rowEnds.findIndex((end) => end < left);
      if (row < 0) row = rowEnds.length;
      rowEnds[row] = left + w;
      const rows = Math.max(1, Math.floor((area.bottom - area.top) / 15) - 1);
      const top = area.top + 2 + (row % rows) * 15; // many at once wrap inside the plot
      c.fillStyle = 'rgba(255, 255, 255, 0.9)';
      c.fillRect(left, top, w, 14);
      c.fillStyle = '#111827';
      c.fillText(text, left + 3, top + 1);
    });
    c.restore();
  },
};

function baseOptions({ yPercent = false, yDigits = 1, yTitle, xTitle, stacked = false, yMin, yMax, horizontal = false, tooltipFooter, tooltipLabel, markers = [] }) {
  const valueAxis = {
    stacked,
    min: yMin,
    max: yMax,
    title: yTitle ? { display: true, text: yTitle } : undefined,
    ticks: yPercent ? percentTicks(yDigits) : undefined,
  };
  const categoryAxis = {
    stacked,
    title: xTitle ? { display: true, text: xTitle } : undefined,
    ticks: { maxRotation: 0, autoSkip: true },
  };
  return {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    indexAxis: horizontal ? 'y' : 'x',
    interaction: { mode: 'nearest', intersect: false },
    plugins: {
      bkMarkers: { items: markers },
      legend: { position: 'bottom', labels: { boxWidth: 12, usePointStyle: true } },
      tooltip: yPercent ? {
        callbacks: {
          footer: tooltipFooter,
          label: (ctx) => {
            const raw = ctx.raw;
            const show = (x) => `${(x * 100).toFixed(yDigits + 1)}%`;
            const value = Array.isArray(raw) ? `${show(raw[0])} – ${show(raw[1])}` : show(Number(ctx.parsed[horizontal ? 'x' : 'y']));
            return `${ctx.dataset.label}: ${value}`;
          },
        },
      } : { callbacks: { footer: tooltipFooter, ...(tooltipLabel ? { label: tooltipLabel } : {}) } },
    },
    scales: horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
  };
}

/** Create the chart on `canvas`, or replace the data and options of the one already there. */
export function drawChart(canvas, type, data, opts = {}) {
  if (!chartsAvailable()) return null;
  const options = baseOptions(opts);
  const existing = window.Chart.getChart(canvas);
  if (existing && existing.config.type === type) {
    existing.data = data;
    existing.options = options;
    existing.update('none');
    return existing;
  }
  existing?.destroy();
  return new window.Chart(canvas, { type, data, options, plugins: [MARKERS_PLUGIN] });
}

export function lineDataset(label, data, i, extra = {}) {
  return {
    label,
    data,
    borderColor: colour(i),
    backgroundColor: `${colour(i)}33`,
    borderWidth: 2,
    borderDash: DASHES[i % DASHES.length],
    pointStyle: marker(i),
    pointRadius: data.length > 40 ? 2 : 4,
    spanGaps: true,
    tension: 0,
    ...extra,
  };
}

export function barDataset(label, data, i) {
  return { label, data, backgroundColor: barFill(i), borderColor: colour(i), borderWidth: 1, pointStyle: marker(i) };
}

/** A bar's fill: the series' colour, hatched in its own direction, so bars differ without colour. */
function barFill(i) {
  const base = colour(i);
  if (i === 0 || typeof document === 'undefined') return base;
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const c = tile.getContext('2d');
  c.fillStyle = base;
  c.fillRect(0, 0, 8, 8);
  c.strokeStyle = 'rgba(255, 255, 255, 0.75)';
  c.lineWidth = 2;
  c.beginPath();
  const kind = (i - 1) % 4;
  if (kind === 0) { c.moveTo(0, 8); c.lineTo(8, 0); } // /
  if (kind === 1) { c.moveTo(0, 0); c.lineTo(8, 8); } // \
  if (kind === 2) { c.moveTo(4, 0); c.lineTo(4, 8); } // |
  if (kind === 3) { c.moveTo(0, 4); c.lineTo(8, 4); } // -
  c.stroke();
  return c.createPattern(tile, 'repeat') ?? base;
}

export function destroyCharts(root) {
  if (!chartsAvailable()) return;
  for (const canvas of root.querySelectorAll('canvas')) window.Chart.getChart(canvas)?.destroy();
}
