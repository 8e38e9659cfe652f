// Create an experiment: name, description, variants (one marked control), settings.
import { api } from '../api.js';
import { errorBox, field, h, replace } from '../dom.js';
import { fieldSentence } from '../problems.js';
import { settingsFieldset } from '../settings.js';

export function renderCreate(main) {
  const name = h('input', { type: 'text', id: 'new-name', required: true, maxlength: '200', autocomplete: 'off' });
  const description = h('textarea', { id: 'new-description', rows: '2', maxlength: '2000' });
  const rowsEl = h('ol', { class: 'variant-rows', id: 'new-variants' });
  let rowCount = 0;

  function addRow(value = '', control = false) {
    rowCount += 1;
    const n = rowCount;
    const input = h('input', {
      type: 'text', id: `new-variant-${n}`, value, autocomplete: 'off', maxlength: '200',
      class: 'variant-name',
    });
    const radio = h('input', {
      type: 'radio', name: 'new-control', id: `new-control-${n}`, checked: control, class: 'variant-control',
    });
    const remove = h('button', {
      type: 'button', class: 'secondary small-button', 'aria-label': `Remove variant ${n}`,
      onclick: () => {
        row.remove();
        if (!rowsEl.querySelector('.variant-control:checked')) {
          const first = rowsEl.querySelector('.variant-control');
          if (first) first.checked = true;
        }
      },
    }, 'Remove');
    const row = h('li', { class: 'variant-row' },
      h('label', { for: input.id }, `Variant ${n} name`), input,
      h('span', { class: 'control-choice' }, radio, h('label', { for: radio.id }, 'Control')),
      remove);
    rowsEl.append(row);
    return input;
  }

  addRow('control', true);
  addRow('variant_b');
  const settings = settingsFieldset({}, { legend: 'Settings (defaults suit most tests)', idPrefix: 'new-set' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'new-submit' }, 'Create experiment');

  const form = h('form', { class: 'card form', id: 'create-form', novalidate: true },
    field('Name', name, 'Shown in the list; does not need to be unique.'),
    field('Description (optional)', description),
    h('fieldset', null, h('legend', null, 'Variants'),
      h('p', { class: 'help' }, 'Mark the baseline as control: lifts are measured against it and it keeps its floor. Leave the list empty to let variants appear with their first data.'),
      rowsEl,
      h('button', { type: 'button', class: 'secondary', onclick: () => addRow('').focus() }, 'Add variant')),
    h('details', { class: 'settings-details' }, h('summary', null, 'Settings'), settings.element),
    status,
    h('div', { class: 'actions' }, h('a', { class: 'button secondary', href: '#/' }, 'Cancel'), submit));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const problems = [];
    if (!name.value.trim()) problems.push('Give the experiment a name.');
    const variants = [];
    const seen = new Set();
    for (const row of rowsEl.querySelectorAll('.variant-row')) {
      const vname = row.querySelector('.variant-name').value.trim();
      if (!vname) continue;
      if (seen.has(vname)) problems.push(`Variant "${vname}" appears twice.`);
      seen.add(vname);
      variants.push({ name: vname, is_control: row.querySelector('.variant-control').checked });
    }
    const read = settings.read();
    if (!read.ok) {
      problems.push('Some settings are out of range (see below).');
      settings.element.closest('details').open = true;
    }
    if (problems.length) {
      replace(status, errorBox({ message: 'Please fix these first', errors: problems }));
      return;
    }
    submit.disabled = true;
    replace(status, h('p', { class: 'state state-loading', role: 'status' }, 'Creating…'));
    try {
      const body = { name: name.value.trim(), settings: read.values };
      if (description.value.trim()) body.description = description.value.trim();
      if (variants.length) body.variants = variants;
      const created = await api.createExperiment(body);
      window.location.hash = `#/experiments/${encodeURIComponent(created.id)}`;
    } catch (error) {
      const rest = settings.showErrors(error.errors);
      if (rest.length !== error.errors.length) settings.element.closest('details').open = true;
      // "variants.1.name" names a row by its index: say which variant it is.
      const names = variants.map((v) => v.name);
      replace(status, errorBox({
        status: error.status, message: error.message, problem: error.problem,
        errors: rest.map((e) => fieldSentence(e, { variants: names })),
      }));
    } finally {
      submit.disabled = false;
    }
  });

  replace(main, h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'New experiment')), form);
}
