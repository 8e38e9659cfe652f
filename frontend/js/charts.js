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

function baseOptions({ yPercent = false, yDigits = 1, yTitle, xTitle, stacked = false, yMin, yMax, horizontal = false, tooltipFooter }) {
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
      } : { callbacks: { footer: tooltipFooter } },
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
  return new window.Chart(canvas, { type, data, options });
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

export function destroyCharts(root) {
  if (!chartsAvailable()) return;
  for (const canvas of root.querySelectorAll('canvas')) window.Chart.getChart(canvas)?.destroy();
}
