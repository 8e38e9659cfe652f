"""Drift: has a variant's rate, relative to the others', changed during the test?

The test conditions on each day's total successes. If every variant's rate on day t is
λ_k·a_t (a day effect a_t common to all variants: a day-of-week pattern, a holiday, a
campaign), then given the day's successes S_t the successes of variant k are close to
Binomial(S_t, π_kt) with π_kt = n_kt·λ_k / Σ_j n_jt·λ_j: the day effect cancels, and so
do daily changes in traffic and in the split. The relative rates λ are fitted by maximum
likelihood on all counted days (no change); for each variant and candidate day, the
signed root of the likelihood ratio of its successes' split before and after that day
(which keeps a normal tail when a variant has only a few successes) gives, at its
largest, a p-value with a Bonferroni bound over the candidate days, and the standardised
cumulative sum of its residuals s_kt − S_t·π_kt places the change (docs/engine.md,
"Warnings and checks"). Pure numpy, no I/O.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from banditkit.engine.posterior import Counted, count
from banditkit.engine.types import DailyCounts, Settings

Array = NDArray[np.float64]

# A variant's change is suspected when its p-value is below this (per variant and per
# computation; bench/signals.py measures what it costs over a 30-day test read daily).
ALPHA = 1e-3
# With on_drift = "discount" the half-life is this share of the days since the change,
# so days before the change weigh at most 0.5^(1/share) (1/16) and the memory grows back
# as data after the change accrue. Never below one day.
DISCOUNT_SHARE = 0.25


@dataclass(frozen=True)
class Drift:
    """The most likely change of one variant's relative rate."""

    variant: str
    since: dt.date  # first day of the new level
    p_value: float  # Bonferroni bound over the candidate days (1 = no evidence)
    before: float  # relative rate λ_k before and after the change (pooled λ = 1 scale)
    after: float

    @property
    def suspected(self) -> bool:
        return self.p_value < ALPHA


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _relative_rates(n: Array, s: Array) -> Array:
    """MLE of λ (mean 1 over variants with successes) for E[s_kt] = S_t n_kt λ_k / Σ n_jt λ_j."""
    total = s.sum(axis=0)
    lam = np.ones(n.shape[1])
    big_s = s.sum(axis=1)
    for _ in range(200):
        denom = (n * lam).sum(axis=1)
        ok = denom > 0
        expected = (big_s[ok] / denom[ok]) @ n[ok]
        new = np.where(expected > 0, total / np.where(expected > 0, expected, 1.0), 0.0)
        scale = new[new > 0].mean() if (new > 0).any() else 1.0
        new = new / scale
        if np.max(np.abs(new - lam)) < 1e-10:
            return new
        lam = new
    return lam


def _split_z(s_k: Array, big_s: Array, pi: Array) -> tuple[Array, int]:
    """Per candidate day τ (a change before day τ + 1), the signed root of the likelihood
    ratio that the variant's successes from τ + 1 on are not their share of its total.

    Given its total O (which the fitted λ makes equal to its expected total E), the
    successes after τ are close to Binomial(O, q_τ), q_τ the expected share after τ, when
    its shares π of the day totals are small; of the variant and the rest (whose counts
    mirror it) the side with fewer expected successes is used, and the statistic is scaled
    by the ratio of that split's standard deviation to the one with the binomial variances
    S·π(1 − π) of the day totals' split (1 for small π). Unlike a standardised sum, the
    signed root keeps its normal tail when a side has only a few successes (a laggard
    starved by adaptive exploration). 0 where q_τ is 0 or 1; with the number of candidate
    days (q_τ strictly between)."""
    e = big_s * pi
    obs, exp = s_k, e
    if e.sum() > (big_s - e).sum():  # the rest's view: its counts are S − s
        obs, exp = big_s - s_k, big_s - e
    var = e * (1.0 - pi)  # the same for either side
    total_e, total_o, info = float(exp.sum()), float(obs.sum()), float(var.sum())
    if total_e <= 0 or total_o <= 0 or info <= 0:
        return np.zeros(max(len(s_k) - 1, 0)), 0
    after_o = total_o - np.cumsum(obs)[:-1]
    q = 1.0 - np.cumsum(exp)[:-1] / total_e
    i = np.cumsum(var)[:-1]
    bridge = i * (info - i) / info
    ok = (q > 1e-12) & (q < 1.0 - 1e-12) & (bridge > 0)
    q = np.where(ok, q, 0.5)
    scale = np.sqrt(total_e * q * (1.0 - q) / np.where(ok, bridge, 1.0))
    mean = total_o * q

    def xlogy(x: Array, y: Array) -> Array:
        return np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0) / y), 0.0)

    dev = 2.0 * (xlogy(after_o, mean) + xlogy(total_o - after_o, total_o - mean))
    z = np.sqrt(np.maximum(dev, 0.0)) * scale
    out: Array = np.where(ok, z, 0.0)
    return out, int(ok.sum())


