// "Evidence so far": the key figures of the report. A figure that failed to load reads "–"
// with the reason; a figure that only reflects the prior reads "not enough data".
import { fmtInt, fmtNum, fmtPct, h, replace } from '../../dom.js';
import { hasOwnData } from './recommendation.js';

export const NOT_ENOUGH = 'not enough data';

export function evidencePanel() {
  const figures = h('dl', { class: 'figures', id: 'figures' });

  /** reportOk: false when /report failed, so its figures are unknown, not zero. */
  function draw(variants, shaped, metric, reportOk = true) {
    const unit = metric === 'ctr' ? 'clicks' : 'conversions';
    const totalImpr = variants.reduce((s, v) => s + (Number(v.impressions) || 0), 0);
    const fromReport = (value) => (reportOk && value !== null && value !== undefined ? fmtNum(Number(value)) : '–');
    const own = hasOwnData(variants);
    const failedNote = reportOk ? null
      : h('div', null, h('dt', null, 'Report'), h('dd', { class: 'small', id: 'fig-report-failed' }, 'did not load: figures marked – are unknown'));
    replace(figures,
      h('div', null, h('dt', null, 'Impressions counted'), h('dd', null, fmtInt(totalImpr))),
      h('div', null, h('dt', null, `Estimated regret (${unit} lost)`), h('dd', { id: 'fig-regret' }, fromReport(shaped.regret))),
      h('div', null, h('dt', null, `${unit[0].toUpperCase()}${unit.slice(1)} gained vs even split`), h('dd', { id: 'fig-gained' }, fromReport(shaped.gained))),
      h('div', null, h('dt', null, 'Potential value remaining'), h('dd', { id: 'fig-pvr' }, own ? fmtPct(Number(shaped.pvr)) : NOT_ENOUGH)),
      shaped.winner ? h('div', null, h('dt', null, 'Winner'), h('dd', null, shaped.winner)) : null,
      failedNote);
  }

  return { figures, draw, clear: () => replace(figures) };
}
