// The API's field errors as sentences for people. A problem+json error names a field path
// and says what it must be ("variants.0.impressions" / "must be 0 or more"); the page says
// "Impressions for control must be 0 or more." using the variant names it sent, and a CSV
// row's "line.4.clicks" becomes "Line 4: …". The day form's own checks use the same words.

// The CSV import's cap (layers/banditkit/banditkit/http/limits.py CSV_LIMIT).
export const CSV_MAX_BYTES = 5 * 1024 * 1024;
export const CSV_MAX_TEXT = '5 MB';

const LABELS = {
  variant_name: 'Variant name',
  daily_impressions: 'Impressions per day',
  experiment_id: 'Experiment',
};

function label(name) {
  const text = LABELS[name] ?? String(name).replace(/_/g, ' ');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const capitalise = (s) => s.charAt(0).toUpperCase() + s.slice(1);
const sentence = (s) => (/[.!?]$/.test(s) ? s : `${s}.`);

/**
 * One field error ({field, message}) as a sentence.
 * context: { variants: names in the order sent (for variants.N.*), body: what "body" is
 * ("The file" for an import; "The request" otherwise) }.
 */
export function fieldSentence(e, context = {}) {
  if (e === null || typeof e !== 'object') return String(e);
  const path = Array.isArray(e.field ?? e.loc) ? (e.field ?? e.loc).join('.') : String(e.field ?? e.loc ?? '');
  const message = String(e.message ?? e.msg ?? 'is invalid');
  let prefix = '';
  let parts = path === '' ? [] : path.split('.');
  const line = /^line$/.test(parts[0] ?? '') && /^\d+$/.test(parts[1] ?? '') ? parts[1] : null;
  if (line) {
    prefix = `Line ${line}: `;
    parts = parts.slice(2);
  }
  let variant = null;
  if (parts[0] === 'variants' && /^\d+$/.test(parts[1] ?? '')) {
    variant = context.variants?.[Number(parts[1])] ?? `variant ${Number(parts[1]) + 1}`;
    parts = parts.slice(2);
  }
  const name = parts.at(-1);
  // A message that already names its field ("clicks (11) can't exceed …") is a sentence.
  if (!name || message.startsWith(`${name} `)) return prefix + sentence(capitalise(message));
  let subject;
  if (parts.length === 1 && name === 'body') subject = context.body ?? 'The request';
  else if (parts[0] === 'settings' && parts.length > 1) subject = `The setting ${parts.slice(1).join('.')}`;
  else if (variant && (name === 'name' || name === 'variant_name')) subject = `Variant "${variant}"`;
  else subject = label(parts.length > 1 ? parts.join(' ') : name);
  if (variant && !subject.startsWith('Variant "')) subject += ` for ${variant}`;
  const joined = /^(must|is|are|can't|cannot|has|needs|mixes)\b/.test(message)
    ? `${subject} ${message}` : `${subject}: ${message}`;
  return prefix + sentence(joined);
}

/** Every field error of an ApiError (or any {errors}) as sentences. */
export function errorSentences(error, context = {}) {
  return (error?.errors ?? []).map((e) => fieldSentence(e, context));
}