def detect_counts(
    names: Sequence[str], dates: Sequence[dt.date], n: Array, s: Array
) -> tuple[Drift, ...]:
    """One Drift per variant from per-day (rows, oldest first) × variant counts; empty when
    fewer than two variants, three days or no successes leave nothing to compare."""
    n = np.asarray(n, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    days, k = n.shape
    if k < 2 or days < 3 or s.sum() == 0:
        return ()
    lam = _relative_rates(n, s)
    big_s = s.sum(axis=1)
    denom = (n * lam).sum(axis=1)
    safe = np.where(denom > 0, denom, 1.0)
    out: list[Drift] = []
    for j, name in enumerate(names):
        pi = np.where(denom > 0, n[:, j] * lam[j] / safe, 0.0)
        if lam[j] <= 0:
            continue
        z, candidates = _split_z(s[:, j], big_s, pi)
        # Bonferroni over the candidate days and the k − 1 contrasts between k variants.
        tests = candidates * (k - 1)
        p = min(1.0, tests * 2.0 * _normal_sf(float(np.max(np.abs(z))))) if candidates else 1.0
        # The day: where the standardised cumulative sum of the residuals peaks (the
        # classical estimate; its tail, not its location, suffers from few successes), or
        # the latest day as likely to within 1 in log-likelihood (Z²/2): across days on
        # which the variant had next to no impressions the change cannot be placed, and
        # the day from which the new level is in the data is the one to report.
        resid = s[:, j] - big_s * pi
        var = big_s * pi * (1.0 - pi)
        info = float(var.sum())
        c = np.cumsum(resid)[:-1]
        i = np.cumsum(var)[:-1]
        spread = i * (info - i) / info if info > 0 else np.zeros_like(i)
        pearson = np.where(spread > 0, np.abs(c) / np.sqrt(np.where(spread > 0, spread, 1.0)), 0)
        tau = int(np.nonzero(pearson**2 / 2.0 >= float(np.max(pearson)) ** 2 / 2.0 - 1.0)[0][-1])
        # λ_k before and after from observed / expected at the pooled λ.
        e_before = float((big_s * pi)[: tau + 1].sum())
        e_after = float((big_s * pi)[tau + 1 :].sum())
        before = lam[j] * float(s[: tau + 1, j].sum()) / e_before if e_before > 0 else 0.0
        after = lam[j] * float(s[tau + 1 :, j].sum()) / e_after if e_after > 0 else 0.0
        out.append(Drift(name, dates[tau + 1], p, before, after))
    return tuple(out)


def detect(counted: Counted) -> tuple[Drift, ...]:
    """Drift per variant on the counted (windowed, unweighted) days."""
    if not counted.daily:
        return ()
    dates = [d for d, _n, _s in counted.daily]
    n = np.array([row for _d, row, _s in counted.daily], dtype=np.float64)
    s = np.array([row for _d, _n, row in counted.daily], dtype=np.float64)
    return detect_counts(counted.variants, dates, n, s)


def suspected(
    variants: Sequence[str],
    days: Sequence[DailyCounts],
    settings: Settings,
    *,
    control: str | None = None,
    as_of: dt.date | None = None,
) -> tuple[Drift, ...]:
    """The variants whose change is suspected, most significant first."""
    counted = count(variants, days, settings, control=control, as_of=as_of)
    found = [d for d in detect(counted) if d.suspected]
    return tuple(sorted(found, key=lambda d: d.p_value))


def discounted(counted: Counted, settings: Settings) -> Settings | None:
    """For on_drift = "discount": the settings with the half-life the suspected change
    asks for (the latest suspected change counts), or None when no change is suspected."""
    found = [d for d in detect(counted) if d.suspected]
    if not found or counted.as_of is None:
        return None
    since = max(d.since for d in found)
    days_since = (counted.as_of - since).days + 1
    half_life = max(1.0, DISCOUNT_SHARE * days_since)
    if settings.half_life_days is not None:  # a shorter half-life set by hand stays
        half_life = min(half_life, settings.half_life_days)
    return dataclasses.replace(settings, half_life_days=half_life)
