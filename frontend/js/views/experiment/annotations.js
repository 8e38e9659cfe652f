// What the charts mark: the experiment's logged changes (settings, added variants, pauses,
// resumes, completion) and the day a winner was first declared, each at its data day.
import { h, replace } from '../../dom.js';
import { historyByDataDay } from './shape.js';

const KIND_LABELS = {
  settings: 'Settings changed',
  variants_added: 'Variant added',
  paused: 'Paused',
  resumed: 'Resumed',
  completed: 'Completed',
  winner: 'Winner declared',
};

function winnerOf(item) {
  const best = Object.entries(item?.p_best ?? {}).sort(([, a], [, b]) => Number(b) - Number(a))[0];
  return best ? best[0] : null;
}

/**
 * The events to mark, oldest first: [{day, kind, label, detail, number}]. `day` is the latest
 * data day when it happened (null: before any data, drawn at the first day); a variant that
 * appeared with its events counts from its first day of data. A winner counts
 * from the first snapshot, by data day, whose status says so after one that did not.
 */
export function chartEvents(exp, historyItems, days, windowDays) {
  const events = (exp?.changes ?? []).map((c) => ({
    day: c.latest_day ?? null, at: c.at, kind: c.kind, detail: c.detail,
  }));
  // Variants of an experiment that declares none appear with their events: the first day
  // with a row for one that came after the first day of data is its "added" day.
  if (exp && !exp.variants_declared && days?.length) {
    const first = new Map();
    for (const d of days) {
      for (const v of d.variants ?? []) {
        const name = v.variant_name ?? v.name;
        if (!first.has(name)) first.set(name, d.date);
      }
    }
    for (const [name, day] of first) {
      if (day > days[0].date) events.push({ day, at: '', kind: 'variants_added', detail: `${name} (first data)` });
    }
  }
  let before = null;
  for (const { day, item } of historyByDataDay(historyItems ?? [], days ?? [], windowDays)) {
    const won = item.status === 'winner_found';
    if (won && before !== 'winner_found') {
      const name = winnerOf(item);
      events.push({ day, at: item.computed_at, kind: 'winner', detail: name ? `${name} leads` : '' });
    }
    before = item.status;
  }
  events.sort((a, b) => String(a.day ?? '').localeCompare(String(b.day ?? '')) || String(a.at).localeCompare(String(b.at)));
  return events.map((e, i) => ({ ...e, number: i + 1, label: KIND_LABELS[e.kind] ?? e.kind }));
}

/** The events placed on a chart's day labels: the first label on or after the day, else the last. */
export function placeEvents(events, labels) {
  if (!labels.length) return [];
  return events.map((e) => {
    let index = e.day === null ? 0 : labels.findIndex((l) => String(l) >= e.day);
    if (index < 0) index = labels.length - 1;
    return { index, day: labels[index], number: e.number, label: e.label, detail: e.detail, kind: e.kind };
  });
}

/** Tooltip lines for the events marked at a label index. */
export function eventLines(placed, index) {
  return placed.filter((p) => p.index === index).map((p) => `${p.number} ${p.label}${p.detail ? `: ${p.detail}` : ''}`);
}

/** The numbered list of events above the charts: the markers' text alternative. */
export function eventsList() {
  const list = h('ol', { class: 'chart-events-list', id: 'chart-events-list' });
  const element = h('div', { class: 'card chart-events', id: 'chart-events', hidden: true },
    h('h3', null, 'Marked on the charts'), list);
  function draw(events) {
    element.hidden = !events.length;
    replace(list, events.map((e) => h('li', { value: String(e.number), dataset: { kind: e.kind, day: e.day ?? '' } },
      h('span', { class: 'nowrap' }, e.day ?? 'before the data'), ' · ', h('strong', null, e.label),
      e.detail ? `: ${e.detail}` : '')));
  }
  return { element, draw };
}
