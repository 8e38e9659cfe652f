// Lifecycle: pause, resume, complete, reopen and delete.
// `ctx` is the page's shared state: { id, exp, reload(), showError(error), leave() }.
import { api } from '../../api.js';
import { confirmDialog } from '../../dialogs.js';
import { h, replace } from '../../dom.js';

export function lifecyclePanel(ctx) {
  const actions = h('div', { class: 'actions', id: 'exp-actions' });
  const danger = h('div', { class: 'card danger-zone' },
    h('p', null, 'Deleting removes the experiment, all its daily data and its allocation history. It cannot be undone.'),
    h('button', { type: 'button', class: 'danger', id: 'delete-button', onclick: onDelete }, 'Delete experiment…'));

  async function changeStatus(status, button) {
    button.disabled = true;
    try {
      ctx.exp = await api.updateExperiment(ctx.id, { status });
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

  /** The buttons that fit the experiment's status. */
  function draw() {
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
    replace(actions, buttons);
  }

  return { actions, danger, draw };
}
