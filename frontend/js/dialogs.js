// Modal dialogs on <dialog>: confirmation (optionally typed) and the API key prompt.
import { field, h } from './dom.js';

function openDialog(title, bodyNodes, buildActions) {
  return new Promise((resolve) => {
    const heading = h('h2', { id: `dlg-title-${Date.now()}` }, title);
    const form = h('form', { method: 'dialog', class: 'dialog-form' });
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': heading.id }, form);
    let result = null;
    const finish = (value) => {
      result = value;
      dialog.close();
    };
    const actions = h('div', { class: 'actions' }, buildActions(finish));
    form.append(heading, ...bodyNodes, actions);
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = form.querySelector('input, select, textarea') ?? actions.querySelector('button');
    first?.focus();
  });
}

/**
 * confirmDialog({title, message, confirmLabel, danger, phrase}) → true when confirmed.
 * With `phrase`, the confirm button stays disabled until the phrase is typed exactly.
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false, phrase = null }) {
  const body = [h('p', null, message)];
  let input = null;
  if (phrase) {
    input = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', name: 'confirm-phrase' });
    body.push(field(`Type "${phrase}" to confirm`, input));
  }
  return openDialog(title, body, (finish) => {
    const confirm = h('button', {
      type: 'submit', class: danger ? 'danger' : 'primary', disabled: Boolean(phrase),
      onclick: (ev) => { ev.preventDefault(); finish(true); },
    }, confirmLabel);
    if (input) {
      input.addEventListener('input', () => { confirm.disabled = input.value !== phrase; });
    }
    const cancel = h('button', {
      type: 'button', class: 'secondary', onclick: () => finish(false),
    }, 'Cancel');
    return [cancel, confirm];
  }).then((v) => v === true);
}

/**
 * choiceDialog({title, body: [nodes], choices: [{value, label, kind}]}) → the chosen value,
 * or null when dismissed (Escape). The first choice is focused, so make it the safe one.
 */
export function choiceDialog({ title, body, choices }) {
  return openDialog(title, body, (finish) => choices.map((c) => h('button', {
    type: 'button', class: c.kind ?? 'secondary', dataset: { choice: c.value },
    onclick: () => finish(c.value),
  }, c.label)));
}

/** Ask for an API key. Resolves to the key, '' to forget it, or null when cancelled. */
export function apiKeyDialog(reason) {
  const input = h('input', { type: 'password', autocomplete: 'off', name: 'api-key' });
  const body = [
    reason ? h('p', { class: 'state state-error', role: 'alert' }, reason) : null,
    h('p', null, 'The key is kept in this tab only (sessionStorage) and sent as the x-api-key header.'),
    field('API key', input),
  ].filter(Boolean);
  return openDialog('API key', body, (finish) => [
    h('button', { type: 'button', class: 'secondary', onclick: () => finish('') }, 'Forget key'),
    h('button', { type: 'button', class: 'secondary', onclick: () => finish(null) }, 'Cancel'),
    h('button', {
      type: 'submit', class: 'primary',
      onclick: (ev) => { ev.preventDefault(); finish(input.value.trim()); },
    }, 'Save key'),
  ]);
}

/** Ask for the API base URL. Resolves to the URL, '' for the default, or null when cancelled. */
export function apiBaseDialog(current, fallback) {
  const input = h('input', { type: 'url', name: 'api-base', value: current, placeholder: fallback });
  const body = [
    h('p', null, `By default the dashboard calls the server that serves it (${fallback}). Set another base only when the API is hosted elsewhere and allows this page's origin.`),
    field('API base URL', input),
  ];
  return openDialog('Server', body, (finish) => [
    h('button', { type: 'button', class: 'secondary', onclick: () => finish('') }, 'Use default'),
    h('button', { type: 'button', class: 'secondary', onclick: () => finish(null) }, 'Cancel'),
    h('button', {
      type: 'submit', class: 'primary',
      onclick: (ev) => { ev.preventDefault(); finish(input.value.trim()); },
    }, 'Save'),
  ]);
}

/**
 * Ask before completing a test, and what it ships: resolves to { shipped } (a variant name,
 * or null to keep the final split frozen), or null when cancelled.
 */
export function completeDialog({ message, variants, preselected }) {
  const select = h('select', { name: 'shipped-variant', id: 'ship-variant' },
    variants.map((name) => h('option', { value: name, selected: name === preselected }, `Ship ${name}${name === preselected ? ' (the winner)' : ''}`)),
    h('option', { value: '', selected: !preselected }, 'Ship nothing: keep the final split'));
  const body = [
    h('p', null, message),
    field('Outcome', select, 'A shipped variant gets all the traffic: clients that follow /allocation switch everyone to it. Reopening the test hands the split back to the bandit.'),
  ];
  return openDialog('Complete this test?', body, (finish) => [
    h('button', { type: 'button', class: 'secondary', onclick: () => finish(null) }, 'Cancel'),
    h('button', {
      type: 'submit', class: 'primary',
      onclick: (ev) => { ev.preventDefault(); finish({ shipped: select.value || null }); },
    }, 'Complete the test'),
  ]);
}
