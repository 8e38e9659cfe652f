// The daily series the rate and impressions charts draw, from GET /experiments/{id}/metrics.
import { ratio } from '../../dom.js';
import { rowsByVariant } from './shape.js';

/**
 * Per variant, per day: the counts behind each point, day by day or summed up to the day
 * (cumulative). [{name, points: [{impressions, num, rate} | null]}]; a variant has no point
 * before its first row, and on a later day without a row only when daily.
 */
export function rateSeries(days, names, num, cumulative) {
  return names.map((name) => {
    let impressions = 0;
    let hits = 0;
    let seen = false;
    const points = days.map((d) => {
      const r = rowsByVariant(d).get(name);
      if (!cumulative) {
        return r ? point(Number(r.impressions) || 0, Number(r[num]) || 0) : null;
      }
      if (r) {
        seen = true;
        impressions += Number(r.impressions) || 0;
        hits += Number(r[num]) || 0;
      }
      return seen ? point(impressions, hits) : null;
    });
    return { name, points };
  });
}

function point(impressions, num) {
  return { impressions, num, rate: ratio(num, impressions) };
}

/** Impressions per variant per day (0 on a day without a row), for the stacked chart. */
export function impressionSeries(days, names) {
  return names.map((name) => ({
    name,
    values: days.map((d) => Number(rowsByVariant(d).get(name)?.impressions) || 0),
    clicks: days.map((d) => Number(rowsByVariant(d).get(name)?.clicks) || 0),
  }));
}
