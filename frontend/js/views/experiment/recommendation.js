// The recommendation in plain words, composed from the allocation's numbers so that every
// figure is formatted for people and the advice fits the experiment's lifecycle.
import { fmtInt, fmtLift, fmtPct, fmtPoints } from '../../dom.js';

/** True once every variant has impressions of its own: before that, figures are the prior. */
export function hasOwnData(variants) {
  return variants.length > 0 && variants.every((v) => Number(v.impressions) > 0);
}

/**
 * exp: the experiment (its lifecycle status); alloc: /allocation or the report;
 * lifts: the report's lifts (may be empty).
 */
export function recommendationText(exp, alloc, lifts = []) {
  const variants = alloc?.variants ?? [];
  if (!variants.length) return 'No data yet: the recommendation appears with the first day of data.';
  const best = variants.reduce((a, b) => (Number(b.p_best) > Number(a.p_best) ? b : a));
  const total = variants.reduce((s, v) => s + (Number(v.impressions) || 0), 0);
  const settings = alloc.settings ?? exp?.settings ?? {};
  const own = hasOwnData(variants);
  const leader = own
    ? `${best.name} leads with a ${fmtPct(Number(best.p_best))} chance of being best`
    : 'not every variant has data yet';
  if (exp?.status === 'completed') {
    return alloc.winner
      ? `Completed: ${alloc.winner} won (${fmtPct(Number(best.p_best))} likely best after ${fmtInt(total)} impressions).`
      : `Completed without a declared winner: ${leader} after ${fmtInt(total)} impressions.`;
  }
  if (exp?.status === 'paused') {
    return `Paused: the split stays as it was; ${leader}. Resume the test to keep learning.`;
  }
  if (alloc.status === 'warming_up' || !own) {
    const need = Number(settings.min_impressions);
    const of = Number.isFinite(need) ? ` of ${fmtInt(need)}` : '';
    return `Warming up: ${fmtInt(total)}${of} impressions so far; traffic stays evenly split until every variant has enough data.`;
  }
  if (alloc.status === 'winner_found') {
    return `${best.name} is the winner: ${fmtPct(Number(best.p_best))} likely best, and choosing it now costs at most ${fmtPoints(Number(best.expected_loss), 3)} in expected rate. Ship ${best.name} and stop the test.`;
  }
  const needed = Number(settings.winner_p_best);
  let text = `Keep the test running: ${leader}${Number.isFinite(needed) ? `, below the ${fmtPct(needed, 0)} needed to call a winner` : ''}.`;
  const worst = lifts.length ? lifts.reduce((a, b) => (Number(b.p_better) < Number(a.p_better) ? b : a)) : null;
  if (worst && Number(worst.p_better) < 0.05) {
    text += ` ${worst.variant} looks worse than the control (${fmtLift(Number(worst.lift))}).`;
  }
  return text;
}
