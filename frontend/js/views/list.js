// The experiments list, newest first. Search (id or name) and the status filter run on the
// server across every page and live in the URL (#/?q=…&status=…); the history entry's state
// keeps how many rows were loaded and the scroll position, so Back restores all three.
import { api } from '../api.js';
import { badge, empty, errorBox, field, fmtPct, h, isoDate, loading, replace } from '../dom.js';

const PAGE = 50;
const DAY_MS = 86400000;
const SEARCH_DELAY_MS = 250;
const STATUSES = ['running', 'paused', 'completed'];

/** The filters a list URL carries: #/?q=…&status=… (an unknown status is ignored). */
export function listFilters(hash = window.location.hash) {
  const params = new URLSearchParams(hash.split('?')[1] ?? '');
  const status = params.get('status') ?? '';
  return { q: params.get('q') ?? '', status: STATUSES.includes(status) ? status : '' };
}

function listHash({ q, status }) {
  const params = new URLSearchParams();
  if (q) params.set('q', q);
  if (status) params.set('status', status);
  const query = params.toString();
  return query ? `#/?${query}` : '#/';
}

/**
 * Whole days since the experiment was created: until now, or for a completed one until its
 * logged completion (its last change when the log has none, as from an older server).
 */
export function daysRunning(exp, now = Date.now()) {
  const start = Date.parse(exp.created_at);
  const completed = (exp.changes || []).filter((c) => c.kind === 'completed').pop();
  const end = exp.status === 'completed' ? Date.parse((completed || exp).at || exp.updated_at) : now;
  if (!Number.isFinite(start) || !Number.isFinite(end)) return null;
  return Math.max(0, Math.floor((end - start) / DAY_MS));
}

function leaderCell(exp) {
  const cell = h('td', { class: 'small', 'data-label': 'Leader' });
  if (exp.leader) {
    cell.append(h('span', { class: 'leader-name' }, exp.leader.variant), ' ',
      h('span', { class: 'leader-pbest nowrap' }, `${fmtPct(Number(exp.leader.p_best))} P(best)`));
  } else {
    cell.append(h('span', { class: 'muted' }, 'not enough data'));
  }
  if (exp.shipped_variant) cell.append(h('div', { class: 'shipped' }, 'shipped ', h('strong', null, exp.shipped_variant)));
  return cell;
}

function row(exp) {
  const days = daysRunning(exp);
  return h('tr', { dataset: { id: exp.id } },
    h('td', null, h('a', { href: `#/experiments/${encodeURIComponent(exp.id)}` }, exp.name || exp.id),
      exp.description ? h('div', { class: 'muted small clamp' }, exp.description) : null),
    h('td', null, badge(exp.status)),
    h('td', { class: 'small nowrap', 'data-label': 'Started' }, isoDate(new Date(exp.created_at))),
    h('td', { class: 'small num', 'data-label': 'Days running' }, days === null ? '–' : String(days)),
    leaderCell(exp));
}

