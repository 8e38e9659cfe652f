// One experiment: the page that composes its panels (experiment/*.js), loads the API's
// answers and refreshes them. The panels draw; this module fetches.
import { api, ApiError, collectPages, timeoutMs } from '../api.js';
import { badge, errorBox, fmtTime, h, replace } from '../dom.js';
import { chartsPanel } from './experiment/charts.js';
import { dataPanel } from './experiment/data-entry.js';
import { evidencePanel } from './experiment/evidence.js';
import { lifecyclePanel } from './experiment/lifecycle.js';
import { nowPanel } from './experiment/now.js';
import { settingsPanel } from './experiment/settings-panel.js';
import { signalsPanel } from './experiment/signals.js';
import { controlOf, shapeReport, sortedDays } from './experiment/shape.js';
import { variantsTable } from './experiment/variants-table.js';

/**
 * How often the open experiment reloads: 15 s, or `localStorage['banditkit.refreshSeconds']`
 * (at least 1 s) for a wall screen that should follow more closely.
 */
export function refreshMs() {
  const configured = Number(localStorage.getItem('banditkit.refreshSeconds'));
  return Number.isFinite(configured) && configured >= 1 ? configured * 1000 : 15000;
}

/**
 * After this long without a key, pointer or scroll event the page counts as idle and
 * refreshes four times less often: 5 minutes, or `localStorage['banditkit.idleSeconds']`.
 */
export function idleMs() {
  const configured = Number(localStorage.getItem('banditkit.idleSeconds'));
  return Number.isFinite(configured) && configured > 0 ? configured * 1000 : 300000;
}

