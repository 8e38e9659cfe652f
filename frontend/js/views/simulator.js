// The simulator: true rates, traffic, days and settings → POST /simulate (the real engine).
import { api } from '../api.js';
import { drawChart, lineDataset } from '../charts.js';
import { errorBox, field, fmtInt, fmtNum, h, loading, replace } from '../dom.js';
import { settingsFieldset } from '../settings.js';

// The server's caps (banditkit.models SIM_*): one simulation stays a fast request.
export const LIMITS = { variants: 10, days: 365, dailyImpressions: 1000000, work: 1000 };
export const LIMITS_TEXT = `Limits: up to ${LIMITS.variants} variants, ${LIMITS.days} days and `
  + `${LIMITS.dailyImpressions.toLocaleString('en-US')} impressions a day, with days × variants at most `
  + `${LIMITS.work} (for example 3 variants for up to 333 days). A request over a limit is refused `
  + 'and the answer says which one.';

export function renderSimulator(main) {
  const rowsEl = h('ol', { class: 'variant-rows', id: 'sim-variants' });
  let n = 0;
  function addRow(name = '', rate = '', control = false) {
    n += 1;
    const nameInput = h('input', { type: 'text', class: 'sim-name', id: `sim-name-${n}`, value: name, autocomplete: 'off' });
    const rateInput = h('input', {
      type: 'number', class: 'sim-rate', id: `sim-rate-${n}`, value: String(rate), min: '0', max: '1', step: 'any', inputmode: 'decimal',
    });
    const radio = h('input', { type: 'radio', name: 'sim-control', id: `sim-control-${n}`, class: 'sim-control', checked: control });
    const row = h('li', { class: 'variant-row' },
      h('label', { for: nameInput.id }, `Variant ${n}`), nameInput,
      h('label', { for: rateInput.id }, 'True rate'), rateInput,
      h('span', { class: 'control-choice' }, radio, h('label', { for: radio.id }, 'Control')),
      h('button', { type: 'button', class: 'secondary small-button', 'aria-label': `Remove variant ${n}`, onclick: () => row.remove() }, 'Remove'));
    rowsEl.append(row);
    return nameInput;
  }
  addRow('control', 0.05, true);
  addRow('variant_b', 0.06);
  addRow('variant_c', 0.045);

  const daily = h('input', { type: 'number', id: 'sim-daily', value: '1000', min: '1', max: String(LIMITS.dailyImpressions), step: '1', inputmode: 'numeric' });
  const days = h('input', { type: 'number', id: 'sim-days', value: '30', min: '1', max: String(LIMITS.days), step: '1', inputmode: 'numeric' });
  const seed = h('input', { type: 'number', id: 'sim-seed', value: '0', min: '0', step: '1', inputmode: 'numeric' });
  const settings = settingsFieldset({}, { legend: 'Engine settings', idPrefix: 'sim-set' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'sim-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'sim-run' }, 'Run simulation');

  const sharesCanvas = h('canvas', { id: 'chart-sim-shares', role: 'img', 'aria-label': 'Shares over the simulated days' });
  const regretCanvas = h('canvas', { id: 'chart-sim-regret', role: 'img', 'aria-label': 'Cumulative regret, bandit vs even split' });
  const summary = h('div', { id: 'sim-summary' });
  const results = h('section', { id: 'sim-results', 'aria-labelledby': 'h-sim-results', hidden: true },
    h('h2', { id: 'h-sim-results' }, 'Result'), summary,
    h('div', { class: 'chart-grid' },
      h('figure', { class: 'card chart-card' }, h('h3', null, 'Traffic shares by day'),
        h('div', { class: 'chart-box' }, sharesCanvas),
        h('figcaption', { class: 'help' }, 'The share the engine gives each variant on each simulated day.')),
      h('figure', { class: 'card chart-card' }, h('h3', null, 'Cumulative regret vs an even split'),
        h('div', { class: 'chart-box' }, regretCanvas),
        h('figcaption', { class: 'help' }, 'Expected successes lost against always showing the truly best variant.'))));

  const form = h('form', { class: 'card form', id: 'sim-form', novalidate: true },
    h('p', { class: 'help' }, 'Runs the server\'s own engine on made-up traffic: each day the bandit allocates, simulated visitors convert at the true rates you set, and the counts feed the next day. Same seed, same result.'),
    h('fieldset', null, h('legend', null, 'Variants and their true rates (0 to 1)'), rowsEl,
      h('button', { type: 'button', class: 'secondary', onclick: () => addRow('').focus() }, 'Add variant')),
    h('div', { class: 'row-fields' },
      field('Impressions per day', daily),
      field('Days', days),
      field('Seed', seed, 'Changes the random draws.')),
    h('details', { class: 'settings-details' }, h('summary', null, 'Settings'), settings.element),
    h('p', { class: 'help', id: 'sim-limits' }, LIMITS_TEXT),
    status, h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const problems = [];
    const variants = [];
    for (const row of rowsEl.querySelectorAll('.variant-row')) {
      const name = row.querySelector('.sim-name').value.trim();
      const rateText = row.querySelector('.sim-rate').value.trim();
      if (!name && !rateText) continue;
      const rate = Number(rateText);
      if (!name) problems.push('Every variant needs a name.');
      else if (rateText === '' || !(rate >= 0 && rate <= 1)) problems.push(`${name}: the true rate must be between 0 and 1.`);
      else variants.push({ name, rate, is_control: row.querySelector('.sim-control').checked });
    }
    if (variants.length < 2) problems.push('Simulate at least two variants.');
    if (variants.length > LIMITS.variants) problems.push(`At most ${LIMITS.variants} variants.`);
    const ints = [[daily, 'Impressions per day', 1], [days, 'Days', 1], [seed, 'Seed', 0]];
    for (const [input, label, min] of ints) {
      const v = Number(input.value);
      if (!Number.isInteger(v) || v < min) problems.push(`${label} must be a whole number ≥ ${min}.`);
    }
    const read = settings.read();
    if (!read.ok) problems.push('Some settings are out of range.');
    if (problems.length) {
      replace(status, errorBox({ message: 'Please fix these first', errors: problems }));
      return;
    }
    submit.disabled = true;
    replace(status, loading('Simulating…'));
    try {
      const res = await api.simulate({
        variants, daily_impressions: Number(daily.value), days: Number(days.value),
        seed: Number(seed.value), settings: read.values,
      });
      replace(status);
      draw(res, variants.map((v) => v.name));
    } catch (error) {
      const rest = settings.showErrors(error.errors);
      replace(status, errorBox({
        message: error.status === 422 || error.status === 413 ? 'The simulation was refused' : error.message,
        problem: error.problem,
        errors: rest,
      }));
    } finally {
      submit.disabled = false;
    }
  });

  function draw(res, fallbackNames) {
    const names = res.variants ?? fallbackNames;
    const perDay = res.days ?? [];
    const regret = perDay.map((d) => d.cumulative_regret);
    const even = perDay.map((d) => d.even_cumulative_regret);
    const labels = perDay.map((d) => `day ${d.day + 1}`);
    results.hidden = false;
    const gain = Number(res.successes) - Number(res.even_successes);
    replace(summary, h('dl', { class: 'figures' },
      h('div', null, h('dt', null, 'Successes, bandit'), h('dd', { id: 'sim-successes' }, fmtInt(Number(res.successes)))),
      h('div', null, h('dt', null, 'Successes, even split'), h('dd', null, fmtInt(Number(res.even_successes)))),
      h('div', null, h('dt', null, 'Gained by the bandit'), h('dd', null, Number.isFinite(gain) ? `${gain >= 0 ? '+' : ''}${fmtInt(gain)}` : '–')),
      h('div', null, h('dt', null, 'Final regret, bandit vs even'), h('dd', null,
        `${fmtNum(Number(regret.at(-1)))} vs ${fmtNum(Number(even.at(-1)))}`))));
    drawChart(sharesCanvas, 'line', {
      labels,
      datasets: names.map((name, i) => lineDataset(name, perDay.map((d) => d.shares?.[name] ?? null), i)),
    }, { yPercent: true, yDigits: 0, yMin: 0, yMax: 1, yTitle: 'Share of traffic' });
    drawChart(regretCanvas, 'line', {
      labels,
      datasets: [
        lineDataset('Thompson sampling', regret, 0),
        lineDataset('Even split', even, 1, { borderDash: [6, 4] }),
      ],
    }, { yTitle: 'Cumulative regret (successes)' });
    results.scrollIntoView({ block: 'nearest' });
  }

  replace(main,
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Simulator')),
    form, results);
}
