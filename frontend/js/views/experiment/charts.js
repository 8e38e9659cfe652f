// The experiment's charts: rates per day (daily or cumulative), delivered impressions
// (stacked), allocation and P(best) over time (history), regret and gain (the report's own
// series) and the credible intervals. Every time chart marks the events of annotations.js.
import { barDataset, colour, drawChart, fitBounds, lineDataset } from '../../charts.js';
import { fmtInt, fmtNum, fmtPct, fmtTime, h, replace } from '../../dom.js';
import { chartEvents, eventLines, eventsList, placeEvents } from './annotations.js';
import { impressionSeries, rateSeries } from './series.js';
import { historyByDataDay, historyValue } from './shape.js';

export const CHARTS = [
  ['ctr', 'CTR over time', 'Clicks ÷ impressions per variant, day by day.'],
  ['conversion', 'Conversion rate over time', 'Conversions ÷ impressions per variant, day by day.'],
  ['impressions', 'Delivered impressions per day', 'Impressions each variant received, day by day, stacked: the height of a bar is the day\'s total.'],
  ['allocation', 'Allocation over time', 'The traffic shares banditkit recommended, one point per data day: the last recomputation that counted that day (the tooltip gives its time).'],
  ['pbest', 'P(best) over time', 'Probability each variant is the best, one point per data day (the last recomputation that counted it).'],
  ['regret', 'Regret and gain vs an even split', 'Cumulative estimate from the daily data, valuing each impression at the current posterior mean of its variant.'],
  ['intervals', '95% credible intervals', 'Where each variant\'s true rate lies with 95% probability, given the data and the prior.'],
];

// The rate charts' toggle: each point is that day's rate, or the rate of all days up to it.
const RATE_KEYS = new Set(['ctr', 'conversion']);

