// The simulator: true rates, traffic, days and settings → POST /simulate (the real engine).
import { api } from '../api.js';
import { drawChart, lineDataset } from '../charts.js';
import { errorBox, field, fmtInt, fmtNum, h, loading, replace } from '../dom.js';
import { settingsFieldset } from '../settings.js';
import { seedsTable, settingsDiff } from './simulator-seeds.js';

// The server's caps (banditkit.models SIM_*): one simulation stays a fast request.
export const LIMITS = {
  variants: 10, days: 365, dailyImpressions: 1000000, work: 1000, seeds: 50, runDays: 730, totalWork: 2000,
};
export const LIMITS_TEXT = `Limits: up to ${LIMITS.variants} variants, ${LIMITS.days} days and `
  + `${LIMITS.dailyImpressions.toLocaleString('en-US')} impressions a day, with days × variants at most `
  + `${LIMITS.work} (for example 3 variants for up to 333 days), and up to ${LIMITS.seeds} runs with `
  + `runs × days at most ${LIMITS.runDays} and runs × days × variants at most `
  + `${LIMITS.totalWork.toLocaleString('en-US')}, counted twice when comparing. A request over a `
  + 'limit is refused and the answer says which one.';

export function renderSimulator(main) {
  const rowsEl = h('ol', { class: 'variant-rows', id: 'sim-variants' });
  let n = 0;
  function addRow(name = '', rate = '', control = false) {
    n += 1;
    const nameInput = h('input', { type: 'text', class: 'sim-name', id: `sim-name-${n}`, value: name, autocomplete: 'off' });
    const rateInput = h('input', {
      type: 'number', class: 'sim-rate', id: `sim-rate-${n}`, value: String(rate), min: '0', max: '1', step: 'any', inputmode: 'decimal',
    });
    const afterInput = h('input', {
      type: 'number', class: 'sim-rate-after', id: `sim-rate-after-${n}`, min: '0', max: '1', step: 'any', inputmode: 'decimal',
      placeholder: 'unchanged',
    });
    const radio = h('input', { type: 'radio', name: 'sim-control', id: `sim-control-${n}`, class: 'sim-control', checked: control });
    const row = h('li', { class: 'variant-row' },
      h('label', { for: nameInput.id }, `Variant ${n}`), nameInput,
      h('label', { for: rateInput.id }, 'True rate'), rateInput,
      h('label', { for: afterInput.id }, 'Rate after the change'), afterInput,
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
  const seeds = h('input', { type: 'number', id: 'sim-seeds', value: '10', min: '1', max: String(LIMITS.seeds), step: '1', inputmode: 'numeric' });
  const changeDay = h('input', { type: 'number', id: 'sim-change-day', min: '2', max: String(LIMITS.days), step: '1', inputmode: 'numeric', placeholder: 'none' });
  const settings = settingsFieldset({}, { legend: 'Engine settings', idPrefix: 'sim-set' });
  const compare = h('input', { type: 'checkbox', id: 'sim-compare' });
  const other = settingsFieldset({}, { legend: 'Settings to compare with', idPrefix: 'sim-cmp' });
  const otherBox = h('div', { id: 'sim-compare-settings', hidden: true }, other.element);
  compare.addEventListener('change', () => { otherBox.hidden = !compare.checked; });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'sim-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'sim-run' }, 'Run simulation');

  const sharesCanvas = h('canvas', { id: 'chart-sim-shares', role: 'img', 'aria-label': 'Shares over the simulated days' });
  const regretCanvas = h('canvas', { id: 'chart-sim-regret', role: 'img', 'aria-label': 'Cumulative regret, bandit vs even split' });
  const summary = h('div', { id: 'sim-summary' });
  const overSeeds = h('div', { id: 'sim-over-seeds' });
  const results = h('section', { id: 'sim-results', 'aria-labelledby': 'h-sim-results', hidden: true },
    h('h2', { id: 'h-sim-results' }, 'Result'), summary, overSeeds,
    h('p', { class: 'help' }, 'The charts show the first run (the seed above).'),
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
      field('Seed', seed, 'Changes the random draws.'),
      field('Runs (seeds)', seeds, 'Runs on seed, seed + 1, …: the results show the median and the 10th to 90th percentile.')),
    h('fieldset', null, h('legend', null, 'A change of the true rates (drift)'),
      h('div', { class: 'row-fields' },
        field('Change on day', changeDay, 'From this day on (day 1 is the first), each variant converts at its "rate after the change". Try "On a suspected change" in the settings against it.'))),
    h('details', { class: 'settings-details' }, h('summary', null, 'Settings'), settings.element),
    h('div', { class: 'field check-field' }, h('label', { for: compare.id }, compare, ' Compare with other settings on the same runs')),
    otherBox,
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
      else {
        const afterText = row.querySelector('.sim-rate-after').value.trim();
        const after = afterText === '' ? rate : Number(afterText);
        if (!(after >= 0 && after <= 1)) problems.push(`${name}: the rate after the change must be between 0 and 1.`);
        variants.push({ name, rate, is_control: row.querySelector('.sim-control').checked, after });
      }
    }
    if (variants.length < 2) problems.push('Simulate at least two variants.');
    if (variants.length > LIMITS.variants) problems.push(`At most ${LIMITS.variants} variants.`);
    const ints = [[daily, 'Impressions per day', 1], [days, 'Days', 1], [seed, 'Seed', 0], [seeds, 'Runs (seeds)', 1]];
    if (changeDay.value.trim() !== '') ints.push([changeDay, 'Change on day', 2]);
    for (const [input, label, min] of ints) {
      const v = Number(input.value);
      if (!Number.isInteger(v) || v < min) problems.push(`${label} must be a whole number ≥ ${min}.`);
    }
    if (Number(changeDay.value) > Number(days.value)) problems.push('Change on day must be one of the simulated days.');
    const read = settings.read();
    if (!read.ok) problems.push('Some settings are out of range.');
    const readOther = compare.checked ? other.read() : null;
    if (readOther && !readOther.ok) problems.push('Some settings to compare with are out of range.');
    if (problems.length) {
      replace(status, errorBox({ message: 'Please fix these first', errors: problems }));
      return;
    }
    submit.disabled = true;
    replace(status, loading('Simulating…'));
    try {
      const body = {
        variants: variants.map(({ after, ...v }) => v), daily_impressions: Number(daily.value), days: Number(days.value),
        seed: Number(seed.value), seeds: Number(seeds.value), settings: read.values,
      };
      if (changeDay.value.trim() !== '') {
        body.changes = [{ day: Number(changeDay.value) - 1, rates: variants.map((v) => v.after) }];
      }
      if (readOther) body.compare_settings = readOther.values;
      const res = await api.simulate(body);
      replace(status);
      draw(res, variants.map((v) => v.name), readOther ? settingsDiff(read.values, readOther.values) : null);
    } catch (error) {
      const isOther = (e) => String(e?.field ?? '').startsWith('compare_settings.');
      const rest = [
        ...settings.showErrors((error.errors ?? []).filter((e) => !isOther(e))),
        ...other.showErrors((error.errors ?? []).filter(isOther)),
      ];
      const refused = error.status === 422 || error.status === 413;
      replace(status, errorBox({
        title: refused ? 'The simulation was refused' : undefined,
        status: error.status,
        message: error.message,
        problem: error.problem,
        errors: rest,
      }));
    } finally {
      submit.disabled = false;
    }
  });

  function draw(res, fallbackNames, diff) {
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
        `${fmtNum(Number(regret.at(-1)))} vs ${fmtNum(Number(even.at(-1)))}`)),
      h('div', null, h('dt', null, 'Winner declared'), h('dd', { id: 'sim-winner-day' },
        Number.isInteger(res.winner_day) ? `after ${res.winner_day} day${res.winner_day === 1 ? '' : 's'} (${res.winner})`
          : `not within ${perDay.length} days`))));
    const labels2 = diff ? [`These settings (${diff[0]})`, `Compared (${diff[1]})`] : ['These settings', ''];
    replace(overSeeds, res.over_seeds ? seedsTable(res, labels2) : null);
    drawChart(sharesCanvas, 'line', {
      labels,
      datasets: names.map((name, i) => lineDataset(name, perDay.map((d) => d.shares?.[name] ?? null), i)),
    }, { yPercent: true, yDigits: 0, yMin: 0, yMax: 1, yTitle: 'Share of traffic' });
    drawChart(regretCanvas, 'line', {
      labels,
      datasets: [
        lineDataset('Bandit', regret, 0),
        lineDataset('Even split', even, 1, { borderDash: [6, 4] }),
      ],
    }, { yTitle: 'Cumulative regret (successes)' });
    results.scrollIntoView({ block: 'nearest' });
  }

  replace(main,
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Simulator')),
    form, results);
}