export function renderExperiment(main, app, id) {
  let alive = true;
  let busy = false;
  let busySince = 0;
  let generation = 0;
  let lastLoaded = 0;
  let lastAlloc = null;

  const title = h('h1', { tabindex: '-1', id: 'exp-title' }, 'Experiment');
  const badges = h('div', { class: 'badges', id: 'exp-badges' });
  const meta = h('div', { class: 'meta muted small', id: 'exp-meta' });
  // A long description shows three lines and a "more" button.
  const description = h('p', { class: 'description clamped', id: 'exp-description' });
  const moreButton = h('button', {
    type: 'button', class: 'more-button', id: 'exp-description-more', 'aria-expanded': 'false', 'aria-controls': 'exp-description', hidden: true,
    onclick: () => {
      const open = description.classList.toggle('clamped') === false;
      moreButton.textContent = open ? 'less' : 'more';
      moreButton.setAttribute('aria-expanded', String(open));
    },
  }, 'more');
  // Not a live region: a screen reader would announce the time at every refresh.
  const updated = h('span', { class: 'muted small', id: 'exp-updated' });
  const refreshButton = h('button', { type: 'button', class: 'secondary', id: 'refresh-button', onclick: () => load() }, 'Refresh');
  const pageError = h('div', { id: 'exp-error' });

  // What the panels share: the experiment as last read, and a way to reload the page.
  const ctx = {
    id,
    exp: null,
    alloc: null,
    reload: () => load(),
    showError: (error) => replace(pageError, errorBox(error)),
    leave: () => { alive = false; },
  };
  const now = nowPanel();
  const evidence = evidencePanel();
  const signals = signalsPanel();
  const table = variantsTable();
  const charts = chartsPanel();
  const data = dataPanel(ctx);
  const settings = settingsPanel(ctx);
  const lifecycle = lifecyclePanel(ctx);

  replace(main,
    h('p', { class: 'crumbs small' }, h('a', { href: '#/' }, '← Experiments')),
    h('div', { class: 'page-head' }, h('div', null, title, badges), h('div', { class: 'refresh' }, updated, refreshButton)),
    description, moreButton, meta, lifecycle.outcome, lifecycle.actions, pageError,
    h('section', { class: 'overview', 'aria-labelledby': 'h-now' },
      h('h2', { id: 'h-now' }, 'Now'),
      now.recommendation,
      signals.element,
      h('div', { class: 'overview-grid' },
        h('div', { class: 'card' }, h('h3', null, 'Next traffic split'), now.allocationBox),
        h('div', { class: 'card' }, h('h3', null, 'Evidence so far'), evidence.figures))),
    h('section', { 'aria-labelledby': 'h-variants' },
      h('h2', { id: 'h-variants' }, 'Variants'), h('div', { class: 'card' }, table.tableBox)),
    h('section', { 'aria-labelledby': 'h-charts' }, h('h2', { id: 'h-charts' }, 'Charts'), charts.element),
    h('section', { 'aria-labelledby': 'h-data', class: 'two-col' },
      h('h2', { id: 'h-data' }, 'Data'), data.entry, data.side),
    h('section', { 'aria-labelledby': 'h-settings' },
      h('h2', { id: 'h-settings' }, 'Settings'), h('div', { class: 'card' }, settings.element)),
    h('section', { 'aria-labelledby': 'h-danger' },
      h('h2', { id: 'h-danger' }, 'Delete'), lifecycle.danger));

  // A load asked for by a person (Refresh, after saving) supersedes one in flight; the timer
  // skips a tick while a load runs, unless that load outlived every timeout and retry of its
  // three rounds of requests (experiment, allocation, then the rest in parallel).
  // Refresh is never disabled, so nothing can leave it stuck.
  async function load({ background = false } = {}) {
    if (!alive) return;
    if (background && busy && Date.now() - busySince < 3 * (3 * timeoutMs() + 1500)) return;
    generation += 1;
    const gen = generation;
    const current = () => alive && gen === generation;
    busy = true;
    busySince = Date.now();
    refreshButton.setAttribute('aria-busy', 'true');
    try {
      try {
        ctx.exp = await api.getExperiment(id);
      } catch (error) {
        if (!current()) return;
        if (error instanceof ApiError && error.status === 404) {
          replace(main, h('h1', { tabindex: '-1' }, 'Experiment not found'),
            h('p', null, 'It may have been deleted. ', h('a', { href: '#/' }, 'Back to the experiments.')));
          alive = false;
          return;
        }
        replace(pageError, errorBox(error, () => load()));
        return;
      }
      if (!current()) return;
      replace(pageError);
      drawHead();
      // /allocation first: it stores a history snapshot when the data changed.
      const allocation = await api.allocation(id).catch((e) => e);
      if (!current()) return;
      const [report, history, metrics] = await Promise.allSettled([
        api.report(id),
        collectPages((cursor) => api.history(id, { limit: 500, cursor }), 2000),
        api.metrics(id),
      ]);
      if (!current()) return;
      drawEvidence(allocation, report, history, metrics);
      data.drawRows(lastAlloc);
      settings.draw();
      lastLoaded = Date.now();
      updated.textContent = `Updated ${fmtTime(new Date(lastLoaded).toISOString()).slice(11)}`;
    } finally {
      if (gen === generation) {
        busy = false;
        refreshButton.removeAttribute('aria-busy');
      }
    }
  }

  function drawHead() {
    const exp = ctx.exp;
    title.textContent = exp.name || exp.id;
    document.title = `${exp.name || exp.id} · banditkit`;
    replace(badges, badge(exp.status));
    if (description.textContent !== (exp.description ?? '')) {
      description.textContent = exp.description ?? '';
      description.hidden = !exp.description;
      requestAnimationFrame(() => {
        const clipped = description.scrollHeight > description.clientHeight + 1;
        moreButton.hidden = !clipped && description.classList.contains('clamped');
      });
    }
    const control = controlOf(exp, null);
    replace(meta,
      h('span', null, 'id ', h('code', null, exp.id)),
      h('span', null, `created ${fmtTime(exp.created_at)}`),
      control ? h('span', null, 'control ', h('strong', null, control)) : h('span', null, 'no control variant'));
    lifecycle.draw();
  }

  function drawEvidence(allocation, reportResult, historyResult, metricsResult) {
    const allocOk = !(allocation instanceof Error);
    const shaped = shapeReport(reportResult.status === 'fulfilled' ? reportResult.value : null,
      allocOk ? allocation : null);
    const alloc = shaped.alloc;
    lastAlloc = alloc;
    ctx.alloc = alloc;
    if (!alloc) {
      now.failed(allocOk ? reportResult.reason : allocation, () => load());
      table.unavailable();
      evidence.clear();
      signals.clear();
      charts.unavailable();
      return;
    }
    const control = controlOf(ctx.exp, shaped);
    const variants = alloc.variants ?? [];
    const shares = alloc.allocations ?? alloc.shares ?? {};
    const metric = alloc.settings?.metric ?? ctx.exp.settings?.metric ?? 'ctr';
    const names = variants.length ? variants.map((v) => v.name) : Object.keys(shares);

    replace(badges, badge(ctx.exp.status), alloc.status !== ctx.exp.status ? badge(alloc.status) : null);
    now.drawRecommendation(ctx.exp, alloc, [...shaped.liftMap.values()]);
    now.drawSplit(alloc, names, control, metric);
    evidence.draw(variants, shaped, metric, reportResult.status === 'fulfilled');
    const days = metricsResult.status === 'fulfilled' ? sortedDays(metricsResult.value) : null;
    signals.draw(alloc, days);
    table.draw(variants, shares, control, shaped.liftMap, metric);
    const windowDays = alloc.settings?.window_days ?? ctx.exp.settings?.window_days ?? null;
    charts.setEvents(ctx.exp, historyResult, days, windowDays);
    charts.drawRates(days, names, metricsResult);
    charts.drawHistory(historyResult, names, days, windowDays);
    charts.drawRegret(reportResult, shaped.regretByDay, metric);
    charts.drawIntervals(variants, metric);
  }

  // Refresh: every refreshMs() while visible, four times slower once idle, none while hidden.
  const every = refreshMs();
  let lastActivity = Date.now();
  const onActivity = () => { lastActivity = Date.now(); };
  const ACTIVITY = ['pointerdown', 'pointermove', 'keydown', 'scroll', 'wheel'];
  for (const type of ACTIVITY) window.addEventListener(type, onActivity, { passive: true });
  let timer = null;
  const schedule = () => {
    const idle = Date.now() - lastActivity > idleMs();
    timer = setTimeout(() => {
      if (!document.hidden) load({ background: true });
      schedule();
    }, idle ? every * 4 : every);
  };
  schedule();
  const onVisible = () => {
    if (!document.hidden && Date.now() - lastLoaded >= every) load({ background: true });
  };
  document.addEventListener('visibilitychange', onVisible);

  load();
  return () => {
    alive = false;
    clearTimeout(timer);
    for (const type of ACTIVITY) window.removeEventListener(type, onActivity);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