export function chartsPanel() {
  const charts = {};
  const modes = { ctr: 'daily', conversion: 'daily' };
  let events = [];
  let lastRates = null; // the arguments of the last drawRates, for the toggle's redraw
  const eventList = eventsList();

  function modeToggle(key, heading) {
    const radio = (value, text) => h('label', { class: 'chart-mode-option' },
      h('input', {
        type: 'radio', name: `mode-${key}`, value, id: `mode-${key}-${value}`, checked: modes[key] === value,
        onchange: () => {
          modes[key] = value;
          if (lastRates) drawRates(...lastRates);
        },
      }), ` ${text}`);
    return h('fieldset', { class: 'chart-mode', id: `mode-${key}` },
      h('legend', null, `${heading}: show`), radio('daily', 'Daily'), radio('cumulative', 'Cumulative'));
  }

  function chartFigure([key, heading, caption]) {
    const canvas = h('canvas', { id: `chart-${key}`, role: 'img', 'aria-label': heading });
    const note = h('p', { class: 'state state-empty chart-empty', hidden: true });
    const box = h('div', { class: 'chart-box' }, canvas);
    const tableBox = h('div', { class: 'table-wrap chart-data' });
    const details = h('details', { class: 'chart-details', id: `data-${key}`, hidden: true },
      h('summary', null, 'Show data'), tableBox);
    const captionEl = h('figcaption', { class: 'help' }, caption);
    const figure = h('figure', { class: 'card chart-card', id: `figure-${key}` },
      h('h3', null, heading), RATE_KEYS.has(key) ? modeToggle(key, heading.replace(/ over time$/, '')) : null,
      box, note, details, captionEl);
    charts[key] = { canvas, note, box, details, tableBox, figure, captionEl, caption };
    return figure;
  }

  /** The events placed on `labels`, and a tooltip footer adding those at the hovered day. */
  function marked(labels, footer) {
    const placed = placeEvents(events, labels);
    const withEvents = (items) => {
      const base = footer ? footer(items) : [];
      const lines = Array.isArray(base) ? base : [base].filter(Boolean);
      return items.length ? [...lines, ...eventLines(placed, items[0].dataIndex)] : lines;
    };
    return { markers: placed, tooltipFooter: withEvents };
  }

  /** What the charts mark, from the experiment's change log and the history's statuses. */
  function setEvents(exp, historyResult, days, windowDays) {
    const items = historyResult?.status === 'fulfilled' ? historyResult.value.items : [];
    events = chartEvents(exp, items, days, windowDays);
    eventList.draw(events);
  }

  /** The chart's data as a table behind "Show data": the text alternative to the picture. */
  function dataTable(key, labels, columns, format) {
    const c = charts[key];
    c.details.hidden = false;
    replace(c.tableBox, h('table', { class: 'table compact' },
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, key === 'intervals' ? 'Variant' : 'Day'),
        columns.map((col) => h('th', { scope: 'col' }, col.label)))),
      h('tbody', null, labels.map((label, row) => h('tr', null, h('th', { scope: 'row' }, label),
        columns.map((col) => h('td', { class: 'num nowrap' }, format(col.data[row]))))))));
  }
  const element = h('div', { class: 'charts-panel' }, eventList.element,
    h('div', { class: 'chart-grid', id: 'charts' }, CHARTS.map(chartFigure)));

  function empty(key, message) {
    const c = charts[key];
    window.Chart?.getChart(c.canvas)?.destroy();
    c.figure.hidden = false;
    c.details.hidden = true;
    c.box.hidden = true;
    c.note.hidden = false;
    c.note.textContent = message;
  }
  function show(key) {
    charts[key].figure.hidden = false;
    charts[key].box.hidden = false;
    charts[key].note.hidden = true;
  }
  /** A chart with nothing to show for this experiment (a CTR-only test's conversions). */
  function hide(key) {
    window.Chart?.getChart(charts[key].canvas)?.destroy();
    charts[key].figure.hidden = true;
  }

  function drawRates(days, names, metricsResult) {
    lastRates = [days, names, metricsResult];
    if (!days) {
      const msg = `Daily data unavailable: ${metricsResult.reason?.message ?? 'error'}`;
      for (const key of ['ctr', 'conversion', 'impressions']) empty(key, msg);
      return;
    }
    if (!days.length) {
      for (const key of ['ctr', 'conversion', 'impressions']) empty(key, 'No data yet: enter a day below or import a CSV.');
      return;
    }
    const labels = days.map((d) => d.date);
    const all = [...new Set([...names, ...days.flatMap((d) => (d.variants ?? []).map((v) => v.variant_name ?? v.name))])];
    const draw = (key, num, title, digits) => {
      const cumulative = modes[key] === 'cumulative';
      const series = rateSeries(days, all, num, cumulative);
      const datasets = series.map((v, i) => lineDataset(v.name, v.points.map((p) => p?.rate ?? null), i));
      // Tooltips give the sample behind each point: the day's counts, or all days' up to it.
      const sample = (items) => items.map((it) => {
        const p = series[it.datasetIndex]?.points[it.dataIndex];
        return p ? `${it.dataset.label}: ${fmtInt(p.num)} ${num} of ${fmtInt(p.impressions)} impressions${cumulative ? ' to date' : ''}` : '';
      }).filter(Boolean);
      show(key);
      charts[key].captionEl.textContent = cumulative
        ? `${title} of all days up to each day per variant (cumulative).`
        : charts[key].caption;
      drawChart(charts[key].canvas, 'line', { labels, datasets }, {
        yPercent: true, yDigits: digits, yTitle: cumulative ? `${title}, cumulative` : title,
        ...marked(labels, sample),
        ...fitBounds(datasets.flatMap((d) => d.data), 0, 1),
      });
      dataTable(key, labels, datasets, (x) => fmtPct(x, digits + 1));
    };
    draw('ctr', 'clicks', 'CTR', 1);
    const anyConversions = days.some((d) => (d.variants ?? []).some((v) => Number(v.conversions) > 0));
    if (anyConversions) draw('conversion', 'conversions', 'Conversion rate', 2);
    else hide('conversion');
    drawImpressions(days, all, labels);
  }

  /** Delivered impressions per variant per day, stacked. */
  function drawImpressions(days, all, labels) {
    const series = impressionSeries(days, all);
    const datasets = series.map((v, i) => barDataset(v.name, v.values, i));
    const total = (items) => (items.length
      ? `Total: ${fmtInt(series.reduce((sum, v) => sum + v.values[items[0].dataIndex], 0))} impressions`
      : '');
    show('impressions');
    drawChart(charts.impressions.canvas, 'bar', { labels, datasets }, {
      stacked: true, yTitle: 'Impressions', yMin: 0,
      tooltipLabel: (it) => {
        const v = series[it.datasetIndex];
        return `${v.name}: ${fmtInt(v.values[it.dataIndex])} impressions, ${fmtInt(v.clicks[it.dataIndex])} clicks`;
      },
      ...marked(labels, total),
    });
    dataTable('impressions', labels, datasets, (x) => fmtInt(Number(x)));
  }

  function drawHistory(historyResult, names, days, windowDays) {
    if (historyResult.status === 'rejected') {
      const msg = `History unavailable: ${historyResult.reason?.message ?? 'error'}`;
      empty('allocation', msg);
      empty('pbest', msg);
      return;
    }
    const points = historyByDataDay(historyResult.value.items, days ?? [], windowDays);
    if (!points.length) {
      empty('allocation', 'No history yet: a point is added each time the data changes.');
      empty('pbest', 'No history yet: a point is added each time the data changes.');
      return;
    }
    const labels = points.map((p) => p.day);
    const items = points.map((p) => p.item);
    const vnames = [...new Set([...names, ...items.flatMap((it) => Object.keys(it.allocations ?? {}))])];
    const recomputed = (tips) => (tips.length ? `Recomputed ${fmtTime(items[tips[0].dataIndex].computed_at)}` : '');
    const draw = (key, field, title, extra) => {
      const datasets = vnames.map((n, i) => lineDataset(n, items.map((it) => historyValue(it, field, n)), i, extra));
      show(key);
      drawChart(charts[key].canvas, 'line', { labels, datasets },
        { yPercent: true, yDigits: 0, yMin: 0, yMax: 1, yTitle: title, ...marked(labels, recomputed) });
      dataTable(key, labels, datasets, (x) => fmtPct(x));
    };
    draw('allocation', 'allocations', 'Share of traffic', { stepped: true });
    draw('pbest', 'p_best', 'P(best)', {});
  }

  /** The report's regret_by_day: the engine computes it, the page only draws it. */
  function drawRegret(reportResult, series, metric) {
    if (reportResult.status === 'rejected') {
      empty('regret', `Report unavailable: ${reportResult.reason?.message ?? 'error'}`);
      return;
    }
    if (!series || !series.length) {
      empty('regret', 'No data yet.');
      return;
    }
    const unit = metric === 'ctr' ? 'clicks' : 'conversions';
    show('regret');
    const labels = series.map((d) => d.date);
    const datasets = [
      lineDataset(`Estimated regret (${unit} lost vs always-best)`, series.map((d) => d.regret), 1, { fill: false }),
      lineDataset(`${unit[0].toUpperCase()}${unit.slice(1)} gained vs even split`, series.map((d) => d.gained), 2, { fill: false }),
    ];
    drawChart(charts.regret.canvas, 'line', { labels, datasets }, { yTitle: unit, ...marked(labels) });
    dataTable('regret', labels, datasets, (x) => fmtNum(Number(x)));
  }

  function drawIntervals(variants, metric) {
    // A variant without impressions of its own has only its prior: not an interval to show.
    const ok = variants.filter((v) => Number(v.impressions) > 0 && Number.isFinite(v.ci_low) && Number.isFinite(v.ci_high));
    if (!ok.length) {
      empty('intervals', variants.length ? 'Not enough data yet.' : 'No variants yet.');
      return;
    }
    show('intervals');
    drawChart(charts.intervals.canvas, 'bar', {
      labels: ok.map((v) => v.name),
      datasets: [
        {
          label: '95% credible interval',
          data: ok.map((v) => [v.ci_low, v.ci_high]),
          backgroundColor: ok.map((_, i) => `${colour(i)}66`),
          borderColor: ok.map((_, i) => colour(i)),
          borderWidth: 1,
          barPercentage: 0.6,
        },
        {
          type: 'line',
          label: 'Posterior mean',
          data: ok.map((v) => v.posterior_mean),
          showLine: false,
          pointRadius: 5,
          pointStyle: 'rectRot',
          borderColor: '#111827',
          backgroundColor: '#111827',
        },
      ],
    }, {
      horizontal: true, yPercent: true, yDigits: 1, yTitle: metric === 'ctr' ? 'CTR' : 'Conversion rate',
      ...fitBounds(ok.flatMap((v) => [v.ci_low, v.ci_high]), 0, 1),
    });
    dataTable('intervals', ok.map((v) => v.name), [
      { label: 'Low', data: ok.map((v) => v.ci_low) },
      { label: 'Posterior mean', data: ok.map((v) => v.posterior_mean) },
      { label: 'High', data: ok.map((v) => v.ci_high) },
    ], (x) => fmtPct(x, 2));
  }

  function unavailable() {
    lastRates = null; // the toggle must not bring back the previous load's data
    for (const key of Object.keys(charts)) empty(key, 'Unavailable until the allocation loads.');
  }

  return { element, setEvents, drawRates, drawHistory, drawRegret, drawIntervals, unavailable };
}
