// Signals in the "Now" panel: the API's warnings (split mismatch, drift, stale data,
// insufficient data, estimates that disagree), the reasons for the current split, and how
// fresh the data are.
import { fmtPct, h, replace } from '../../dom.js';

/** A split mismatch's days as a table: each variant's observed vs recommended share. */
function mismatchTable(w) {
  const dates = w.dates ?? Object.keys(w.observed ?? {});
  if (!dates.length) return null;
  const names = [...new Set(dates.flatMap((d) => Object.keys(w.observed?.[d] ?? {})))];
  return h('table', { class: 'table compact mismatch' },
    h('caption', { class: 'muted small' }, 'Share of impressions served vs recommended'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Day'),
      names.map((n) => h('th', { scope: 'col' }, n)))),
    h('tbody', null, dates.map((d) => h('tr', null, h('th', { scope: 'row' }, d),
      names.map((n) => h('td', { class: 'num nowrap' },
        `${fmtPct(Number(w.observed?.[d]?.[n]))} vs ${fmtPct(Number(w.expected?.[d]?.[n]))}`))))));
}

function warningItem(w) {
  const details = [];
  if (w.code === 'drift_suspected' && (w.variant || w.since)) {
    details.push(h('span', { class: 'small' }, `Variant ${w.variant ?? '–'}, since ${w.since ?? '–'}.`));
  }
  if (w.code === 'stale_data' && w.latest_day) {
    details.push(h('span', { class: 'small' }, `Latest data day: ${w.latest_day}.`));
  }
  if (w.code === 'split_mismatch') details.push(mismatchTable(w));
  return h('li', { class: `signal signal-${w.code}`, dataset: { code: w.code, variant: w.variant ?? '' } },
    h('strong', null, `${w.code.replace(/_/g, ' ')}: `), w.message, details.length ? ' ' : null, details);
}

export function signalsPanel() {
  const element = h('div', { class: 'signals', id: 'signals' });

  /** alloc: /allocation or the report; days: the daily data sorted by date (null: not loaded). */
  function draw(alloc, days) {
    const warnings = alloc?.warnings ?? [];
    const reasons = alloc?.reasons ?? [];
    let freshness;
    if (days === null) freshness = 'Data range: – (the daily data did not load).';
    else if (!days.length) freshness = 'No data yet.';
    else {
      const first = days[0].date;
      const last = days[days.length - 1].date;
      freshness = `Data from ${first} to ${last} (${days.length} ${days.length === 1 ? 'day' : 'days'}); latest data day ${last}.`;
    }
    replace(element,
      h('p', { class: 'freshness small', id: 'freshness' }, freshness),
      warnings.length ? h('div', { class: 'card warnings', id: 'warnings' },
        h('h3', null, `Warnings (${warnings.length})`),
        h('ul', { class: 'signal-list' }, warnings.map(warningItem))) : null,
      reasons.length ? h('div', { class: 'card reasons', id: 'reasons' },
        h('h3', null, 'Why this split'),
        h('ul', { class: 'signal-list' }, reasons.map((r) => h('li', { class: `signal reason-${r.code}`, dataset: { code: r.code } }, r.message)))) : null);
  }

  return { element, draw, clear: () => replace(element) };
}
