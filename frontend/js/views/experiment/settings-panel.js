// "Settings": every engine setting of the experiment; saving PATCHes only what changed.
// `ctx` is the page's shared state: { id, exp, reload() }.
import { api } from '../../api.js';
import { errorBox, h, loading, replace } from '../../dom.js';
import { changedSettings, settingsFieldset } from '../../settings.js';

export function settingsPanel(ctx) {
  const element = h('div', { id: 'settings-box' }, loading());
  let drawn = false;

  function draw() {
    if (drawn) return;
    drawn = true;
    // Diff against the values the form shows, so a setting changed elsewhere meanwhile is not
    // written back unless the user edits it here.
    let shown = { ...ctx.exp.settings };
    const fields = settingsFieldset(shown, { legend: 'Engine settings', idPrefix: 'exp-set' });
    const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'settings-status' });
    const save = h('button', { type: 'submit', class: 'primary', id: 'settings-save' }, 'Save settings');
    const form = h('form', { class: 'form', id: 'settings-form', novalidate: true },
      fields.element, status, h('div', { class: 'actions' }, save));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const read = fields.read();
      if (!read.ok) {
        replace(status, errorBox({ message: 'Some settings are out of range (marked above).' }));
        return;
      }
      const patch = changedSettings(shown, read.values);
      if (!Object.keys(patch).length) {
        replace(status, h('p', { class: 'state state-empty' }, 'Nothing changed.'));
        return;
      }
      save.disabled = true;
      replace(status, loading('Saving…'));
      try {
        ctx.exp = await api.updateExperiment(ctx.id, { settings: patch });
        shown = { ...ctx.exp.settings };
        fields.setValues(shown);
        replace(status, h('p', { class: 'state state-ok', role: 'status' },
          `Saved ${Object.keys(patch).join(', ')}. The allocation above now uses the new settings.`));
        await ctx.reload();
      } catch (error) {
        const rest = fields.showErrors(error.errors);
        replace(status, errorBox({ message: error.message, problem: error.problem, errors: rest }));
      } finally {
        save.disabled = false;
      }
    });
    replace(element, form);
  }

  return { element, draw };
}
