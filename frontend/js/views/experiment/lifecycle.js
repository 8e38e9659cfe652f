// Lifecycle: pause, resume, complete (after confirming, shipping a variant or none), reopen,
// delete, CSV export, and the outcome of a completed test.
// `ctx` is the page's shared state: { id, exp, alloc, reload(), showError(error), leave() }.
import { api, collectPages } from '../../api.js';
import { downloadCsv } from '../../csv.js';
import { completeDialog, confirmDialog } from '../../dialogs.js';
import { fmtPct, h, replace } from '../../dom.js';

export function lifecyclePanel(ctx) {
  const actions = h('div', { class: 'actions', id: 'exp-actions' });
  const outcome = h('div', { class: 'card outcome', id: 'exp-outcome', hidden: true });
  const danger = h('div', { class: 'card danger-zone' },
    h('p', null, 'Deleting removes the experiment, all its daily data and its allocation history. It cannot be undone.'),
    h('button', { type: 'button', class: 'danger', id: 'delete-button', onclick: onDelete }, 'Delete experiment…'));

  /** Completing: say what the evidence shows, and ask what ships (the winner by default). */
  async function confirmComplete() {
    const variants = ctx.alloc?.variants ?? [];
    const leader = variants.length
      ? variants.reduce((a, b) => (Number(b.p_best) > Number(a.p_best) ? b : a)) : null;
    const winner = ctx.alloc?.winner;
    let message = 'No data yet: completing stops the test with nothing to ship.';
    if (winner) message = `The winner, ${winner}, is the variant to ship. You can reopen the test later.`;
    else if (leader) message = `No winner has been declared: ${leader.name} leads with a ${fmtPct(Number(leader.p_best))} chance of being best. You can reopen the test later.`;
    const names = (ctx.exp?.variants ?? []).map((v) => v.name);
    return completeDialog({ message, variants: names, preselected: winner && names.includes(winner) ? winner : null });
  }

  async function changeStatus(status, button) {
    const body = { status };
    if (status === 'completed') {
      const answer = await confirmComplete();
      if (!answer) return;
      body.shipped_variant = answer.shipped;
    }
    button.disabled = true;
    try {
      ctx.exp = await api.updateExperiment(ctx.id, body);
      await ctx.reload();
    } catch (error) {
      ctx.showError(error);
    } finally {
      button.disabled = false;
    }
  }

  async function onDelete() {
    const ok = await confirmDialog({
      title: 'Delete this experiment?',
      message: `"${ctx.exp?.name ?? ctx.id}" and all its daily data and history will be deleted. This cannot be undone.`,
      confirmLabel: 'Delete for good',
      danger: true,
    });
    if (!ok) return;
    try {
      await api.deleteExperiment(ctx.id);
      ctx.leave();
      window.location.hash = '#/';
    } catch (error) {
      ctx.showError(error);
    }
  }

  /** A completed test's outcome: what shipped, or the split that stays frozen. */
  function drawOutcome() {
    const exp = ctx.exp;
    outcome.hidden = exp.status !== 'completed';
    if (outcome.hidden) return;
    const lead = exp.leader
      ? ` At the last allocation ${exp.leader.variant} led with a ${fmtPct(Number(exp.leader.p_best))} chance of being best.`
      : '';
    replace(outcome, h('h2', { class: 'outcome-title' }, 'Outcome'),
      exp.shipped_variant
        ? h('p', { id: 'outcome-text' }, 'Shipped ', h('strong', null, exp.shipped_variant),
          `: it gets 100% of the traffic, and clients that follow /allocation send everyone to it.${lead}`)
        : h('p', { id: 'outcome-text' }, `Completed without shipping a variant: /allocation keeps the final split, frozen.${lead}`));
  }

  /** The buttons that fit the experiment's status. */
  function draw() {
    drawOutcome();
    const status = ctx.exp.status;
    const button = (to, label) => h('button', {
      type: 'button', class: 'secondary', 'data-status': to,
      onclick: (ev) => changeStatus(to, ev.currentTarget),
    }, label);
    const buttons = [];
    if (status === 'running') buttons.push(button('paused', 'Pause'));
    if (status === 'paused') buttons.push(button('running', 'Resume'));
    if (status === 'completed') buttons.push(button('running', 'Reopen'));
    if (status !== 'completed') buttons.push(button('completed', 'Complete'));
    buttons.push(h('button', { type: 'button', class: 'secondary', id: 'export-daily', onclick: exportDaily }, 'Export daily data (CSV)'));
    buttons.push(h('button', { type: 'button', class: 'secondary', id: 'export-history', onclick: exportHistory }, 'Export history (CSV)'));
    replace(actions, buttons);
  }

  const fileName = (what) => `${ctx.exp?.name || ctx.id}-${what}.csv`;

  async function exportDaily() {
    try {
      const metrics = await api.metrics(ctx.id);
      const rows = [['date', 'variant_name', 'impressions', 'clicks', 'conversions']];
      for (const day of metrics?.days ?? []) {
        for (const v of day.variants ?? []) rows.push([day.date, v.variant_name, v.impressions, v.clicks, v.conversions]);
      }
      downloadCsv(fileName('daily'), rows);
    } catch (error) {
      ctx.showError(error);
    }
  }

  async function exportHistory() {
    try {
      const { items } = await collectPages((cursor) => api.history(ctx.id, { limit: 500, cursor }), 100000);
      const rows = [['computed_at', 'latest_day', 'trigger', 'status', 'variant_name', 'share', 'p_best']];
      for (const it of [...items].sort((a, b) => String(a.computed_at).localeCompare(String(b.computed_at)))) {
        for (const [name, share] of Object.entries(it.allocations ?? {})) {
          rows.push([it.computed_at, it.latest_day ?? '', it.trigger, it.status, name, share, it.p_best?.[name] ?? '']);
        }
      }
      downloadCsv(fileName('history'), rows);
    } catch (error) {
      ctx.showError(error);
    }
  }

  return { actions, danger, draw, outcome };
}