export function renderList(main) {
  let items = [];
  let cursor = null;
  let alive = true;
  let generation = 0;
  let restored = false; // the saved scroll position is applied once, after the rows load
  let searchTimer = null;
  const filters = listFilters();
  // Set by a Back/Forward to this entry: how many rows it showed, and where it was scrolled.
  const saved = window.history.state?.list ?? null;

  const search = h('input', { type: 'search', id: 'exp-search', placeholder: 'Name or id', value: filters.q });
  const status = h('select', { id: 'exp-status' },
    h('option', { value: '' }, 'Any status'),
    ...STATUSES.map((s) => h('option', { value: s, selected: s === filters.status }, s[0].toUpperCase() + s.slice(1))));
  const results = h('div', { class: 'results', id: 'exp-results' }, loading());
  const summary = h('p', { class: 'muted small', id: 'exp-count', role: 'status' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load(false) }, 'Load more');

  replace(main,
    h('div', { class: 'page-head' },
      h('h1', { tabindex: '-1' }, 'Experiments'),
      h('a', { class: 'button primary', href: '#/new' }, 'New experiment')),
    h('form', { class: 'toolbar', role: 'search', onsubmit: (ev) => { ev.preventDefault(); apply(); } },
      field('Search', search, 'Name or id, any case; searches every experiment.'), field('Status', status)),
    summary, results, more);

  /** Keep the rows loaded and the scroll position in this history entry. */
  function remember() {
    if (!alive || !restored) return;
    window.history.replaceState({ list: { rows: items.length, y: window.scrollY } }, '', window.location.href);
  }

  function current() {
    return { q: search.value.trim(), status: status.value };
  }

  function describe({ q, status: st }) {
    const parts = [];
    if (q) parts.push(`matching "${q}"`);
    if (st) parts.push(`with status ${st}`);
    return parts.join(' ');
  }

  function draw() {
    const shown = current();
    const filtered = Boolean(shown.q || shown.status);
    more.hidden = !cursor;
    replace(summary, `${items.length}${cursor ? '+' : ''} experiment${items.length === 1 && !cursor ? '' : 's'}${filtered ? ` ${describe(shown)}` : ''}, newest first`);
    if (!items.length) {
      if (filtered) {
        replace(results, empty(`No experiment ${describe(shown)}. `), h('p', null, h('a', { href: '#/' }, 'Show every experiment.')));
      } else {
        replace(results, empty('No experiments yet. '), h('p', null, h('a', { href: '#/new' }, 'Create the first one.')));
      }
      return;
    }
    replace(results,
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Experiments' },
        h('table', { class: 'table', id: 'experiments-table' },
          h('thead', null, h('tr', null,
            h('th', { scope: 'col' }, 'Experiment'), h('th', { scope: 'col' }, 'Status'),
            h('th', { scope: 'col' }, 'Started'), h('th', { scope: 'col', class: 'num' }, 'Days running'),
            h('th', { scope: 'col' }, 'Leader'))),
          h('tbody', null, items.map(row)))));
  }

  /** One page more, or from the start (reset); a Back first reloads as many rows as it had. */
  async function load(reset) {
    generation += 1;
    const gen = generation;
    if (reset) {
      items = [];
      cursor = null;
      replace(results, loading());
    }
    more.disabled = true;
    const want = !restored && saved ? Math.max(saved.rows, 1) : 1;
    const { q, status: st } = current();
    try {
      let fetched = 0;
      do {
        const page = await api.listExperiments({ q, status: st, order: 'newest', limit: PAGE, cursor });
        if (!alive || gen !== generation) return;
        items = items.concat(page?.items ?? []);
        fetched += page?.items?.length ?? 0;
        cursor = page?.next_cursor ?? null;
      } while (cursor && fetched < want);
      draw();
      if (!restored) {
        restored = true;
        if (saved) window.scrollTo(0, saved.y);
      }
    } catch (error) {
      if (!alive || gen !== generation) return;
      replace(results, errorBox(error, () => load(true)));
    } finally {
      if (gen === generation) more.disabled = false;
    }
  }

  /** The filters as they stand go into the URL (replacing this entry) and are loaded. */
  function apply() {
    clearTimeout(searchTimer);
    const next = listHash(current());
    if (next !== window.location.hash && !(next === '#/' && window.location.hash === '')) {
      window.history.replaceState(null, '', next);
    }
    restored = true; // a new search starts at the top
    load(true);
  }

  let scrollTimer = null;
  const onScroll = () => {
    clearTimeout(scrollTimer);
    scrollTimer = setTimeout(remember, 100);
  };
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(apply, SEARCH_DELAY_MS);
  });
  status.addEventListener('change', apply);
  // Opening an experiment: remember this entry's rows and scroll position first.
  results.addEventListener('click', (ev) => { if (ev.target.closest('a')) remember(); }, true);
  window.addEventListener('scroll', onScroll, { passive: true });
  load(true);
  return () => {
    alive = false;
    clearTimeout(searchTimer);
    clearTimeout(scrollTimer);
    window.removeEventListener('scroll', onScroll);
  };
}
