// The per-variant table: counts, rates, interval, lift, P(best), expected loss, share.
// Wide screens get a table that fits (intervals wrap onto a second line); phones get one card
// per variant, each value labelled by its column (data-label).
import { empty, fmtInt, fmtLift, fmtPct, fmtPoints, h, loading, ratio, replace } from '../../dom.js';
import { NOT_ENOUGH } from './evidence.js';

export function variantsTable() {
  const tableBox = h('div', { id: 'variant-table-box' }, loading());

  function draw(variants, shares, control, liftMap, metric) {
    if (!variants.length) {
      replace(tableBox, empty('No variants yet.'));
      return;
    }
    const head = ['Variant', 'Impressions', 'Clicks', 'Conversions', 'CTR', 'Conv. rate',
      `95% CI (${metric === 'ctr' ? 'CTR' : 'conv.'})`, 'Lift vs control', 'P(best)', 'Expected loss', 'Share'];
    const hasData = (name) => Number(variants.find((x) => x.name === name)?.impressions) > 0;
    const rows = variants.map((v) => {
      const lift = liftMap.get(v.name);
      const own = hasData(v.name);
      let liftCell = '–';
      if (v.name === control) liftCell = 'baseline';
      else if (!own || (control && !hasData(control))) liftCell = NOT_ENOUGH;
      else if (lift) {
        const interval = Number.isFinite(lift.ci_low) && Number.isFinite(lift.ci_high)
          ? h('span', { class: 'sub' }, `${fmtLift(lift.ci_low)} to ${fmtLift(lift.ci_high)}`) : null;
        liftCell = [fmtLift(Number(lift.lift)), interval];
      }
      const cell = (i, content, cls = 'num') => h('td', { class: cls, 'data-label': head[i] }, content);
      return h('tr', { dataset: { variant: v.name } },
        h('th', { scope: 'row' }, v.name, v.name === control ? h('span', { class: 'tag' }, 'control') : null),
        cell(1, fmtInt(v.impressions)),
        cell(2, fmtInt(v.clicks)),
        cell(3, fmtInt(v.conversions)),
        cell(4, fmtPct(ratio(v.clicks, v.impressions), 2)),
        cell(5, fmtPct(ratio(v.conversions, v.impressions), 2)),
        cell(6, own ? `${fmtPct(v.ci_low, 2)} – ${fmtPct(v.ci_high, 2)}` : NOT_ENOUGH),
        cell(7, liftCell),
        cell(8, fmtPct(v.p_best)),
        cell(9, own ? fmtPoints(v.expected_loss) : NOT_ENOUGH),
        cell(10, fmtPct(shares[v.name] ?? v.allocation), 'num share'));
    });
    replace(tableBox,
      h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': 'Per-variant results' },
        h('table', { class: 'table variant-table', id: 'variant-table' },
          h('thead', null, h('tr', null, head.map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', null, rows))),
      h('p', { class: 'help' }, 'Lift is relative to the control\'s posterior mean, with its 95% interval. Expected loss is the rate you would give up on average, in percentage points (pp), by picking this variant if it is not the best.'));
  }

  return { tableBox, draw, unavailable: () => replace(tableBox, empty('No allocation available.')) };
}
