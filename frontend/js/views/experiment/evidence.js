// "Evidence so far": the key figures of the report.
import { fmtInt, fmtNum, fmtPct, h, replace } from '../../dom.js';

export function evidencePanel() {
  const figures = h('dl', { class: 'figures', id: 'figures' });

  function draw(variants, shaped, metric) {
    const unit = metric === 'ctr' ? 'clicks' : 'conversions';
    const totalImpr = variants.reduce((s, v) => s + (Number(v.impressions) || 0), 0);
    replace(figures,
      h('div', null, h('dt', null, 'Impressions counted'), h('dd', null, fmtInt(totalImpr))),
      h('div', null, h('dt', null, `Estimated regret (${unit} lost)`), h('dd', { id: 'fig-regret' }, fmtNum(Number(shaped.regret)))),
      h('div', null, h('dt', null, `${unit[0].toUpperCase()}${unit.slice(1)} gained vs even split`), h('dd', { id: 'fig-gained' }, fmtNum(Number(shaped.gained)))),
      h('div', null, h('dt', null, 'Potential value remaining'), h('dd', null, fmtPct(Number(shaped.pvr)))),
      shaped.winner ? h('div', null, h('dt', null, 'Winner'), h('dd', null, shaped.winner)) : null);
  }

  return { figures, draw, clear: () => replace(figures) };
}
