// "Now": the report's recommendation and the next traffic split.
import { colour } from '../../charts.js';
import { empty, errorBox, fmtPct, fmtTime, h, loading, replace } from '../../dom.js';
import { recommendationText } from './recommendation.js';

export function nowPanel() {
  const recommendation = h('div', { class: 'card recommendation', id: 'recommendation' }, loading());
  const allocationBox = h('div', { id: 'allocation' }, loading());

  /** The advice from the allocation's numbers; the report adds the lifts when it loaded. */
  function drawRecommendation(exp, alloc, lifts) {
    replace(recommendation, h('p', { class: 'rec-text', id: 'rec-text' }, recommendationText(exp, alloc, lifts)));
  }

  function drawSplit(alloc, names, control, metric) {
    const variants = alloc.variants ?? [];
    const shares = alloc.allocations ?? alloc.shares ?? {};
    if (!names.length) {
      replace(allocationBox, empty('No variants yet: they appear with their first data.'));
      return;
    }
    const rows = names.map((name, i) => {
      const v = variants.find((x) => x.name === name) ?? {};
      const share = Number(shares[name] ?? v.allocation ?? 0);
      const bar = h('span', { class: 'bar-fill' });
      bar.style.width = `${Math.max(0, Math.min(1, share)) * 100}%`;
      bar.style.backgroundColor = colour(i);
      return h('li', { class: 'share-row', dataset: { variant: name } },
        h('span', { class: 'share-name' }, name, name === control ? h('span', { class: 'tag' }, 'control') : null),
        h('span', { class: 'bar', role: 'presentation' }, bar),
        h('span', { class: 'share-value' }, fmtPct(share)),
        h('span', { class: 'share-pbest muted small' }, `P(best) ${fmtPct(v.p_best)}`));
    });
    replace(allocationBox,
      h('ul', { class: 'shares', id: 'shares' }, rows),
      h('p', { class: 'muted small' }, `Computed ${fmtTime(alloc.computed_at)} · ${String(alloc.algorithm ?? 'thompson_sampling').replace(/_/g, ' ')} · metric ${metric === 'ctr' ? 'CTR' : 'conversion rate'}`));
  }

  function failed(err, retry) {
    replace(allocationBox, errorBox(err, retry));
    replace(recommendation, errorBox(err));
  }

  return { recommendation, allocationBox, drawRecommendation, drawSplit, failed };
}
