"""simulate(): the real engine on synthetic daily traffic, against an even split."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence

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


def _weekly(values: Sequence[float], field: str) -> tuple[float, ...]:
    if len(values) == 0:
        return (1.0,) * 7
    if len(values) != 7:
        raise InvalidSettings(field, "needs seven multipliers, Monday to Sunday of day 0 on")
    for v in values:
        ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
        if not (ok and v >= 0):
            raise InvalidSettings(field, "every multiplier must be a finite number >= 0")
    return tuple(float(v) for v in values)


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
    weekday_rates: Sequence[float] = (),
    weekday_traffic: Sequence[float] = (),
    start_days: Mapping[str, int] | None = None,
) -> Simulation:
    """Run `days` days: each day the engine allocates on the data so far, traffic is split
    multinomially by its shares and successes are binomial draws at the true rates.
    Regret is expected successes lost vs always showing the best variant of that day.

    Optional: seven multipliers of every rate (`weekday_rates`) and of the daily traffic
    (`weekday_traffic`) by day t mod 7, and the first day a variant exists (`start_days`,
    e.g. {"variant_c": 10} for a variant added on day 10; its share is 0 before).

    `winner_day` is the first day whose allocation declared a winner, counted as the days
    of data it was computed from (day t sees days 0..t-1), with that `winner`."""
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

    week_r = _weekly(weekday_rates, "weekday_rates")
    week_t = _weekly(weekday_traffic, "weekday_traffic")
    starts = np.zeros(k, dtype=np.int64)
    for name, first in (start_days or {}).items():
        if name not in variant_names:
            raise InvalidSettings("start_days", f"{name!r} is not one of the variants")
        if isinstance(first, bool) or not isinstance(first, int) or first < 0:
            raise InvalidSettings("start_days", "a first day must be an integer >= 0")
        starts[list(variant_names).index(name)] = first
    if int(np.min(starts)) > 0:
        raise InvalidSettings("start_days", "some variant must exist from day 0")
    rng = np.random.default_rng(seed)
    rows: list[DailyCounts] = []
    previous: dict[str, float] | None = None
    recent: list[dict[str, float]] = []  # P(best) of the last days (allocation_rule)
    shares_per_day: list[tuple[float, ...]] = []
    regret: list[float] = []
    even_regret: list[float] = []
    total = even_total = 0.0
    successes = even_successes = 0
    winner_day: int | None = None
    winner: str | None = None
    for t in range(days):
        current = schedule.get(t, current)
        live = starts <= t
        names = [v for v, on in zip(variant_names, live, strict=True) if on]
        truth = np.array(current)[live] * week_r[t % 7]
        traffic = round(daily_impressions * week_t[t % 7])
        ctrl = control if control in names else None
        alloc = allocate(names, rows, settings, control=ctrl, previous=previous, history=recent)
        if alloc.status == "winner_found" and winner_day is None:
            winner_day, winner = t, alloc.winner
        recent = [*recent, {v.name: v.p_best for v in alloc.variants}][-LOOKBACK_DAYS:]
        share = np.array([alloc.shares[v] for v in names])
        n = rng.multinomial(traffic, share / share.sum())
        s = rng.binomial(n, np.clip(truth, 0.0, 1.0))
        even_n = np.full(len(names), traffic // len(names))
        even_n[: traffic - int(even_n.sum())] += 1
        even_s = rng.binomial(even_n, np.clip(truth, 0.0, 1.0))
        day = START + dt.timedelta(days=t)
        rows.extend(
            DailyCounts(day, name, int(n[i]), int(s[i]), int(s[i])) for i, name in enumerate(names)
        )
        previous = alloc.shares
        full = np.zeros(k)
        full[live] = share
        shares_per_day.append(tuple(float(x) for x in full))
        gap = float(np.max(truth)) - truth
        total += float(n @ gap)
        even_total += float(even_n @ gap)
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
        winner_day=winner_day,
        winner=winner,
    )
