// DOM helpers. Every string becomes a text node: user data is never parsed as HTML.
import { fieldSentence } from './problems.js';

const FORBIDDEN_PROPS = new Set(['innerHTML', 'outerHTML', 'style', 'srcdoc']);

/**
 * h('button', {class: 'primary', onclick: fn, type: 'button'}, 'Save')
 * Strings and numbers among children become text nodes; null/false children are skipped.
 * `value`, `checked` and `selected` are set as properties after the children are added.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  const late = [];
  for (const [key, value] of Object.entries(props ?? {})) {
    if (FORBIDDEN_PROPS.has(key)) throw new Error(`h(): "${key}" is not allowed`);
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'value' || key === 'checked' || key === 'selected') late.push([key, value]);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, ...children);
  for (const [key, value] of late) el[key] = value;
  return el;
}

export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace all children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}

let idCounter = 0;
export function uid(prefix = 'f') {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}

/** A labelled form field: <div class="field"><label for>…</label><input id>…<p help></div>. */
export function field(label, control, help) {
  if (!control.id) control.id = uid('in');
  const helpEl = help ? h('p', { class: 'help', id: `${control.id}-help` }, help) : null;
  if (helpEl) control.setAttribute('aria-describedby', helpEl.id);
  const err = h('p', { class: 'field-error', id: `${control.id}-error`, role: 'alert', hidden: true });
  const wrap = h('div', { class: 'field' }, h('label', { for: control.id }, label), control, helpEl, err);
  wrap.showError = (message) => {
    err.textContent = message ?? '';
    err.hidden = !message;
    if (message) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  return wrap;
}

const STATUS_CLASSES = new Set([
  'running', 'paused', 'completed', 'warming_up', 'optimizing', 'winner_found',
]);

export function badge(status) {
  const known = STATUS_CLASSES.has(status) ? status : 'unknown';
  return h('span', { class: `badge badge-${known}` }, String(status ?? 'unknown').replace(/_/g, ' '));
}

/** A region that shows loading, empty, error or content states. */
export function loading(text = 'Loading…') {
  return h('p', { class: 'state state-loading', role: 'status' }, text);
}

export function empty(text) {
  return h('p', { class: 'state state-empty' }, text);
}

export function errorBox(error, retry) {
  const lines = [];
  const errs = error?.errors ?? [];
  // A refusal that lists its fields: the list says it all (the API's detail is generic).
  const status = error?.status ?? error?.problem?.status;
  const listed = errs.length > 0 && (status === 422 || status === 413);
  const title = error?.title
    ?? (listed ? 'Nothing was saved: please fix this first'
      : error?.problem?.title || error?.message || 'Something went wrong');
  const detail = listed ? null : error?.problem?.detail;
  lines.push(h('strong', null, title));
  if (detail && detail !== title) lines.push(h('p', null, detail));
  if (errs.length) {
    lines.push(h('ul', { class: 'error-list' }, errs.map((e) => h('li', null, describeFieldError(e)))));
  }
  if (retry) lines.push(h('button', { type: 'button', class: 'secondary', onclick: retry }, 'Try again'));
  return h('div', { class: 'state state-error', role: 'alert' }, lines);
}

/** A field error as a sentence (problems.js); a string as it is. */
export function describeFieldError(e) {
  return fieldSentence(e);
}

const intFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const numFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2, signDisplay: 'negative' }); // never "-0"

export function fmtInt(value) {
  return Number.isFinite(value) ? intFormat.format(value) : '–';
}

export function fmtNum(value) {
  return Number.isFinite(value) ? numFormat.format(value) : '–';
}

/** value × 100 with `digits` decimals; a non-zero value too small to show reads "< 0.01". */
function hundredths(value, digits) {
  const s = (value * 100).toFixed(digits);
  if (value !== 0 && Number(s) === 0) return `${value < 0 ? '> -' : '< '}${(10 ** -digits).toFixed(digits)}`;
  return s;
}

/** 0.1234 → "12.3%" (digits after the point configurable); 1.4e-10 → "< 0.1%". */
export function fmtPct(value, digits = 1) {
  return Number.isFinite(value) ? `${hundredths(value, digits)}%` : '–';
}

/** A difference of rates in percentage points: 0.0123 → "1.23 pp". */
export function fmtPoints(value, digits = 2) {
  return Number.isFinite(value) ? `${hundredths(value, digits)} pp` : '–';
}

/** A signed relative change: 0.052 → "+5.2%". */
export function fmtLift(value, digits = 1) {
  if (!Number.isFinite(value)) return '–';
  const s = (value * 100).toFixed(digits);
  return `${value > 0 ? '+' : ''}${s}%`;
}

const pad2 = (n) => String(n).padStart(2, '0');

/** One date format across the dashboard: ISO, in the browser's time zone. */
export function isoDate(d) {
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
}

/** "2026-12-06 10:05:37" (local time). */
export function fmtTime(iso) {
  if (!iso) return '–';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return `${isoDate(d)} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

export function ratio(num, den) {
  return den > 0 ? num / den : null;
}

export function today() {
  return isoDate(new Date());
}
