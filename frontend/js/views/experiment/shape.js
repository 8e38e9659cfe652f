// Shaping the API's answers for the experiment page's panels.

export function variantList(exp) {
  return (exp?.variants ?? []).map((v) => (typeof v === 'string' ? { name: v, is_control: false } : v));
}

export function controlOf(exp, report) {
  if (exp?.control) return exp.control;
  const flagged = variantList(exp).find((v) => v.is_control);
  if (flagged) return flagged.name;
  if (report?.control) return report.control;
  return variantList(exp).some((v) => v.name === 'control') ? 'control' : null;
}

/** The report carries the allocation either flat or under "allocation"; lifts as list or map. */
export function shapeReport(report, allocation) {
  const r = report ?? {};
  const nested = r.allocation && typeof r.allocation === 'object' && Array.isArray(r.allocation.variants);
  const alloc = nested ? r.allocation : Array.isArray(r.variants) ? r : allocation;
  let lifts = r.lifts ?? r.lift_vs_control ?? [];
  if (!Array.isArray(lifts)) {
    lifts = Object.entries(lifts).map(([variant, l]) => ({ variant, ...(typeof l === 'object' ? l : { lift: l }) }));
  }
  const liftMap = new Map(lifts.map((l) => [l.variant ?? l.variant_name ?? l.name, l]));
  return {
    alloc,
    liftMap,
    regret: r.regret_so_far ?? r.estimated_regret ?? null,
    gained: r.gained_vs_even ?? r.clicks_gained_vs_even ?? null,
    regretByDay: Array.isArray(r.regret_by_day) ? r.regret_by_day : null,
    pvr: r.potential_value_remaining ?? alloc?.potential_value_remaining ?? null,
    recommendation: r.recommendation ?? null,
    winner: r.winner ?? alloc?.winner ?? null,
  };
}

export function sortedDays(metrics) {
  return [...(metrics?.days ?? [])].sort((a, b) => String(a.date).localeCompare(String(b.date)));
}

export function rowsByVariant(day) {
  const map = new Map();
  for (const v of day.variants ?? []) map.set(v.variant_name ?? v.name, v);
  return map;
}

export function sortedHistory(items) {
  return [...items].sort((a, b) => String(a.computed_at).localeCompare(String(b.computed_at)));
}

export function historyValue(item, key, variant) {
  const m = item?.[key];
  if (!m) return null;
  if (Array.isArray(m)) {
    const hit = m.find((x) => (x.name ?? x.variant ?? x.variant_name) === variant);
    return hit ? Number(hit.value ?? hit[key] ?? hit.share) : null;
  }
  const v = m[variant];
  return v === undefined || v === null ? null : Number(v);
}

function snapshotImpressions(item) {
  return Object.values(item?.totals ?? {}).reduce((sum, t) => sum + (Number(t?.impressions) || 0), 0);
}

/**
 * The data day of each snapshot: its `latest_day` (the API's, since snapshots record it);
 * for snapshots stored before that field, the latest day whose counted impressions (all days up to it,
 * or the window's days when window_days is set) equal the snapshot's total; else the UTC date
 * it was computed on. Returns one point per day, the day's last snapshot, oldest day first:
 * [{day, item}].
 */
export function historyByDataDay(items, days, windowDays) {
  const counted = new Map(); // total impressions -> latest day counting exactly that many
  let cumulative = 0;
  const perDay = (days ?? []).map((d) => [d.date, (d.variants ?? []).reduce((s, v) => s + (Number(v.impressions) || 0), 0)]);
  perDay.forEach(([date, n], i) => {
    cumulative += n;
    let total = cumulative;
    if (windowDays) {
      const from = new Date(Date.parse(`${date}T00:00:00Z`) - (windowDays - 1) * 86400000).toISOString().slice(0, 10);
      total = perDay.slice(0, i + 1).filter(([d]) => d >= from).reduce((s, [, k]) => s + k, 0);
    }
    if (n > 0 || !counted.has(total)) counted.set(total, date);
  });
  const byDay = new Map();
  const sorted = sortedHistory(items);
  const anyData = sorted.some((item) => snapshotImpressions(item) > 0);
  for (const item of sorted) {
    const total = snapshotImpressions(item);
    if (anyData && total === 0) continue;
    const day = item.latest_day || (total > 0 && counted.get(total)) || String(item.computed_at).slice(0, 10);
    byDay.set(day, item);
  }
  return [...byDay.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, item]) => ({ day, item }));
}
