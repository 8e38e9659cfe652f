"""Counted data → Beta posteriors: validation, windowing, half-life weighting (docs/engine.md)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from banditkit.engine.types import DailyCounts, InvalidSettings, Settings

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Counted:
    """The data that counts for one allocation, per variant (in the caller's order)."""

    variants: tuple[str, ...]
    control: int | None  # index of the control, if any
    as_of: dt.date | None  # None when there is no data
    impressions: NDArray[np.int64]  # trials counted (windowed, unweighted)
    clicks: NDArray[np.int64]
    conversions: NDArray[np.int64]
    alpha: Array  # posterior parameters (windowed and weighted)
    beta: Array
    prior: tuple[float, float]  # (α0, β0) every variant starts from
    # Per counted day: (date, impressions per variant, successes per variant), oldest first.
    daily: tuple[tuple[dt.date, NDArray[np.int64], NDArray[np.int64]], ...]

    metric: str = "ctr"

    @property
    def successes(self) -> NDArray[np.int64]:
        return self.clicks if self.metric == "ctr" else self.conversions


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise InvalidSettings(name, "must be an integer >= 0")
    return int(value)


def check_variants(variants: Sequence[str], control: str | None) -> int | None:
    if isinstance(variants, str) or len(variants) == 0:
        raise InvalidSettings("variants", "must name at least one variant")
    if any(not isinstance(v, str) or not v for v in variants):
        raise InvalidSettings("variants", "names must be non-empty strings")
    if len(set(variants)) != len(variants):
        raise InvalidSettings("variants", "names must be unique")
    if control is None:
        return None
    if control not in variants:
        raise InvalidSettings("control", f"{control!r} is not one of the variants")
    return list(variants).index(control)


def check_previous(variants: Sequence[str], previous: Mapping[str, float] | None) -> Array | None:
    """Previous shares as a vector (variants missing from it had 0), or None."""
    if previous is None:
        return None
    index = {v: i for i, v in enumerate(variants)}
    out = np.zeros(len(variants))
    for name, share in previous.items():
        if name not in index:
            raise InvalidSettings("previous", f"{name!r} is not one of the variants")
        ok = isinstance(share, int | float) and not isinstance(share, bool)
        if not (ok and math.isfinite(share) and 0.0 <= share <= 1.0):
            raise InvalidSettings("previous", f"share of {name!r} must be a number in [0, 1]")
        out[index[name]] = float(share)
    return out


def count(
    variants: Sequence[str],
    days: Sequence[DailyCounts],
    settings: Settings,
    *,
    control: str | None = None,
    as_of: dt.date | None = None,
) -> Counted:
    """Validate the rows and reduce them to the posteriors that count at `as_of`."""
    control_index = check_variants(variants, control)
    if as_of is not None and (not isinstance(as_of, dt.date) or isinstance(as_of, dt.datetime)):
        raise InvalidSettings("as_of", "must be a date")
    index = {v: i for i, v in enumerate(variants)}
    k = len(variants)
    ctr = settings.metric == "ctr"
    seen: set[tuple[dt.date, str]] = set()
    table: list[tuple[int, int, int, int, int]] = []  # (ordinal, variant, n, clicks, conv)
    for row in days:
        day = row.day
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise InvalidSettings("day", "must be a date")
        if row.variant not in index:
            raise InvalidSettings("variant", f"{row.variant!r} is not one of the variants")
        if (day, row.variant) in seen:
            raise InvalidSettings("day", f"two rows for {row.variant!r} on {day}")
        seen.add((day, row.variant))
        n = _count(row.impressions, "impressions")
        c = _count(row.clicks, "clicks")
        v = _count(row.conversions, "conversions")
        if (c if ctr else v) > n:
            field = "clicks" if ctr else "conversions"
            raise InvalidSettings(field, f"{c if ctr else v} exceeds impressions {n} ({day})")
        table.append((day.toordinal(), index[row.variant], n, c, v))

    data = np.array(table, dtype=np.int64).reshape(-1, 5)
    if as_of is None and len(data):
        as_of = dt.date.fromordinal(int(np.max(data[:, 0])))
    ages = (as_of.toordinal() - data[:, 0]) if as_of is not None else data[:, 0] * 0
    keep = ages >= 0
    if settings.window_days is not None:
        keep &= ages < settings.window_days
    data, ages = data[keep], ages[keep]
    var, n_all, c_all, v_all = data[:, 1], data[:, 2], data[:, 3], data[:, 4]
    s_all = c_all if ctr else v_all
    if settings.half_life_days is None:
        weight = np.ones(len(data))
    else:
        weight = 0.5 ** (ages / settings.half_life_days)

    def per_variant(values: NDArray[np.int64]) -> NDArray[np.int64]:
        return np.bincount(var, weights=values, minlength=k).round().astype(np.int64)

    w_succ = np.bincount(var, weights=weight * s_all, minlength=k)
    w_fail = np.bincount(var, weights=weight * (n_all - s_all), minlength=k)
    a0, b0 = prior(settings, float(w_succ.sum()), float(w_fail.sum()))
    daily: list[tuple[dt.date, NDArray[np.int64], NDArray[np.int64]]] = []
    for ordinal in np.unique(data[:, 0]):
        on_day = data[:, 0] == ordinal
        n_day = np.zeros(k, np.int64)
        s_day = np.zeros(k, np.int64)
        n_day[var[on_day]] = n_all[on_day]
        s_day[var[on_day]] = s_all[on_day]
        daily.append((dt.date.fromordinal(int(ordinal)), n_day, s_day))
    return Counted(
        variants=tuple(variants),
        control=control_index,
        as_of=as_of,
        impressions=per_variant(n_all),
        clicks=per_variant(c_all),
        conversions=per_variant(v_all),
        alpha=a0 + w_succ,
        beta=b0 + w_fail,
        prior=(a0, b0),
        daily=tuple(daily),
        metric=settings.metric,
    )


def prior(settings: Settings, successes: float, failures: float) -> tuple[float, float]:
    """(α0, β0): the settings' own, or (both unset) empirical Bayes: centred on the pooled
    rate m = (S + 1)/(S + F + 2) of all variants, with the strength of one observation of
    the rarer outcome (min(α0, β0) = 1). No data gives Beta(1, 1)."""
    if settings.alpha_prior is not None or settings.beta_prior is not None:
        a = settings.alpha_prior if settings.alpha_prior is not None else 1.0
        b = settings.beta_prior if settings.beta_prior is not None else 1.0
        return a, b
    total = successes + failures + 2.0
    m, q = (successes + 1.0) / total, (failures + 1.0) / total  # q = 1 − m without cancelling
    return (1.0, q / m) if m <= q else (m / q, 1.0)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def null_probability(
    counted: Counted, settings: Settings, among: NDArray[np.bool_] | None = None
) -> float:
    """Posterior probability that every variant (of `among`, default all) has the same rate.

    Under the null, one rate θ ~ Beta(mκ, (1−m)κ) serves all variants; otherwise each
    θ_k ~ Beta(mκ, (1−m)κ) independently. m is the pooled rate and κ is set so that the
    prior sd of θ_k is effect_scale·m. Binomial coefficients cancel in the ratio.
    """
    a_prior, b_prior = counted.prior
    keep = np.ones(len(counted.alpha), dtype=bool) if among is None else among
    succ = counted.alpha[keep] - a_prior
    fail = counted.beta[keep] - b_prior
    total = float(succ.sum() + fail.sum()) + a_prior + b_prior
    m = (float(succ.sum()) + a_prior) / total
    # 1 − m from the failures, not by subtraction: with ~1e12 successes and no failures
    # 1.0 − m rounds to 0 and lgamma(0) raises (hardening: tests/unit/test_engine_extreme.py)
    q = (float(fail.sum()) + b_prior) / total
    kappa = max(q / (m * settings.effect_scale**2) - 1.0, 1.0)
    a0, b0 = m * kappa, q * kappa
    base = _log_beta(a0, b0)
    log_alt = sum(_log_beta(a0 + s, b0 + f) - base for s, f in zip(succ, fail, strict=True))
    log_null = _log_beta(a0 + float(succ.sum()), b0 + float(fail.sum())) - base
    log_odds = math.log(settings.null_prior / (1.0 - settings.null_prior)) + log_null - log_alt
    return 1.0 / (1.0 + math.exp(-log_odds)) if log_odds > -700 else 0.0
