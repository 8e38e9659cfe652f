"""Confidence-sharpened Thompson: once the leader is clear, laggards get less of a day's batch.

Thompson sampling sends each variant its P(best) share. When a whole day arrives as one
batch and the leader is already ≥ 80% likely best, the laggards' shares buy little
information per click lost. With p the shares Thompson would give (P(best), the null
prior mixed in), L the leader and m = 1 − p_L:

- m ≥ THRESHOLD, or no P(best) history (first day, history pruned): shares are p.
- otherwise each non-leader k gets p_k · (m / THRESHOLD)^POWER, unless a guard holds:
  (a) rising: its P(best) now is above every value recorded for it in the last
      LOOKBACK_DAYS (a variant with no record counts as rising), so a variant that is
      catching up, as after a change of rates, keeps its full share;
  (b) informative: its full share would still add ≥ DATA_GAIN of its data
      (p_k · N̂ ≥ DATA_GAIN · n_k, N̂ the mean daily trials, n_k its counted trials).
- the leader gets the rest: 1 minus the others, so the shares sum to 1.

docs/engine.md ("Sharpened allocation") gives the measured cost and risks.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray

from banditkit.engine.posterior import Counted
from banditkit.engine.types import InvalidSettings, Settings

Array = NDArray[np.float64]

THRESHOLD = 0.2  # sharpen once the non-leaders together hold less than this
POWER = 6.0  # how fast the laggards' shares shrink as m falls below THRESHOLD
LOOKBACK_DAYS = 14  # guard (a): "a new high" over this many days of P(best) history
DATA_GAIN = 0.1  # guard (b): keep the full share while it adds this much of the data
RISE = 1.0  # guard (a): "a new high" means above RISE × every recorded value


def recent_matrix(variants: Sequence[str], history: Sequence[Mapping[str, float]] | None) -> Array:
    """Earlier P(best) as an (entries × variants) array, NaN where a variant has no value."""
    index = {v: i for i, v in enumerate(variants)}
    out = np.full((len(history or ()), len(variants)), np.nan)
    for row, entry in enumerate(history or ()):
        for name, value in entry.items():
            if name not in index:
                raise InvalidSettings("history", f"{name!r} is not one of the variants")
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not (ok and math.isfinite(value) and 0.0 <= value <= 1.0):
                raise InvalidSettings("history", f"P(best) of {name!r} must be in [0, 1]")
            out[row, index[name]] = float(value)
    return out


def sharpen(
    matched: Array,
    p_best: Array,
    recent: Array,
    data: Array,
    daily: float,
) -> Array:
    """The sharpened shares (summing to 1 under math.fsum) from Thompson's shares `matched`.

    p_best: P(best) now; recent: earlier P(best) (entries × variants, NaN = unknown);
    data: counted trials per variant; daily: mean trials per counted day.
    """
    out = np.array(matched, dtype=np.float64)
    leader = int(np.argmax(out))
    m = 1.0 - float(out[leader])
    if len(out) >= 2 and recent.shape[0] > 0 and daily > 0 and m < THRESHOLD:
        known = ~np.isnan(recent)
        high = np.where(known, recent, -np.inf).max(axis=0)
        rising = p_best > RISE * high
        informative = out * daily >= DATA_GAIN * data
        out = np.where(rising | informative, out, out * (m / THRESHOLD) ** POWER)
    out[leader] = 0.0
    out[leader] = 1.0 - math.fsum(out)
    for _ in range(4):  # 1 − Σ rounds twice; a step of one ulp makes the exact sum round to 1
        total = math.fsum(out)
        if total == 1.0:
            break
        out[leader] = np.nextafter(out[leader], 2.0 if total < 1.0 else -1.0)
    return out


def apply(
    matched: Array,
    p_best: Array,
    counted: Counted,
    settings: Settings,
    history: Sequence[Mapping[str, float]] | None,
) -> Array:
    """Thompson's shares under settings.allocation_rule: unchanged for "thompson", sharpened
    for "sharpened" with n_k the counted (windowed, weighted) trials and N̂ the mean
    trials per counted day."""
    if settings.allocation_rule != "sharpened":
        return matched
    a0, b0 = counted.prior  # the prior the posterior started from (set, or pooled)
    data = (counted.alpha - a0) + (counted.beta - b0)
    daily = float(counted.impressions.sum()) / max(len(counted.daily), 1)
    return sharpen(matched, p_best, recent_matrix(counted.variants, history), data, daily)
