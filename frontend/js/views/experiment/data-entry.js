// "Data": a day form, CSV import with its template, and adding a declared variant.
// `ctx` is the page's shared state: { id, exp, reload() }.
import { api, ApiError } from '../../api.js';
import { csvCell, importPairs } from '../../csv.js';
import { choiceDialog } from '../../dialogs.js';
import { errorBox, field, fmtInt, h, loading, replace, today } from '../../dom.js';
import { CSV_MAX_BYTES, CSV_MAX_TEXT, errorSentences, fieldSentence } from '../../problems.js';
import { variantList } from './shape.js';

const COUNTS = ['impressions', 'clicks', 'conversions'];

export function dataPanel(ctx) {
  const entry = buildEntryForm(ctx);
  const importer = buildImport(ctx);
  const adder = buildAddVariant(ctx);
  let entryVariantsKey = '';

  /** The day form's rows follow the experiment's variants (or the allocation's). */
  function drawRows(lastAlloc) {
    adder.hidden = !ctx.exp.variants_declared;
    const known = variantList(ctx.exp).map((v) => v.name);
    const names = known.length ? known : (lastAlloc?.variants ?? []).map((v) => v.name);
    // Declared variants get fixed rows; otherwise names stay editable and rows can be added.
    const declared = ctx.exp.variants_declared ?? known.length > 0;
    const key = JSON.stringify([declared, names]);
    if (key === entryVariantsKey) return;
    entryVariantsKey = key;
    entry.setVariants(names, declared);
  }

  return { entry: entry.element, side: h('div', { class: 'stack' }, importer, adder), drawRows };
}

function buildEntryForm(ctx) {
  const date = h('input', { type: 'date', id: 'entry-date', value: today(), required: true });
  const mode = h('select', { id: 'entry-mode' },
    h('option', { value: 'set' }, 'Set (replace the day)'),
    h('option', { value: 'increment' }, 'Add (increment)'));
  const rows = h('tbody', { id: 'entry-rows' });
  const addRow = h('button', { type: 'button', class: 'secondary', id: 'entry-add', onclick: () => appendRow('') }, 'Add variant row');
  const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'entry-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'entry-submit' }, 'Save day');
  let rowN = 0;
  let pending = null; // {body, key}: a retried identical increment reuses its Idempotency-Key

  function numberInput(name, label) {
    return h('input', { type: 'number', min: '0', step: '1', inputmode: 'numeric', class: `entry-${name}`, 'aria-label': label });
  }

  function appendRow(name, fixed = false) {
    rowN += 1;
    const nameInput = fixed
      ? h('input', { type: 'hidden', class: 'entry-name', value: name })
      : h('input', { type: 'text', class: 'entry-name', value: name, 'aria-label': `Variant name, row ${rowN}`, autocomplete: 'off' });
    rows.append(h('tr', { dataset: { variant: name } },
      h('th', { scope: 'row' }, fixed ? name : null, nameInput),
      h('td', { 'data-label': 'Impressions' }, numberInput('impressions', `Impressions of ${name || `row ${rowN}`}`)),
      h('td', { 'data-label': 'Clicks' }, numberInput('clicks', `Clicks of ${name || `row ${rowN}`}`)),
      h('td', { 'data-label': 'Conversions' }, numberInput('conversions', `Conversions of ${name || `row ${rowN}`}`))));
  }

  function setVariants(names, declared) {
    rows.replaceChildren();
    for (const n of names) appendRow(n, declared);
    if (!names.length) appendRow('');
    addRow.hidden = declared;
  }

  const form = h('form', { class: 'card form', id: 'entry-form', novalidate: true },
    h('h3', null, 'Enter a day'),
    h('div', { class: 'row-fields' },
      field('Date', date),
      field('Mode', mode, 'Set replaces the day\'s totals, so re-sending is safe; add accumulates several uploads for one day.')),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table entry-table' },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Variant'), h('th', { scope: 'col' }, 'Impressions'),
          h('th', { scope: 'col' }, 'Clicks'), h('th', { scope: 'col' }, 'Conversions'))),
        rows)),
    addRow, status, h('div', { class: 'actions' }, submit));

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const problems = [];
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date.value)) problems.push('Pick a date.');
    const variants = [];
    for (const tr of rows.querySelectorAll('tr')) {
      const name = tr.querySelector('.entry-name').value.trim();
      const vals = ['impressions', 'clicks', 'conversions'].map((k) => tr.querySelector(`.entry-${k}`).value.trim());
      if (vals.every((v) => v === '')) continue;
      if (!name) { problems.push('Every filled row needs a variant name.'); continue; }
      const counts = vals.map((v) => (v === '' ? 0 : Number(v)));
      // The API's words for the same mistakes (problems.js), checked before sending.
      const bad = COUNTS.map((k, i) => {
        const x = counts[i];
        if (!Number.isInteger(x)) return { field: k, message: 'must be a whole number' };
        if (x < 0) return { field: k, message: 'must be 0 or more' };
        if (k !== 'impressions' && Number.isInteger(counts[0]) && counts[0] >= 0 && x > counts[0]) {
          return { field: k, message: `${k} (${fmtInt(x)}) can't exceed impressions (${fmtInt(counts[0])}) for ${name}` };
        }
        return null;
      }).filter(Boolean);
      if (bad.length) {
        problems.push(...bad.map((e) => fieldSentence({ field: `variants.0.${e.field}`, message: e.message }, { variants: [name] })));
        continue;
      }
      const [impressions, clicks, conversions] = counts;
      variants.push({ variant_name: name, impressions, clicks, conversions });
    }
    if (!variants.length && !problems.length) problems.push('Fill in at least one variant.');
    if (problems.length) {
      replace(status, errorBox({ message: 'Please fix these first', errors: problems }));
      return;
    }
    const body = { experiment_id: ctx.id, date: date.value, mode: mode.value, variants };
    const bodyText = JSON.stringify(body);
    let key = null;
    if (mode.value === 'increment') {
      key = pending && pending.body === bodyText ? pending.key : crypto.randomUUID();
      pending = { body: bodyText, key };
    }
    submit.disabled = true;
    replace(status, loading('Saving…'));
    try {
      const res = await api.ingest(body, key);
      pending = null;
      replace(status, h('p', { class: 'state state-ok', role: 'status' },
        `Saved ${res?.variants_processed ?? variants.length} variant(s) for ${res?.date ?? body.date} (${res?.mode ?? body.mode}): `
        + `${fmtInt(res?.total_impressions)} impressions, ${fmtInt(res?.total_clicks)} clicks, ${fmtInt(res?.total_conversions)} conversions that day.`));
      for (const input of rows.querySelectorAll('input[type="number"]')) input.value = '';
      await ctx.reload();
    } catch (error) {
      if (error instanceof ApiError && error.status !== 0) pending = null;
      // "variants.0.clicks" names a row by its index: say which variant it is.
      const names = variants.map((v) => v.variant_name);
      replace(status, errorBox({
        status: error.status, message: error.message, problem: error.problem,
        errors: errorSentences(error, { variants: names }),
      }));
    } finally {
      submit.disabled = false;
    }
  });
  return { element: form, setVariants };
}

