// The experiments list: status filter (server side), search (in the page), load more.
import { api } from '../api.js';
import { badge, empty, errorBox, field, fmtTime, h, loading, replace } from '../dom.js';

const PAGE = 50;

function variantNames(exp) {
  return (exp.variants ?? []).map((v) => (typeof v === 'string' ? v : v.name));
}

export function renderList(main) {
  let items = [];
  let cursor = null;
  let alive = true;

  const search = h('input', { type: 'search', id: 'exp-search', placeholder: 'Name, description or id' });
  const status = h('select', { id: 'exp-status' },
    h('option', { value: '' }, 'Any status'),
    h('option', { value: 'running' }, 'Running'),
    h('option', { value: 'paused' }, 'Paused'),
    h('option', { value: 'completed' }, 'Completed'));
  const results = h('div', { class: 'results', 'aria-live': 'polite' }, loading());
  const more = h('button', { type: 'button', class: 'secondary', hidden: true, onclick: () => load(false) }, 'Load more');

  replace(main,
    h('div', { class: 'page-head' },
      h('h1', { tabindex: '-1' }, 'Experiments'),
      h('a', { class: 'button primary', href: '#/new' }, 'New experiment')),
    h('form', { class: 'toolbar', role: 'search', onsubmit: (ev) => ev.preventDefault() },
      field('Search', search), field('Status', status)),
    results, more);

  function draw() {
    const q = search.value.trim().toLowerCase();
    const shown = q
      ? items.filter((e) => [e.name, e.description, e.id, ...variantNames(e)]
        .some((s) => String(s ?? '').toLowerCase().includes(q)))
      : items;
    more.hidden = !cursor;
    if (!items.length) {
      replace(results, empty('No experiments yet. '), h('p', null, h('a', { href: '#/new' }, 'Create the first one.')));
      return;
    }
    if (!shown.length) {
      replace(results, empty(`No experiment matches "${search.value.trim()}"${cursor ? ' among those loaded' : ''}.`));
      return;
    }
    const rows = shown.map((e) => h('tr', null,
      h('td', null, h('a', { href: `#/experiments/${encodeURIComponent(e.id)}` }, e.name || e.id),
        e.description ? h('div', { class: 'muted small clamp' }, e.description) : null),
      h('td', null, badge(e.status)),
      h('td', { class: 'small' }, variantNames(e).join(', ') || '–'),
      h('td', { class: 'small nowrap' }, fmtTime(e.updated_at ?? e.created_at))));
    replace(results,
      h('p', { class: 'muted small' }, `${shown.length} of ${items.length}${cursor ? '+' : ''} experiments`),
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Experiments' },
        h('table', { class: 'table', id: 'experiments-table' },
          h('thead', null, h('tr', null,
            h('th', { scope: 'col' }, 'Experiment'), h('th', { scope: 'col' }, 'Status'),
            h('th', { scope: 'col' }, 'Variants'), h('th', { scope: 'col' }, 'Updated'))),
          h('tbody', null, rows))));
  }

  async function load(reset) {
    if (reset) {
      items = [];
      cursor = null;
      replace(results, loading());
    }
    more.disabled = true;
    try {
      const page = await api.listExperiments({ status: status.value, limit: PAGE, cursor });
      if (!alive) return;
      items = items.concat(page?.items ?? []);
      cursor = page?.next_cursor ?? null;
      draw();
    } catch (error) {
      if (!alive) return;
      replace(results, errorBox(error, () => load(true)));
    } finally {
      more.disabled = false;
    }
  }

  search.addEventListener('input', draw);
  status.addEventListener('change', () => load(true));
  load(true);
  return () => { alive = false; };
}
