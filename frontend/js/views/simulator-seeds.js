// The simulator's summary over seeds: clicks lost and days to a winner as a median and a
// 10th-90th percentile band, for the settings and, side by side, the compared settings.
import { fmtNum, h } from '../dom.js';

const band = (b) => (b ? `${fmtNum(b.median)}` : '–');
const range = (b) => (b ? `${fmtNum(b.p10)} – ${fmtNum(b.p90)}` : 'no winner in any run');

function cell(col, row, b, note) {
  return h('td', { class: 'num', dataset: { col, row } },
    h('span', { class: 'sim-median' }, band(b)),
    h('br'),
    h('span', { class: 'sim-band help' }, range(b)),
    note ? h('br') : null,
    note ? h('span', { class: 'help' }, note) : null);
}

/** The keys (and values) in which `other` differs from `mine`, as a short label. */
export function settingsDiff(mine, other) {
  const keys = Object.keys({ ...mine, ...other }).filter((k) => mine[k] !== other[k]);
  const say = (values) => keys.map((k) => `${k.replace(/_/g, ' ')} ${values[k] ?? 'off'}`).join(', ');
  return keys.length ? [say(mine), say(other)] : ['same settings', 'same settings'];
}

/**
 * A table of the summaries: res.over_seeds and, when present, res.comparison.
 * labels: [label of the settings, label of the compared settings].
 */
export function seedsTable(res, labels) {
  const cols = [['a', res.over_seeds, labels[0]]];
  if (res.comparison) cols.push(['b', res.comparison, labels[1]]);
  const n = res.over_seeds?.seeds ?? 1;
  const declared = (s) => `winner in ${s.winners_declared} of ${s.seeds} runs`;
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table sim-seeds', id: 'sim-seeds-table' },
      h('caption', { class: 'help' }, `Over ${n} run${n === 1 ? '' : 's'} (seeds): the median, and below it the 10th to 90th percentile.`),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Measure'),
        cols.map(([col, , label]) => h('th', { scope: 'col', dataset: { col } }, label)))),
      h('tbody', null,
        h('tr', null, h('th', { scope: 'row' }, 'Clicks lost vs always showing the best'),
          cols.map(([col, s]) => cell(col, 'clicks_lost', s.clicks_lost))),
        h('tr', null, h('th', { scope: 'row' }, 'Days to a declared winner'),
          cols.map(([col, s]) => cell(col, 'days_to_winner', s.days_to_winner, declared(s)))))));
}
