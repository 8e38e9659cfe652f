// One experiment: allocation, evidence, charts, data entry, CSV import, settings, actions.
import { api, ApiError, collectPages } from '../api.js';
import { drawChart, lineDataset, colour } from '../charts.js';
import { confirmDialog } from '../dialogs.js';
import {
  badge, describeFieldError, empty, errorBox, field, fmtInt, fmtLift, fmtNum, fmtPct, fmtPoints, fmtTime, h,
  loading, ratio, replace, today,
} from '../dom.js';
import { changedSettings, settingsFieldset } from '../settings.js';

/**
 * How often the open experiment reloads: 15 s, or `localStorage['banditkit.refreshSeconds']`
 * (at least 1 s) for a wall screen that should follow more closely.
 */
export function refreshMs() {
  const configured = Number(localStorage.getItem('banditkit.refreshSeconds'));
  return Number.isFinite(configured) && configured >= 1 ? configured * 1000 : 15000;
}

// ---- shaping the API answers -------------------------------------------------------------

function variantList(exp) {
  return (exp?.variants ?? []).map((v) => (typeof v === 'string' ? { name: v, is_control: false } : v));
}

function controlOf(exp, report) {
  if (exp?.control) return exp.control;
  const flagged = variantList(exp).find((v) => v.is_control);
  if (flagged) return flagged.name;
  if (report?.control) return report.control;
  return variantList(exp).some((v) => v.name === 'control') ? 'control' : null;
}

/** The report carries the allocation either flat or under "allocation"; lifts as list or map. */
function shapeReport(report, allocation) {
  const r = report ?? {};
  const nested = r.allocation && typeof r.allocation === 'object' && Array.isArray(r.allocation.variants);
  const alloc = nested ? r.allocation : Array.isArray(r.variants) ? r : allocation;
  let lifts = r.lifts ?? r.lift_vs_control ?? [];
  if (!Array.isArray(lifts)) {
    lifts = Object.entries(lifts).map(([variant, l]) => ({ variant, ...(typeof l === 'object' ? l : { lift: l }) }));
  }
  const liftMap = new Map(lifts.map((l) => [l.variant ?? l.variant_name ?? l.name, l]));
  return {
    alloc,
    liftMap,
    regret: r.regret_so_far ?? r.estimated_regret ?? null,
    gained: r.gained_vs_even ?? r.clicks_gained_vs_even ?? null,
    pvr: r.potential_value_remaining ?? alloc?.potential_value_remaining ?? null,
    recommendation: r.recommendation ?? null,
    winner: r.winner ?? alloc?.winner ?? null,
  };
}

function sortedDays(metrics) {
  return [...(metrics?.days ?? [])].sort((a, b) => String(a.date).localeCompare(String(b.date)));
}

function rowsByVariant(day) {
  const map = new Map();
  for (const v of day.variants ?? []) map.set(v.variant_name ?? v.name, v);
  return map;
}

function sortedHistory(items) {
  return [...items].sort((a, b) => String(a.computed_at).localeCompare(String(b.computed_at)));
}

function historyValue(item, key, variant) {
  const m = item?.[key];
  if (!m) return null;
  if (Array.isArray(m)) {
    const hit = m.find((x) => (x.name ?? x.variant ?? x.variant_name) === variant);
    return hit ? Number(hit.value ?? hit[key] ?? hit.share) : null;
  }
  const v = m[variant];
  return v === undefined || v === null ? null : Number(v);
}

function shortTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "line.4.impressions" → "Line 4, impressions"; other fields as they are. */
function describeImportError(e) {
  const m = /^line\.(\d+)(?:\.(.+))?$/.exec(String(e?.field ?? ''));
  if (!m) return describeFieldError(e);
  return `Line ${m[1]}${m[2] ? `, ${m[2]}` : ''}: ${e.message}`;
}

// A cell starting with = + - @, tab or CR is a formula to a spreadsheet (OWASP, CSV
// injection): such a cell gets a leading ' (text, not a formula) and is quoted. The import
// reads the ' back off, so the template imports to the same variants.
function csvCell(value) {
  const s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) return `"'${s.replace(/"/g, '""')}"`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// ---- the view ---------------------------------------------------------------------------

