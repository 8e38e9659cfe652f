// Engine settings (docs/engine.md): one definition drives the create form, the settings editor and
// the simulator, with a line on what each does and the range the server accepts.
import { field, h } from './dom.js';

export const SETTINGS = [
  {
    key: 'metric', label: 'Metric', kind: 'select', default: 'ctr',
    options: [['ctr', 'CTR (clicks ÷ impressions)'], ['conversion_rate', 'Conversion rate (conversions ÷ impressions)']],
    help: 'What "best" means: the rate the bandit maximises.',
  },
  {
    key: 'allocation_rule', label: 'Allocation rule', kind: 'select', default: 'sharpened',
    options: [['thompson', 'Thompson sampling (shares = P(best))'], ['sharpened', 'Sharpened (laggards get less once the leader is clear)']],
    help: 'Sharpened (the default) loses fewer clicks on daily batches once one variant is at least 80% likely best; Thompson keeps every variant at its P(best). Compare both in the simulator.',
  },
  {
    key: 'min_explore_rate', label: 'Exploration rate', kind: 'number', default: 0.05,
    min: 0, max: 1, step: 0.01,
    help: 'Share of traffic spread evenly so no variant is starved: at the start, shrinking as the decision firms up (adaptive). 0 to 1.',
  },
  {
    key: 'exploration', label: 'Exploration', kind: 'select', default: 'adaptive',
    options: [['adaptive', 'Adaptive (shrinks to 5% of the rate)'], ['fixed', 'Fixed (always the rate)']],
    help: 'Adaptive exploration costs less once a leader is clear; fixed keeps the rate for good.',
  },
  {
    key: 'control_floor', label: 'Control floor', kind: 'number', default: 0.1,
    min: 0, max: 1, step: 0.01,
    help: 'Smallest share the control keeps, for a steady baseline. 0 to 1.',
  },
  {
    key: 'max_daily_shift', label: 'Max shift per update', kind: 'number', default: null,
    nullable: true, min: 0, max: 1, minExclusive: true, step: 0.01,
    help: 'Largest change of any share from one allocation to the next. Above 0, up to 1; empty = no limit.',
  },
  {
    key: 'min_impressions', label: 'Burn-in (impressions)', kind: 'int', default: 1000, min: 0, max: 1e12, step: 1,
    help: 'Impressions each variant needs of its own (at most one day of an even split) before it is allocated on evidence or can win. Whole number ≥ 0.',
  },
  {
    key: 'window_days', label: 'Window (days)', kind: 'int', default: null, nullable: true, min: 1, max: 3650, step: 1,
    help: 'Count only the most recent N days of data. 1 to 3650; empty = all data.',
  },
  {
    key: 'half_life_days', label: 'Half-life (days)', kind: 'number', default: null, nullable: true,
    min: 0.01, max: 3650, step: 'any',
    help: 'Older days weigh less: a day this many days old counts half. 0.01 to 3650; empty = no decay.',
  },
  {
    key: 'on_drift', label: 'On a suspected change', kind: 'select', default: 'warn',
    options: [['warn', 'Warn only'], ['discount', 'Warn and discount older data']],
    help: 'When a variant\'s rate seems to have changed: only warn, or also count the data with a half-life of a quarter of the days since the change.',
  },
  {
    key: 'alpha_prior', label: 'Prior α (successes)', kind: 'number', default: null, nullable: true,
    empty: 'empty = pooled', min: 0.001, max: 1e6, step: 'any',
    help: 'Pseudo-successes every variant starts with. 0.001 to 1,000,000; α = β = 1 is a flat prior. Empty (both): centred on the experiment\'s pooled rate, worth one observation.',
  },
  {
    key: 'beta_prior', label: 'Prior β (failures)', kind: 'number', default: null, nullable: true,
    empty: 'empty = pooled', min: 0.001, max: 1e6, step: 'any',
    help: 'Pseudo-failures every variant starts with. 0.001 to 1,000,000; larger α + β means a stronger prior.',
  },
  {
    key: 'winner_p_best', label: 'Winner: P(best) needed', kind: 'number', default: 0.95,
    min: 0, minExclusive: true, max: 1, step: 0.01,
    help: 'A variant is declared the winner once its P(best) reaches this. Above 0, up to 1.',
  },
  {
    key: 'winner_loss_share', label: 'Winner: expected loss below', kind: 'number', default: 0.01,
    min: 0, max: 1, step: 0.001,
    help: '…and once the expected loss of picking it is below this share of its rate. 0 to 1.',
  },
  {
    key: 'null_prior', label: 'Damping: P(no difference)', kind: 'number', default: 0.02,
    min: 0, max: 1, maxExclusive: true, step: 0.05,
    help: 'Prior belief that all variants share one rate; above 0 it damps early swings. 0 (plain Thompson sampling) up to, not including, 1.',
  },
  {
    key: 'effect_scale', label: 'Damping: effect size', kind: 'number', default: 1,
    min: 0.001, max: 10, step: 'any',
    help: 'How far apart true rates are expected to be when they do differ (0.1 = ±10%). Matters only with P(no difference) above 0. 0.001 to 10.',
  },
];

