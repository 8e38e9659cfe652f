"""Counted data → Beta posteriors: validation, windowing, half-life weighting (DESIGN §4)."""

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
    if as_of is not None and not isinstance(as_of, dt.date):
        raise InvalidSettings("as_of", "must be a date")
    index = {v: i for i, v in enumerate(variants)}
    k = len(variants)
    per_day: dict[dt.date, tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]] = {}
    seen: set[tuple[dt.date, str]] = set()
    for row in days:
        if not isinstance(row.day, dt.date) or isinstance(row.day, dt.datetime):
            raise InvalidSettings("day", "must be a date")
        if row.variant not in index:
            raise InvalidSettings("variant", f"{row.variant!r} is not one of the variants")
        if (row.day, row.variant) in seen:
            raise InvalidSettings("day", f"two rows for {row.variant!r} on {row.day}")
        seen.add((row.day, row.variant))
        n_row = _count(row.impressions, "impressions")
        c_row = _count(row.clicks, "clicks")
        v_row = _count(row.conversions, "conversions")
        successes = c_row if settings.metric == "ctr" else v_row
        if successes > n_row:
            field = "clicks" if settings.metric == "ctr" else "conversions"
            raise InvalidSettings(field, f"{successes} exceeds impressions {n_row} ({row.day})")
        bucket = per_day.setdefault(
            row.day, (np.zeros(k, np.int64), np.zeros(k, np.int64), np.zeros(k, np.int64))
        )
        i = index[row.variant]
        bucket[0][i], bucket[1][i], bucket[2][i] = n_row, c_row, v_row

    latest = max(per_day) if per_day else None
    as_of = as_of if as_of is not None else latest
    imps = np.zeros(k, np.int64)
    clicks = np.zeros(k, np.int64)
    convs = np.zeros(k, np.int64)
    w_succ = np.zeros(k)
    w_fail = np.zeros(k)
    daily: list[tuple[dt.date, NDArray[np.int64], NDArray[np.int64]]] = []
    for day in sorted(per_day):
        assert as_of is not None
        age = (as_of - day).days
        if age < 0 or (settings.window_days is not None and age >= settings.window_days):
            continue
        n, c, v = per_day[day]
        s: NDArray[np.int64] = c if settings.metric == "ctr" else v
        weight = 1.0 if settings.half_life_days is None else 0.5 ** (age / settings.half_life_days)
        imps += n
        clicks += c
        convs += v
        w_succ += weight * s
        w_fail += weight * (n - s)
        daily.append((day, n, s))
    return Counted(
        variants=tuple(variants),
        control=control_index,
        as_of=as_of,
        impressions=imps,
        clicks=clicks,
        conversions=convs,
        alpha=settings.alpha_prior + w_succ,
        beta=settings.beta_prior + w_fail,
        daily=tuple(daily),
        metric=settings.metric,
    )
