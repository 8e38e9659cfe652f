// The experiment's charts: rates per day, allocation and P(best) over time (history),
// regret and gain (the report's own series) and the credible intervals.
import { colour, drawChart, lineDataset } from '../../charts.js';
import { h, ratio } from '../../dom.js';
import { historyValue, rowsByVariant, shortTime, sortedHistory } from './shape.js';

export const CHARTS = [
  ['ctr', 'CTR over time', 'Clicks ÷ impressions per variant, day by day.'],
  ['conversion', 'Conversion rate over time', 'Conversions ÷ impressions per variant, day by day.'],
  ['allocation', 'Allocation over time', 'The traffic shares banditkit recommended, one point per recomputation (history).'],
  ['pbest', 'P(best) over time', 'Probability each variant is the best, at each recomputation.'],
  ['regret', 'Regret and gain vs an even split', 'Cumulative estimate from the daily data, valuing each impression at the current posterior mean of its variant.'],
  ['intervals', '95% credible intervals', 'Where each variant\'s true rate lies with 95% probability, given the data and the prior.'],
];

export function chartsPanel() {
  const charts = {};
  function chartFigure([key, heading, caption]) {
    const canvas = h('canvas', { id: `chart-${key}`, role: 'img', 'aria-label': heading });
    const note = h('p', { class: 'state state-empty chart-empty', hidden: true });
    const box = h('div', { class: 'chart-box' }, canvas);
    charts[key] = { canvas, note, box };
    return h('figure', { class: 'card chart-card', id: `figure-${key}` },
      h('h3', null, heading), box, note, h('figcaption', { class: 'help' }, caption));
  }
  const element = h('div', { class: 'chart-grid', id: 'charts' }, CHARTS.map(chartFigure));

  function empty(key, message) {
    const c = charts[key];
    window.Chart?.getChart(c.canvas)?.destroy();
    c.box.hidden = true;
    c.note.hidden = false;
    c.note.textContent = message;
  }
  function show(key) {
    charts[key].box.hidden = false;
    charts[key].note.hidden = true;
  }

  function drawRates(days, names, metricsResult) {
    if (!days) {
      const msg = `Daily data unavailable: ${metricsResult.reason?.message ?? 'error'}`;
      empty('ctr', msg);
      empty('conversion', msg);
      return;
    }
    if (!days.length) {
      empty('ctr', 'No data yet: enter a day below or import a CSV.');
      empty('conversion', 'No data yet: enter a day below or import a CSV.');
      return;
    }
    const labels = days.map((d) => d.date);
    const all = [...new Set([...names, ...days.flatMap((d) => (d.variants ?? []).map((v) => v.variant_name ?? v.name))])];
    const series = (num) => all.map((name, i) => lineDataset(name, days.map((d) => {
      const row = rowsByVariant(d).get(name);
      return row ? ratio(Number(row[num]), Number(row.impressions)) : null;
    }), i));
    show('ctr');
    show('conversion');
    drawChart(charts.ctr.canvas, 'line', { labels, datasets: series('clicks') }, { yPercent: true, yDigits: 1, yTitle: 'CTR' });
    drawChart(charts.conversion.canvas, 'line', { labels, datasets: series('conversions') }, { yPercent: true, yDigits: 2, yTitle: 'Conversion rate' });
  }

  function drawHistory(historyResult, names) {
    if (historyResult.status === 'rejected') {
      const msg = `History unavailable: ${historyResult.reason?.message ?? 'error'}`;
      empty('allocation', msg);
      empty('pbest', msg);
      return;
    }
    const items = sortedHistory(historyResult.value.items);
    if (!items.length) {
      empty('allocation', 'No history yet: a point is added each time the data changes.');
      empty('pbest', 'No history yet: a point is added each time the data changes.');
      return;
    }
    const labels = items.map((it) => shortTime(it.computed_at));
    const vnames = [...new Set([...names, ...items.flatMap((it) => Object.keys(it.allocations ?? {}))])];
    show('allocation');
    show('pbest');
    drawChart(charts.allocation.canvas, 'line', {
      labels,
      datasets: vnames.map((n, i) => lineDataset(n, items.map((it) => historyValue(it, 'allocations', n)), i, { stepped: true })),
    }, { yPercent: true, yDigits: 0, yMin: 0, yMax: 1, yTitle: 'Share of traffic' });
    drawChart(charts.pbest.canvas, 'line', {
      labels,
      datasets: vnames.map((n, i) => lineDataset(n, items.map((it) => historyValue(it, 'p_best', n)), i)),
    }, { yPercent: true, yDigits: 0, yMin: 0, yMax: 1, yTitle: 'P(best)' });
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
    drawChart(charts.regret.canvas, 'line', {
      labels: series.map((d) => d.date),
      datasets: [
        lineDataset(`Estimated regret (${unit} lost vs always-best)`, series.map((d) => d.regret), 1, { fill: false }),
        lineDataset(`${unit[0].toUpperCase()}${unit.slice(1)} gained vs even split`, series.map((d) => d.gained), 2, { fill: false }),
      ],
    }, { yTitle: unit });
  }

  function drawIntervals(variants, metric) {
    const ok = variants.filter((v) => Number.isFinite(v.ci_low) && Number.isFinite(v.ci_high));
    if (!ok.length) {
      empty('intervals', 'No variants yet.');
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
    }, { horizontal: true, yPercent: true, yDigits: 1, yTitle: metric === 'ctr' ? 'CTR' : 'Conversion rate' });
  }

  function unavailable() {
    for (const key of Object.keys(charts)) empty(key, 'Unavailable until the allocation loads.');
  }

  return { element, drawRates, drawHistory, drawRegret, drawIntervals, unavailable };
}