function buildImport(ctx) {
  const file = h('input', { type: 'file', id: 'import-file', accept: '.csv,text/csv' });
  const mode = h('select', { id: 'import-mode' },
    h('option', { value: 'set' }, 'Set (rows replace those days)'),
    h('option', { value: 'increment' }, 'Add (rows add to those days)'));
  const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'import-status' });
  const submit = h('button', { type: 'submit', class: 'primary', id: 'import-submit' }, 'Import CSV');
  const template = h('button', { type: 'button', class: 'secondary', id: 'import-template', onclick: () => downloadTemplate(ctx.exp) }, 'Download template');
  const form = h('form', { class: 'card form', id: 'import-form' },
    h('h3', null, 'Import a CSV'),
    h('p', { class: 'help' }, 'Columns ', h('code', null, 'date,variant_name,impressions,clicks,conversions'), ', one row per day and variant. Every row is checked first: if any row is wrong, nothing is stored and each bad row is listed.'),
    field('CSV file', file),
    field('Mode', mode),
    status,
    h('div', { class: 'actions' }, template, submit));

  let importPending = null; // { text, key } of an increment import not yet answered with success
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) {
      replace(status, errorBox({ message: 'Choose a CSV file first.' }));
      return;
    }
    if (chosen.size > CSV_MAX_BYTES) {
      replace(status, importErrors(`The file is larger than ${CSV_MAX_TEXT}.`, ['Split it into smaller files and import each.']));
      return;
    }
    submit.disabled = true;
    replace(status, loading('Importing…'));
    try {
      const text = await chosen.text();
      let writeMode = mode.value;
      // A retry of an unanswered "Add" carries its Idempotency-Key, so it counts once
      // even where its first attempt stored some days: no warning for it.
      const retry = importPending && importPending.text === text;
      if (writeMode === 'increment' && !retry) {
        replace(status, loading('Checking which days already have data…'));
        const choice = await confirmAdding(ctx.id, text);
        if (choice === 'cancel') {
          replace(status, h('p', { class: 'state state-empty', role: 'status', id: 'import-cancelled' }, 'Nothing was imported.'));
          return;
        }
        if (choice === 'set') {
          writeMode = 'set';
          mode.value = 'set';
        }
        replace(status, loading('Importing…'));
      }
      // An increment import may be written in parts (DynamoDB): a retry of the same file
      // must carry the same key, so that the parts already stored are not added twice.
      let key = null;
      if (writeMode === 'increment') {
        const same = importPending && importPending.text === text;
        key = same ? importPending.key : crypto.randomUUID();
        importPending = { text, key };
      }
      const res = await api.importCsv(ctx.id, text, writeMode, key);
      importPending = null;
      replace(status, h('p', { class: 'state state-ok', role: 'status' },
        `Imported ${fmtInt(Number(res?.rows_imported))} row(s) from ${chosen.name}: `
        + `${fmtInt(Number(res?.days))} day(s), ${fmtInt(Number(res?.total_impressions))} impressions`
        + `${res?.mode === 'set' ? ', replacing those days' : ''}.`));
      file.value = '';
      await ctx.reload();
    } catch (error) {
      // a refusal (4xx) stored nothing: the next attempt is a new request
      if (error instanceof ApiError && error.status >= 400 && error.status < 500) importPending = null;
      const lines = errorSentences(error, { body: 'The file' });
      const refused = error.status === 422 || error.status === 413;
      let title = error.problem?.title || error.message;
      if (error.status === 422) title = 'Nothing was imported: fix these rows and try again.';
      else if (error.status === 413) title = 'Nothing was imported: the file is too large.';
      const detail = refused && lines.length ? null : (error.problem?.detail || (lines.length ? null : error.message));
      replace(status, importErrors(title, lines, detail));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function importErrors(title, lines, detail = null) {
  return h('div', { class: 'state state-error', role: 'alert', id: 'import-errors' },
    h('strong', null, title),
    detail ? h('p', null, detail) : null,
    lines.length ? h('ul', { class: 'error-list' }, lines.map((line) => h('li', null, line))) : null);
}

function isRealDay(d) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(d)) return false;
  const t = Date.parse(`${d}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === d;
}

/**
 * Before an "Add" import: the days of the file that already have data for its variants
 * (asked of the API, so data entered elsewhere counts too). None: 'increment'. Otherwise
 * the person chooses: 'cancel', 'set' (replace those days) or 'increment' (add anyway).
 */
async function confirmAdding(id, text) {
  const pairs = importPairs(text);
  if (!pairs.length) return 'increment'; // nothing readable: the API lists the problems
  // Real days only: 2026-02-30 is the import's to refuse, not a range to ask about.
  const dates = pairs.map((p) => p.date).filter(isRealDay).sort();
  if (!dates.length) return 'increment';
  const stored = await api.metrics(id, { from: dates[0], to: dates.at(-1) });
  const had = new Set();
  for (const day of stored?.days ?? []) {
    for (const v of day.variants ?? []) {
      if (v.impressions || v.clicks || v.conversions) had.add(`${day.date}\n${v.variant_name}`);
    }
  }
  const byDay = new Map();
  for (const p of pairs) {
    if (!had.has(`${p.date}\n${p.name}`)) continue;
    if (!byDay.has(p.date)) byDay.set(p.date, new Set());
    byDay.get(p.date).add(p.name);
  }
  if (!byDay.size) return 'increment';
  const days = [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b));
  const shown = days.slice(0, 10);
  const choice = await choiceDialog({
    title: 'These days already have data',
    body: [
      h('p', null, `Adding this file would add its counts to data already stored for ${days.length} day(s). If this file was imported before, those days would be counted twice.`),
      h('ul', { class: 'overlap-list', id: 'import-overlap' },
        shown.map(([date, names]) => h('li', null, `${date}: ${[...names].join(', ')}`))),
      days.length > shown.length ? h('p', null, `… and ${days.length - shown.length} more day(s).`) : null,
    ].filter(Boolean),
    choices: [
      { value: 'cancel', label: 'Cancel' },
      { value: 'set', label: 'Replace those days instead' },
      { value: 'increment', label: 'Add anyway', kind: 'danger' },
    ],
  });
  return choice ?? 'cancel';
}

function downloadTemplate(exp) {
  const names = variantList(exp).map((v) => v.name);
  const list = names.length ? names : ['control', 'variant_b'];
  const lines = ['date,variant_name,impressions,clicks,conversions',
    ...list.map((n) => [today(), csvCell(n), 1000, 50, 5].join(','))];
  const blob = new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' });
  const url = URL.createObjectURL(blob);
  const a = h('a', { href: url, download: `${exp?.name || 'experiment'}-template.csv`.replace(/[^\w.-]+/g, '_') });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// Declared variants only; undeclared ones appear with their data.
function buildAddVariant(ctx) {
  const name = h('input', { type: 'text', id: 'add-variant-name', maxlength: '100', autocomplete: 'off' });
  const status = h('div', { class: 'form-status', 'aria-live': 'polite', id: 'add-variant-status' });
  const form = h('form', { class: 'card form', id: 'add-variant-form', hidden: true },
    h('h3', null, 'Add a variant'),
    h('p', { class: 'help' }, 'This experiment declares its variants, so data for a new one is refused until it is added here. Variants cannot be removed.'),
    field('New variant name', name),
    status,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'secondary', id: 'add-variant-submit' }, 'Add variant')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const value = name.value.trim();
    if (!value) {
      replace(status, errorBox({ message: 'Give the variant a name.' }));
      return;
    }
    try {
      ctx.exp = await api.updateExperiment(ctx.id, { variants: [{ name: value }] });
      name.value = '';
      replace(status, h('p', { class: 'state state-ok', role: 'status' }, `Added ${value}.`));
      await ctx.reload();
    } catch (error) {
      replace(status, errorBox(error));
    }
  });
  return form;
}
