// Server details and, only when the server enables it, the reset of all data.
import { api } from '../api.js';
import { confirmDialog } from '../dialogs.js';
import { empty, errorBox, field, h, loading, replace } from '../dom.js';

export const RESET_PHRASE = 'delete all data';

export function renderAdmin(main, app) {
  const info = h('div', { id: 'admin-info' }, loading());
  const resetBox = h('div', { id: 'reset-box' });
  replace(main, h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Admin')),
    h('div', { class: 'card' }, info), resetBox);

  api.health().then((health) => {
    app.health = health;
    replace(info, h('dl', { class: 'figures' },
      h('div', null, h('dt', null, 'Status'), h('dd', null, String(health.status))),
      h('div', null, h('dt', null, 'Store'), h('dd', null, String(health.store))),
      h('div', null, h('dt', null, 'Version'), h('dd', null, String(health.version))),
      h('div', null, h('dt', null, 'API key required'), h('dd', null, health.auth_required ? 'yes' : 'no')),
      h('div', null, h('dt', null, 'Reset enabled'), h('dd', null, health.reset_enabled ? 'yes' : 'no'))));
    if (!health.reset_enabled) {
      replace(resetBox, empty('Resetting all data is disabled on this server (enable it on dev stages only, with BANDIT_ENABLE_RESET=1).'));
      return;
    }
    drawReset();
  }).catch((error) => replace(info, errorBox(error)));

  function drawReset() {
    const key = h('input', { type: 'password', id: 'reset-key', autocomplete: 'off' });
    const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'reset-status' });
    const button = h('button', { type: 'submit', class: 'danger', id: 'reset-button' }, 'Delete ALL data…');
    const form = h('form', { class: 'card danger-zone form', id: 'reset-form' },
      h('h2', null, 'Delete all data'),
      h('p', null, 'Deletes every experiment, every day of data and all history on this server. There is no undo. Meant for development stages only.'),
      field('Admin key', key, 'The server\'s BANDIT_ADMIN_KEY; used for this request only and not stored.'),
      status, h('div', { class: 'actions' }, button));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const ok = await confirmDialog({
        title: 'Delete all data on this server?',
        message: 'Every experiment, all daily data and all history will be deleted for good.',
        confirmLabel: 'Delete everything',
        danger: true,
        phrase: RESET_PHRASE,
      });
      if (!ok) return;
      button.disabled = true;
      try {
        await api.reset(key.value.trim() || undefined);
        replace(status, h('p', { class: 'state state-ok', role: 'status' }, 'All data deleted.'));
      } catch (error) {
        replace(status, errorBox(error));
      } finally {
        button.disabled = false;
      }
    });
    replace(resetBox, form);
  }
}