export function renderExperiment(main, app, id) {
  let alive = true;
  let exp = null;
  let busy = false;
  let lastLoaded = 0;
  let settingsForm = null;
  let entryVariantsKey = '';
  let lastReportView = null;

  const title = h('h1', { tabindex: '-1', id: 'exp-title' }, 'Experiment');
  const badges = h('div', { class: 'badges', id: 'exp-badges' });
  const meta = h('div', { class: 'meta muted small', id: 'exp-meta' });
  const description = h('p', { class: 'description', id: 'exp-description' });
  const actions = h('div', { class: 'actions', id: 'exp-actions' });
  const updated = h('span', { class: 'muted small', id: 'exp-updated', 'aria-live': 'polite' });
  const refreshButton = h('button', { type: 'button', class: 'secondary', onclick: () => load() }, 'Refresh');
  const pageError = h('div', { id: 'exp-error' });

  const recommendation = h('div', { class: 'card recommendation', id: 'recommendation' }, loading());
  const allocationBox = h('div', { id: 'allocation' }, loading());
  const figures = h('dl', { class: 'figures', id: 'figures' });
  const tableBox = h('div', { id: 'variant-table-box' }, loading());

  const charts = {};
  function chartFigure(key, heading, caption) {
    const canvas = h('canvas', { id: `chart-${key}`, role: 'img', 'aria-label': heading });
    const note = h('p', { class: 'state state-empty chart-empty', hidden: true });
    const box = h('div', { class: 'chart-box' }, canvas);
    charts[key] = { canvas, note, box };
    return h('figure', { class: 'card chart-card', id: `figure-${key}` },
      h('h3', null, heading), box, note, h('figcaption', { class: 'help' }, caption));
  }
  function chartEmpty(key, message) {
    const c = charts[key];
    window.Chart?.getChart(c.canvas)?.destroy();
    c.box.hidden = true;
    c.note.hidden = false;
    c.note.textContent = message;
  }
  function chartShow(key) {
    charts[key].box.hidden = false;
    charts[key].note.hidden = true;
  }

  const chartsGrid = h('div', { class: 'chart-grid', id: 'charts' },
    chartFigure('ctr', 'CTR over time', 'Clicks ÷ impressions per variant, day by day.'),
    chartFigure('conversion', 'Conversion rate over time', 'Conversions ÷ impressions per variant, day by day.'),
    chartFigure('allocation', 'Allocation over time', 'The traffic shares banditkit recommended, one point per recomputation (history).'),
    chartFigure('pbest', 'P(best) over time', 'Probability each variant is the best, at each recomputation.'),
    chartFigure('regret', 'Regret and gain vs an even split', 'Cumulative estimate from the daily data, valuing each impression at the current posterior mean of its variant.'),
    chartFigure('intervals', '95% credible intervals', 'Where each variant\'s true rate lies with 95% probability, given the data and the prior.'));

  const entry = buildEntryForm();
  const importer = buildImport();
  const adder = buildAddVariant();
  const settingsBox = h('div', { id: 'settings-box' }, loading());

  replace(main,
    h('p', { class: 'crumbs small' }, h('a', { href: '#/' }, '← Experiments')),
    h('div', { class: 'page-head' }, h('div', null, title, badges), h('div', { class: 'refresh' }, updated, refreshButton)),
    description, meta, actions, pageError,
    h('section', { class: 'overview', 'aria-labelledby': 'h-now' },
      h('h2', { id: 'h-now' }, 'Now'),
      recommendation,
      h('div', { class: 'overview-grid' },
        h('div', { class: 'card' }, h('h3', null, 'Next traffic split'), allocationBox),
        h('div', { class: 'card' }, h('h3', null, 'Evidence so far'), figures))),
    h('section', { 'aria-labelledby': 'h-variants' },
      h('h2', { id: 'h-variants' }, 'Variants'), h('div', { class: 'card' }, tableBox)),
    h('section', { 'aria-labelledby': 'h-charts' }, h('h2', { id: 'h-charts' }, 'Charts'), chartsGrid),
    h('section', { 'aria-labelledby': 'h-data', class: 'two-col' },
      h('h2', { id: 'h-data' }, 'Data'), entry.element,
      h('div', { class: 'stack' }, importer.element, adder.element)),
    h('section', { 'aria-labelledby': 'h-settings' },
      h('h2', { id: 'h-settings' }, 'Settings'), h('div', { class: 'card' }, settingsBox)),
    h('section', { 'aria-labelledby': 'h-danger' },
      h('h2', { id: 'h-danger' }, 'Delete'),
      h('div', { class: 'card danger-zone' },
        h('p', null, 'Deleting removes the experiment, all its daily data and its allocation history. It cannot be undone.'),
        h('button', { type: 'button', class: 'danger', id: 'delete-button', onclick: onDelete }, 'Delete experiment…'))));

  // ---- loading ----

  // One load at a time; a load asked for meanwhile (after saving data, say) runs right after.
  let again = false;
  async function load() {
    if (!alive) return;
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    refreshButton.disabled = true;
    try {
      try {
        exp = await api.getExperiment(id);
      } catch (error) {
        if (!alive) return;
        if (error instanceof ApiError && error.status === 404) {
          replace(main, h('h1', { tabindex: '-1' }, 'Experiment not found'),
            h('p', null, 'It may have been deleted. ', h('a', { href: '#/' }, 'Back to the experiments.')));
          alive = false;
          return;
        }
        replace(pageError, errorBox(error, () => load()));
        return;
      }
      if (!alive) return;
      replace(pageError);
      drawHead();
      // /allocation first: it stores a history snapshot when the data changed.
      const allocation = await api.allocation(id).catch((e) => e);
      const [report, history, metrics] = await Promise.allSettled([
        api.report(id),
        collectPages((cursor) => api.history(id, { limit: 500, cursor }), 2000),
        api.metrics(id),
      ]);
      if (!alive) return;
      drawEvidence(allocation, report, history, metrics);
      drawEntryRows();
      if (!settingsForm) drawSettings();
      lastLoaded = Date.now();
      updated.textContent = `Updated ${new Date(lastLoaded).toLocaleTimeString('en-GB', { hour12: false })}`;
    } finally {
      busy = false;
      refreshButton.disabled = false;
    }
    if (again) {
      again = false;
      await load();
    }
  }

  function drawHead() {
    title.textContent = exp.name || exp.id;
    document.title = `${exp.name || exp.id} · banditkit`;
    replace(badges, badge(exp.status));
    description.textContent = exp.description ?? '';
    description.hidden = !exp.description;
    const control = controlOf(exp, null);
    replace(meta,
      h('span', null, 'id ', h('code', null, exp.id)),
      h('span', null, `created ${fmtTime(exp.created_at)}`),
      control ? h('span', null, 'control ', h('strong', null, control)) : h('span', null, 'no control variant'));
    const buttons = [];
    const setStatus = (status, label) => h('button', {
      type: 'button', class: 'secondary', 'data-status': status,
      onclick: (ev) => changeStatus(status, ev.currentTarget),
    }, label);
    if (exp.status === 'running') buttons.push(setStatus('paused', 'Pause'));
    if (exp.status === 'paused') buttons.push(setStatus('running', 'Resume'));
    if (exp.status === 'completed') buttons.push(setStatus('running', 'Reopen'));
    if (exp.status !== 'completed') buttons.push(setStatus('completed', 'Complete'));
    replace(actions, buttons);
  }

  function drawEvidence(allocation, reportResult, historyResult, metricsResult) {
    const allocOk = !(allocation instanceof Error);
    const shaped = shapeReport(reportResult.status === 'fulfilled' ? reportResult.value : null,
      allocOk ? allocation : null);
    lastReportView = shaped;
    const alloc = shaped.alloc;
    if (!alloc) {
      const err = allocOk ? reportResult.reason : allocation;
      replace(allocationBox, errorBox(err, () => load()));
      replace(recommendation, errorBox(err));
      replace(tableBox, empty('No allocation available.'));
      replace(figures);
      for (const key of Object.keys(charts)) chartEmpty(key, 'Unavailable until the allocation loads.');
      return;
    }
    const control = controlOf(exp, shaped);
    const variants = alloc.variants ?? [];
    const shares = alloc.allocations ?? alloc.shares ?? {};
    const metric = alloc.settings?.metric ?? exp.settings?.metric ?? 'ctr';

    replace(badges, badge(exp.status), alloc.status !== exp.status ? badge(alloc.status) : null);

    // Recommendation
    if (reportResult.status === 'fulfilled' && shaped.recommendation) {
      replace(recommendation, h('p', { class: 'rec-text' }, shaped.recommendation));
    } else if (reportResult.status === 'rejected') {
      replace(recommendation, errorBox(reportResult.reason));
    } else {
      replace(recommendation, empty('No recommendation yet.'));
    }

    // Allocation bars
    const names = variants.length ? variants.map((v) => v.name) : Object.keys(shares);
    if (!names.length) {
      replace(allocationBox, empty('No variants yet: they appear with their first data.'));
    } else {
      const rows = names.map((name, i) => {
        const v = variants.find((x) => x.name === name) ?? {};
        const share = Number(shares[name] ?? v.allocation ?? 0);
        const bar = h('span', { class: 'bar-fill' });
        bar.style.width = `${Math.max(0, Math.min(1, share)) * 100}%`;
        bar.style.backgroundColor = colour(i);
        return h('li', { class: 'share-row', dataset: { variant: name } },
          h('span', { class: 'share-name' }, name, name === control ? h('span', { class: 'tag' }, 'control') : null),
          h('span', { class: 'bar', role: 'presentation' }, bar),
          h('span', { class: 'share-value' }, fmtPct(share)),
          h('span', { class: 'share-pbest muted small' }, `P(best) ${fmtPct(v.p_best)}`));
      });
      replace(allocationBox,
        h('ul', { class: 'shares', id: 'shares' }, rows),
        h('p', { class: 'muted small' }, `Computed ${fmtTime(alloc.computed_at)} · ${String(alloc.algorithm ?? 'thompson_sampling').replace(/_/g, ' ')} · metric ${metric === 'ctr' ? 'CTR' : 'conversion rate'}`));
    }

    // Key figures
    const unit = metric === 'ctr' ? 'clicks' : 'conversions';
    const totalImpr = variants.reduce((s, v) => s + (Number(v.impressions) || 0), 0);
    replace(figures,
      h('div', null, h('dt', null, 'Impressions counted'), h('dd', null, fmtInt(totalImpr))),
      h('div', null, h('dt', null, `Estimated regret (${unit} lost)`), h('dd', { id: 'fig-regret' }, fmtNum(Number(shaped.regret)))),
      h('div', null, h('dt', null, `${unit[0].toUpperCase()}${unit.slice(1)} gained vs even split`), h('dd', { id: 'fig-gained' }, fmtNum(Number(shaped.gained)))),
      h('div', null, h('dt', null, 'Potential value remaining'), h('dd', null, fmtPct(Number(shaped.pvr)))),
      shaped.winner ? h('div', null, h('dt', null, 'Winner'), h('dd', null, shaped.winner)) : null);

    drawTable(variants, shares, control, shaped.liftMap, metric);
    const days = metricsResult.status === 'fulfilled' ? sortedDays(metricsResult.value) : null;
    drawRateCharts(days, names, metricsResult);
    drawHistoryCharts(historyResult, names);
    drawRegretChart(windowed(days, alloc.settings?.window_days), variants, metric);
    drawIntervals(variants, metric);
  }

  function drawTable(variants, shares, control, liftMap, metric) {
    if (!variants.length) {
      replace(tableBox, empty('No variants yet.'));
      return;
    }
    const head = ['Variant', 'Impressions', 'Clicks', 'Conversions', 'CTR', 'Conv. rate',
      `95% CI (${metric === 'ctr' ? 'CTR' : 'conv.'})`, 'Lift vs control', 'P(best)', 'Expected loss', 'Share'];
    const rows = variants.map((v) => {
      const lift = liftMap.get(v.name);
      let liftCell = '–';
      if (v.name === control) liftCell = 'baseline';
      else if (lift) {
        const interval = Number.isFinite(lift.ci_low) && Number.isFinite(lift.ci_high)
          ? ` (${fmtLift(lift.ci_low)} to ${fmtLift(lift.ci_high)})` : '';
        liftCell = `${fmtLift(Number(lift.lift))}${interval}`;
      }
      return h('tr', { dataset: { variant: v.name } },
        h('th', { scope: 'row' }, v.name, v.name === control ? h('span', { class: 'tag' }, 'control') : null),
        h('td', { class: 'num' }, fmtInt(v.impressions)),
        h('td', { class: 'num' }, fmtInt(v.clicks)),
        h('td', { class: 'num' }, fmtInt(v.conversions)),
        h('td', { class: 'num' }, fmtPct(ratio(v.clicks, v.impressions), 2)),
        h('td', { class: 'num' }, fmtPct(ratio(v.conversions, v.impressions), 2)),
        h('td', { class: 'num nowrap' }, `${fmtPct(v.ci_low, 2)} – ${fmtPct(v.ci_high, 2)}`),
        h('td', { class: 'num nowrap' }, liftCell),
        h('td', { class: 'num' }, fmtPct(v.p_best)),
        h('td', { class: 'num nowrap' }, fmtPoints(v.expected_loss)),
        h('td', { class: 'num' }, fmtPct(shares[v.name] ?? v.allocation)));
    });
    replace(tableBox, h('p', { class: 'scroll-hint muted small', 'aria-hidden': 'true' }, 'Swipe the table sideways for every column →'),
    h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Per-variant results' },
      h('table', { class: 'table', id: 'variant-table' },
        h('thead', null, h('tr', null, head.map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', null, rows))),
    h('p', { class: 'help' }, 'Lift is relative to the control\'s posterior mean, with its 95% interval. Expected loss is the rate you would give up on average, in percentage points (pp), by picking this variant if it is not the best.'));
  }

  function drawRateCharts(days, names, metricsResult) {
    if (!days) {
      const msg = `Daily data unavailable: ${metricsResult.reason?.message ?? 'error'}`;
      chartEmpty('ctr', msg);
      chartEmpty('conversion', msg);
      return;
    }
    if (!days.length) {
      chartEmpty('ctr', 'No data yet: enter a day below or import a CSV.');
      chartEmpty('conversion', 'No data yet: enter a day below or import a CSV.');
      return;
    }
    const labels = days.map((d) => d.date);
    const all = [...new Set([...names, ...days.flatMap((d) => (d.variants ?? []).map((v) => v.variant_name ?? v.name))])];
    const series = (num) => all.map((name, i) => lineDataset(name, days.map((d) => {
      const row = rowsByVariant(d).get(name);
      return row ? ratio(Number(row[num]), Number(row.impressions)) : null;
    }), i));
    chartShow('ctr');
    chartShow('conversion');
    drawChart(charts.ctr.canvas, 'line', { labels, datasets: series('clicks') }, { yPercent: true, yDigits: 1, yTitle: 'CTR' });
    drawChart(charts.conversion.canvas, 'line', { labels, datasets: series('conversions') }, { yPercent: true, yDigits: 2, yTitle: 'Conversion rate' });
  }

  function drawHistoryCharts(historyResult, names) {
    if (historyResult.status === 'rejected') {
      const msg = `History unavailable: ${historyResult.reason?.message ?? 'error'}`;
      chartEmpty('allocation', msg);
      chartEmpty('pbest', msg);
      return;
    }
    const items = sortedHistory(historyResult.value.items);
    if (!items.length) {
      chartEmpty('allocation', 'No history yet: a point is added each time the data changes.');
      chartEmpty('pbest', 'No history yet: a point is added each time the data changes.');
      return;
    }
    const labels = items.map((it) => shortTime(it.computed_at));
    const vnames = [...new Set([...names, ...items.flatMap((it) => Object.keys(it.allocations ?? {}))])];
    chartShow('allocation');
    chartShow('pbest');
    drawChart(charts.allocation.canvas, 'line', {
      labels,
      datasets: vnames.map((n, i) => lineDataset(n, items.map((it) => historyValue(it, 'allocations', n)), i, { stepped: true })),
    }, { yPercent: true, yDigits: 0, yMin: 0, yMax: 1, yTitle: 'Share of traffic' });
    drawChart(charts.pbest.canvas, 'line', {
      labels,
      datasets: vnames.map((n, i) => lineDataset(n, items.map((it) => historyValue(it, 'p_best', n)), i)),
    }, { yPercent: true, yDigits: 0, yMin: 0, yMax: 1, yTitle: 'P(best)' });
  }

  // The days the engine counts: with window_days, those younger than the window at the
  // latest day of data (as the report's regret_so_far does).
  function windowed(days, windowDays) {
    if (!days || !days.length || !windowDays) return days;
    const last = Date.parse(days.at(-1).date);
    return days.filter((d) => (last - Date.parse(d.date)) / 86400000 < windowDays);
  }

  function drawRegretChart(days, variants, metric) {
    if (!days || !days.length || !variants.length) {
      chartEmpty('regret', 'No data yet.');
      return;
    }
    const mean = new Map(variants.map((v) => [v.name, Number(v.posterior_mean)]));
    const means = [...mean.values()].filter(Number.isFinite);
    const best = Math.max(...means);
    const avg = means.reduce((a, b) => a + b, 0) / (means.length || 1);
    let regret = 0;
    let gained = 0;
    const regretSeries = [];
    const gainedSeries = [];
    for (const d of days) {
      for (const row of d.variants ?? []) {
        const m = mean.get(row.variant_name ?? row.name);
        const n = Number(row.impressions) || 0;
        if (!Number.isFinite(m)) continue;
        regret += n * (best - m);
        gained += n * (m - avg);
      }
      regretSeries.push(regret);
      gainedSeries.push(gained);
    }
    const unit = metric === 'ctr' ? 'clicks' : 'conversions';
    chartShow('regret');
    drawChart(charts.regret.canvas, 'line', {
      labels: days.map((d) => d.date),
      datasets: [
        lineDataset(`Estimated regret (${unit} lost vs always-best)`, regretSeries, 1, { fill: false }),
        lineDataset(`${unit[0].toUpperCase()}${unit.slice(1)} gained vs even split`, gainedSeries, 2, { fill: false }),
      ],
    }, { yTitle: unit });
  }

  function drawIntervals(variants, metric) {
    const ok = variants.filter((v) => Number.isFinite(v.ci_low) && Number.isFinite(v.ci_high));
    if (!ok.length) {
      chartEmpty('intervals', 'No variants yet.');
      return;
    }
    chartShow('intervals');
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

  // ---- data entry ----

  function buildEntryForm() {
    const date = h('input', { type: 'date', id: 'entry-date', value: today(), required: true });
    const mode = h('select', { id: 'entry-mode' },
      h('option', { value: 'set' }, 'Set (replace the day)'),
      h('option', { value: 'increment' }, 'Add (increment)'));
    const rows = h('tbody', { id: 'entry-rows' });
    const addRow = h('button', { type: 'button', class: 'secondary', id: 'entry-add', onclick: () => appendRow('') }, 'Add variant row');
    const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'entry-status' });
    const submit = h('button', { type: 'submit', class: 'primary', id: 'entry-submit' }, 'Save day');
    let rowN = 0;
    let pending = null; // {body, key}: a retried identical increment reuses its Idempotency-Key

    function numberInput(name, label) {
      return h('input', { type: 'number', min: '0', step: '1', inputmode: 'numeric', class: `entry-${name}`, 'aria-label': label });
    }

    function appendRow(name, fixed = false) {
      rowN += 1;
      const nameInput = fixed
        ? h('input', { type: 'hidden', class: 'entry-name', value: name })
        : h('input', { type: 'text', class: 'entry-name', value: name, 'aria-label': `Variant name, row ${rowN}`, autocomplete: 'off' });
      rows.append(h('tr', { dataset: { variant: name } },
        h('th', { scope: 'row' }, fixed ? name : null, nameInput),
        h('td', { 'data-label': 'Impressions' }, numberInput('impressions', `Impressions of ${name || `row ${rowN}`}`)),
        h('td', { 'data-label': 'Clicks' }, numberInput('clicks', `Clicks of ${name || `row ${rowN}`}`)),
        h('td', { 'data-label': 'Conversions' }, numberInput('conversions', `Conversions of ${name || `row ${rowN}`}`))));
    }

    function setVariants(names, declared) {
      rows.replaceChildren();
      for (const n of names) appendRow(n, declared);
      if (!names.length) appendRow('');
      addRow.hidden = declared;
    }

    const form = h('form', { class: 'card form', id: 'entry-form', novalidate: true },
      h('h3', null, 'Enter a day'),
      h('div', { class: 'row-fields' },
        field('Date', date),
        field('Mode', mode, 'Set replaces the day\'s totals, so re-sending is safe; add accumulates several uploads for one day.')),
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table entry-table' },
          h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Variant'), h('th', { scope: 'col' }, 'Impressions'),
            h('th', { scope: 'col' }, 'Clicks'), h('th', { scope: 'col' }, 'Conversions'))),
          rows)),
      addRow, status, h('div', { class: 'actions' }, submit));

    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const problems = [];
      if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value)) problems.push('Pick a date.');
      const variants = [];
      for (const tr of rows.querySelectorAll('tr')) {
        const name = tr.querySelector('.entry-name').value.trim();
        const vals = ['impressions', 'clicks', 'conversions'].map((k) => tr.querySelector(`.entry-${k}`).value.trim());
        if (vals.every((v) => v === '')) continue;
        if (!name) { problems.push('Every filled row needs a variant name.'); continue; }
        const [impressions, clicks, conversions] = vals.map((v) => (v === '' ? 0 : Number(v)));
        if (![impressions, clicks, conversions].every((x) => Number.isInteger(x) && x >= 0)) {
          problems.push(`${name}: counts must be whole numbers ≥ 0.`);
          continue;
        }
        variants.push({ variant_name: name, impressions, clicks, conversions });
      }
      if (!variants.length) problems.push('Fill in at least one variant.');
      if (problems.length) {
        replace(status, errorBox({ message: 'Please fix these first', errors: problems }));
        return;
      }
      const body = { experiment_id: id, date: date.value, mode: mode.value, variants };
      const bodyText = JSON.stringify(body);
      let key = null;
      if (mode.value === 'increment') {
        key = pending && pending.body === bodyText ? pending.key : crypto.randomUUID();
        pending = { body: bodyText, key };
      }
      submit.disabled = true;
      replace(status, loading('Saving…'));
      try {
        const res = await api.ingest(body, key);
        pending = null;
        replace(status, h('p', { class: 'state state-ok', role: 'status' },
          `Saved ${res?.variants_processed ?? variants.length} variant(s) for ${res?.date ?? body.date} (${res?.mode ?? body.mode}): `
          + `${fmtInt(res?.total_impressions)} impressions, ${fmtInt(res?.total_clicks)} clicks, ${fmtInt(res?.total_conversions)} conversions that day.`));
        for (const input of rows.querySelectorAll('input[type="number"]')) input.value = '';
        await load();
      } catch (error) {
        if (error instanceof ApiError && error.status !== 0) pending = null;
        replace(status, errorBox(error));
      } finally {
        submit.disabled = false;
      }
    });
    return { element: form, setVariants };
  }

  function drawEntryRows() {
    adder.element.hidden = !exp.variants_declared;
    const known = variantList(exp).map((v) => v.name);
    const names = known.length ? known : (lastReportView?.alloc?.variants ?? []).map((v) => v.name);
    // Declared variants get fixed rows; otherwise names stay editable and rows can be added.
    const declared = exp.variants_declared ?? known.length > 0;
    const key = JSON.stringify([declared, names]);
    if (key === entryVariantsKey) return;
    entryVariantsKey = key;
    entry.setVariants(names, declared);
  }

  // ---- CSV import ----

  function buildImport() {
    const file = h('input', { type: 'file', id: 'import-file', accept: '.csv,text/csv' });
    const mode = h('select', { id: 'import-mode' },
      h('option', { value: 'set' }, 'Set (rows replace those days)'),
      h('option', { value: 'increment' }, 'Add (rows add to those days)'));
    const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'import-status' });
    const submit = h('button', { type: 'submit', class: 'primary', id: 'import-submit' }, 'Import CSV');
    const template = h('button', { type: 'button', class: 'secondary', id: 'import-template', onclick: downloadTemplate }, 'Download template');
    const form = h('form', { class: 'card form', id: 'import-form' },
      h('h3', null, 'Import a CSV'),
      h('p', { class: 'help' }, 'Columns ', h('code', null, 'date,variant_name,impressions,clicks,conversions'), ', one row per day and variant. Every row is checked first: if any row is wrong, nothing is stored and each bad row is listed.'),
      field('CSV file', file),
      field('Mode', mode),
      status,
      h('div', { class: 'actions' }, template, submit));

    let importPending = null; // { text, key } of an increment import not yet answered with success
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const chosen = file.files?.[0];
      if (!chosen) {
        replace(status, errorBox({ message: 'Choose a CSV file first.' }));
        return;
      }
      submit.disabled = true;
      replace(status, loading('Importing…'));
      try {
        const text = await chosen.text();
        // An increment import may be written in parts (DynamoDB): a retry of the same file
        // must carry the same key, so that the parts already stored are not added twice.
        let key = null;
        if (mode.value === 'increment') {
          const same = importPending && importPending.text === text;
          key = same ? importPending.key : crypto.randomUUID();
          importPending = { text, key };
        }
        const res = await api.importCsv(id, text, mode.value, key);
        importPending = null;
        replace(status, h('p', { class: 'state state-ok', role: 'status' },
          `Imported ${fmtInt(Number(res?.rows_imported))} row(s) from ${chosen.name}: `
          + `${fmtInt(Number(res?.days))} day(s), ${fmtInt(Number(res?.total_impressions))} impressions.`));
        file.value = '';
        await load();
      } catch (error) {
        // a refusal (4xx) stored nothing: the next attempt is a new request
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) importPending = null;
        const rows = error.errors ?? [];
        replace(status, h('div', { class: 'state state-error', role: 'alert', id: 'import-errors' },
          h('strong', null, error.status === 422 ? 'Nothing was imported: fix these rows and try again.' : (error.problem?.title || error.message)),
          error.problem?.detail && error.status !== 422 ? h('p', null, error.problem.detail) : null,
          rows.length ? h('ul', { class: 'error-list' }, rows.map((e) => h('li', null, describeImportError(e)))) : (error.status === 422 ? h('p', null, error.message) : null)));
      } finally {
        submit.disabled = false;
      }
    });
    return { element: form };
  }

  function downloadTemplate() {
    const names = variantList(exp).map((v) => v.name);
    const list = names.length ? names : ['control', 'variant_b'];
    const lines = ['date,variant_name,impressions,clicks,conversions',
      ...list.map((n) => [today(), csvCell(n), 1000, 50, 5].join(','))];
    const blob = new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' });
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: `${exp?.name || 'experiment'}-template.csv`.replace(/[^\w.-]+/g, '_') });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  }

  // ---- adding a variant (declared variants only; undeclared ones appear with their data) ----

  function buildAddVariant() {
    const name = h('input', { type: 'text', id: 'add-variant-name', maxlength: '100', autocomplete: 'off' });
    const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'add-variant-status' });
    const form = h('form', { class: 'card form', id: 'add-variant-form', hidden: true },
      h('h3', null, 'Add a variant'),
      h('p', { class: 'help' }, 'This experiment declares its variants, so data for a new one is refused until it is added here. Variants cannot be removed.'),
      field('New variant name', name),
      status,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary', id: 'add-variant-submit' }, 'Add variant')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const value = name.value.trim();
      if (!value) {
        replace(status, errorBox({ message: 'Give the variant a name.' }));
        return;
      }
      try {
        exp = await api.updateExperiment(id, { variants: [{ name: value }] });
        name.value = '';
        replace(status, h('p', { class: 'state state-ok', role: 'status' }, `Added ${value}.`));
        await load();
      } catch (error) {
        replace(status, errorBox(error));
      }
    });
    return { element: form };
  }

  // ---- settings ----

  function drawSettings() {
    // Diff against the values the form shows, so a setting changed elsewhere meanwhile is not
    // written back unless the user edits it here.
    let shown = { ...exp.settings };
    settingsForm = settingsFieldset(shown, { legend: 'Engine settings', idPrefix: 'exp-set' });
    const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'settings-status' });
    const save = h('button', { type: 'submit', class: 'primary', id: 'settings-save' }, 'Save settings');
    const form = h('form', { class: 'form', id: 'settings-form', novalidate: true },
      settingsForm.element, status, h('div', { class: 'actions' }, save));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const read = settingsForm.read();
      if (!read.ok) {
        replace(status, errorBox({ message: 'Some settings are out of range (marked above).' }));
        return;
      }
      const patch = changedSettings(shown, read.values);
      if (!Object.keys(patch).length) {
        replace(status, h('p', { class: 'state state-empty' }, 'Nothing changed.'));
        return;
      }
      save.disabled = true;
      replace(status, loading('Saving…'));
      try {
        exp = await api.updateExperiment(id, { settings: patch });
        shown = { ...exp.settings };
        settingsForm.setValues(shown);
        replace(status, h('p', { class: 'state state-ok', role: 'status' },
          `Saved ${Object.keys(patch).join(', ')}. The allocation above now uses the new settings.`));
        await load();
      } catch (error) {
        const rest = settingsForm.showErrors(error.errors);
        replace(status, errorBox({ message: error.message, problem: error.problem, errors: rest }));
      } finally {
        save.disabled = false;
      }
    });
    replace(settingsBox, form);
  }

  // ---- actions ----

  async function changeStatus(status, button) {
    button.disabled = true;
    try {
      exp = await api.updateExperiment(id, { status });
      await load();
    } catch (error) {
      replace(pageError, errorBox(error));
    } finally {
      button.disabled = false;
    }
  }

  async function onDelete() {
    const ok = await confirmDialog({
      title: 'Delete this experiment?',
      message: `"${exp?.name ?? id}" and all its daily data and history will be deleted. This cannot be undone.`,
      confirmLabel: 'Delete for good',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteExperiment(id);
      alive = false;
      window.location.hash = '#/';
    } catch (error) {
      replace(pageError, errorBox(error));
    }
  }

  // ---- refresh: on an interval, paused while the tab is hidden ----

  const every = refreshMs();
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, every);
  const onVisible = () => {
    if (!document.hidden && Date.now() - lastLoaded >= every) load();
  };
  document.addEventListener('visibilitychange', onVisible);

  load();
  return () => {
    alive = false;
    clearInterval(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