function validate(def, raw) {
  if (def.kind === 'select') {
    return def.options.some(([v]) => v === raw) ? [raw, null] : [null, 'Choose one of the options'];
  }
  const text = String(raw).trim();
  if (text === '') return def.nullable ? [null, null] : [null, 'Required'];
  const value = Number(text);
  if (!Number.isFinite(value)) return [null, 'Must be a number'];
  if (def.kind === 'int' && !Number.isInteger(value)) return [null, 'Must be a whole number'];
  if (def.min !== undefined && (def.minExclusive ? value <= def.min : value < def.min)) {
    return [null, `Must be ${def.minExclusive ? 'above' : 'at least'} ${def.min}`];
  }
  if (def.max !== undefined && (def.maxExclusive ? value >= def.max : value > def.max)) {
    return [null, `Must be ${def.maxExclusive ? 'below' : 'at most'} ${def.max}`];
  }
  return [value, null];
}

/**
 * A <fieldset> of every setting. Returns {element, read(), showErrors(errors), setValues(values)}.
 * read() → {values, ok}; invalid inputs are marked next to the field.
 */
export function settingsFieldset(values = {}, { legend = 'Settings', idPrefix = 'set' } = {}) {
  const controls = new Map();
  const fields = new Map();
  const grid = h('div', { class: 'settings-grid' });
  for (const def of SETTINGS) {
    const id = `${idPrefix}-${def.key}`;
    let control;
    if (def.kind === 'select') {
      control = h('select', { id, name: def.key },
        def.options.map(([v, label]) => h('option', { value: v }, label)));
    } else {
      control = h('input', {
        id, name: def.key, type: 'number', step: String(def.step),
        min: def.minExclusive ? null : def.min, max: def.maxExclusive ? null : def.max,
        inputmode: def.kind === 'int' ? 'numeric' : 'decimal',
        placeholder: def.nullable ? (def.empty ?? 'empty = off') : null,
      });
    }
    const f = field(def.label, control, def.help);
    controls.set(def.key, control);
    fields.set(def.key, f);
    grid.append(f);
  }
  const element = h('fieldset', { class: 'settings' }, h('legend', null, legend), grid);

  function setValues(vals) {
    for (const def of SETTINGS) {
      const v = vals?.[def.key] !== undefined ? vals[def.key] : def.default;
      controls.get(def.key).value = v === null || v === undefined ? '' : String(v);
      fields.get(def.key).showError(null);
    }
  }

  function read() {
    const out = {};
    let ok = true;
    for (const def of SETTINGS) {
      const [value, error] = validate(def, controls.get(def.key).value);
      fields.get(def.key).showError(error);
      if (error) ok = false;
      else out[def.key] = value;
    }
    return { values: out, ok };
  }

  /** Place server field errors (field like "settings.control_floor") next to their inputs. */
  function showErrors(errors) {
    const rest = [];
    for (const e of errors ?? []) {
      const where = Array.isArray(e?.field ?? e?.loc) ? (e.field ?? e.loc).join('.') : String(e?.field ?? '');
      const def = SETTINGS.find((d) => where === d.key || where.endsWith(`.${d.key}`));
      if (def) fields.get(def.key).showError(e.message ?? e.msg ?? 'Invalid');
      else rest.push(e);
    }
    return rest;
  }

  setValues(values);
  return { element, read, showErrors, setValues, controls };
}

/** The keys whose values differ between `before` and `after` (for a partial PATCH). */
export function changedSettings(before, after) {
  const out = {};
  for (const def of SETTINGS) {
    const a = before?.[def.key] ?? def.default;
    const b = after[def.key];
    if (b !== undefined && a !== b) out[def.key] = b;
  }
  return out;
}
