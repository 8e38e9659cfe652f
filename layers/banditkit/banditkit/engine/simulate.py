"""simulate(): the real engine on synthetic daily traffic, against an even split."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np

from banditkit.engine.allocation import allocate
from banditkit.engine.posterior import check_variants
from banditkit.engine.sharpen import LOOKBACK_DAYS
from banditkit.engine.types import DailyCounts, InvalidSettings, RateChange, Settings, Simulation

START = dt.date(2000, 1, 1)


def _check_rates(rates: Sequence[float], k: int, field: str) -> tuple[float, ...]:
    if len(rates) != k:
        raise InvalidSettings(field, f"needs one rate per variant ({k})")
    for r in rates:
        if isinstance(r, bool) or not isinstance(r, int | float) or not 0.0 <= r <= 1.0:
            raise InvalidSettings(field, "every rate must be a number in [0, 1]")
        if not math.isfinite(r):
            raise InvalidSettings(field, "every rate must be a number in [0, 1]")
    return tuple(float(r) for r in rates)


def simulate(
    variant_names: Sequence[str],
    rates: Sequence[float],
    daily_impressions: int,
    days: int,
    settings: Settings,
    *,
    control: str | None = None,
    changes: Sequence[RateChange] = (),
    seed: int = 0,
) -> Simulation:
    """Run `days` days: each day the engine allocates on the data so far, traffic is split
    multinomially by its shares and successes are binomial draws at the true rates.
    Regret is expected successes lost vs always showing the best variant of that day."""
    check_variants(variant_names, control)
    k = len(variant_names)
    current = _check_rates(rates, k, "rates")
    if isinstance(daily_impressions, bool) or not isinstance(daily_impressions, int):
        raise InvalidSettings("daily_impressions", "must be an integer >= 1")
    if daily_impressions < 1:
        raise InvalidSettings("daily_impressions", "must be an integer >= 1")
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise InvalidSettings("days", "must be an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidSettings("seed", "must be an integer >= 0")
    schedule: dict[int, tuple[float, ...]] = {}
    for change in changes:
        if isinstance(change.day, bool) or not isinstance(change.day, int) or change.day < 0:
            raise InvalidSettings("changes", "day must be an integer >= 0")
        schedule[change.day] = _check_rates(change.rates, k, "changes")

    rng = np.random.default_rng(seed)
    rows: list[DailyCounts] = []
    previous: dict[str, float] | None = None
    recent: list[dict[str, float]] = []  # P(best) of the last days (allocation_rule)
    shares_per_day: list[tuple[float, ...]] = []
    regret: list[float] = []
    even_regret: list[float] = []
    total = even_total = 0.0
    successes = even_successes = 0
    even_n = np.full(k, daily_impressions // k)
    even_n[: daily_impressions - int(even_n.sum())] += 1
    for t in range(days):
        current = schedule.get(t, current)
        truth = np.array(current)
        alloc = allocate(
            variant_names, rows, settings, control=control, previous=previous, history=recent
        )
        recent = [*recent, {v.name: v.p_best for v in alloc.variants}][-LOOKBACK_DAYS:]
        share = np.array([alloc.shares[v] for v in variant_names])
        n = rng.multinomial(daily_impressions, share / share.sum())
        s = rng.binomial(n, truth)
        even_s = rng.binomial(even_n, truth)
        day = START + dt.timedelta(days=t)
        rows.extend(
            DailyCounts(day, name, int(n[i]), int(s[i]), int(s[i]))
            for i, name in enumerate(variant_names)
        )
        previous = alloc.shares
        shares_per_day.append(tuple(float(x) for x in share))
        total += float(n @ (truth.max() - truth))
        even_total += float(even_n @ (truth.max() - truth))
        regret.append(total)
        even_regret.append(even_total)
        successes += int(s.sum())
        even_successes += int(even_s.sum())
    return Simulation(
        variants=tuple(variant_names),
        shares=tuple(shares_per_day),
        cumulative_regret=tuple(regret),
        even_cumulative_regret=tuple(even_regret),
        successes=successes,
        even_successes=even_successes,
        extra={"regret_ratio_vs_even": total / even_total if even_total else 0.0},
    )
