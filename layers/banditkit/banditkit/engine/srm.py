"""Split check (sample-ratio mismatch): was each day served with the recommended shares?

The shares expected on a day are those in force during it: the average over the UTC day
of the shares of the latest snapshot at each moment (so a day on which no new snapshot
was computed is compared with the snapshot in force when it began, and a day on which
the shares changed with the time-weighted mix). A day is checked only when a snapshot
from before its start is known, every variant served that day has an expected share,
and the day has impressions. Pearson's chi-square with a continuity correction on the
day's impressions per variant, cells with an expected count below 20 pooled (so the
chi-square tail holds at p = 0.001, not only at 0.05); p < ALPHA flags the day.
Pure numpy and math, no I/O (docs/engine.md, "Warnings and checks").
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from banditkit.engine.types import DailyCounts

Array = NDArray[np.float64]
ALPHA = 1e-3
MIN_EXPECTED = 20.0
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class SplitDay:
    """One day whose served split does not match the recommended one."""

    day: dt.date
    observed: dict[str, float]  # share of the day's impressions per variant
    expected: dict[str, float]  # time-weighted recommended share per variant
    p_value: float


def chi2_sf(x: float, df: int) -> float:
    """P(χ²_df > x), exactly: the regularised upper incomplete gamma Q(df/2, x/2) by its
    finite series (integer and half-integer orders)."""
    if x <= 0:
        return 1.0
    y = x / 2.0
    if df % 2 == 0:
        terms = [-y + i * math.log(y) - math.lgamma(i + 1) for i in range(df // 2)]
        return min(1.0, sum(math.exp(t) for t in terms))
    terms = [-y + (i + 0.5) * math.log(y) - math.lgamma(i + 1.5) for i in range(df // 2)]
    return min(1.0, math.erfc(math.sqrt(y)) + sum(math.exp(t) for t in terms))


def chi_square(observed: Array, shares: Array) -> tuple[float, int]:
    """Pearson's statistic and degrees of freedom, small expected cells pooled; df 0 when
    fewer than two cells remain."""
    total = float(observed.sum())
    expected = shares / shares.sum() * total
    big = expected >= MIN_EXPECTED
    obs = list(observed[big])
    exp = list(expected[big])
    if (~big).any():
        o_small, e_small = float(observed[~big].sum()), float(expected[~big].sum())
        if e_small >= MIN_EXPECTED or not exp:
            obs.append(o_small)
            exp.append(e_small)
        else:  # still too small: pool it with the smallest large cell
            j = int(np.argmin(exp))
            obs[j] += o_small
            exp[j] += e_small
    o, e = np.array(obs), np.array(exp)
    if len(e) < 2 or (e <= 0).any():
        return 0.0, 0
    gap = np.maximum(np.abs(o - e) - 0.5, 0.0)  # continuity correction (Yates)
    return float((gap**2 / e).sum()), len(e) - 1


def in_force(
    snapshots: Sequence[tuple[dt.datetime, Mapping[str, float]]], day: dt.date
) -> dict[str, float] | None:
    """Time-weighted shares over the UTC day; None when no snapshot precedes its start."""
    start = dt.datetime.combine(day, dt.time(), dt.UTC)
    end = start + DAY
    ordered = sorted(snapshots, key=lambda s: s[0])
    before = [s for s in ordered if s[0] <= start]
    if not before:
        return None
    steps = [(start, before[-1][1])] + [s for s in ordered if start < s[0] < end]
    out: dict[str, float] = {}
    for i, (at, shares) in enumerate(steps):
        until = steps[i + 1][0] if i + 1 < len(steps) else end
        weight = (until - at) / DAY
        for name, share in shares.items():
            out[name] = out.get(name, 0.0) + weight * float(share)
    return out


def mismatches(
    variants: Sequence[str],
    days: Sequence[DailyCounts],
    snapshots: Sequence[tuple[dt.datetime, Mapping[str, float]]],
    *,
    alpha: float = ALPHA,
) -> tuple[SplitDay, ...]:
    """The checked days whose split fails the test, oldest first."""
    served: dict[dt.date, dict[str, int]] = {}
    for row in days:
        served.setdefault(row.day, {})[row.variant] = row.impressions
    out: list[SplitDay] = []
    for day in sorted(served):
        counts = served[day]
        total = sum(counts.values())
        expected = in_force(snapshots, day)
        if total == 0 or expected is None:
            continue
        if any(n > 0 and name not in expected for name, n in counts.items()):
            continue  # a variant served without a recommended share: not comparable
        names = [v for v in variants if v in expected or v in counts]
        obs = np.array([counts.get(v, 0) for v in names], dtype=np.float64)
        shares = np.array([expected.get(v, 0.0) for v in names])
        if shares.sum() <= 0:
            continue
        stat, df = chi_square(obs, shares)
        if df == 0:
            continue
        p = chi2_sf(stat, df)
        if p < alpha:
            norm = shares / shares.sum()
            out.append(
                SplitDay(
                    day=day,
                    observed={
                        v: round(float(o) / total, 6) for v, o in zip(names, obs, strict=True)
                    },
                    expected={v: round(float(e), 6) for v, e in zip(names, norm, strict=True)},
                    p_value=p,
                )
            )
    return tuple(out)
