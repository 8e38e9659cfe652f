"""Period-weighted (stratified by day) rates and lifts, which survive a changing split.

Pooled rates Σs/Σn weigh each day by the traffic a variant got that day, so when the
split changes from day to day while rates vary by day (a weekday pattern, a campaign),
two variants are averaged over different mixes of days and their lift can even take
the wrong sign (Simpson's paradox). Here each day's rate s_kt/n_kt is weighted by the
day's total impressions N_t (all variants), over the days the variant (for a lift: both
variants) was served:

    θ̂_k = Σ_t w_t s_kt/n_kt,   w_t = N_t / Σ N_t,   Var θ̂_k = Σ_t w_t² r_kt(1 − r_kt)/n_kt,

with r_kt = (s_kt + 0.5)/(n_kt + 1) in the variance so that a day without successes
still has some. Intervals are normal, 95%; the lift's is exp(log ratio ± 1.96·se) − 1
with se² = Var θ̂_k/θ̂_k² + Var θ̂_c/θ̂_c² (delta method). Pure numpy, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from banditkit.engine.posterior import Counted

Array = NDArray[np.float64]
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float


def _table(counted: Counted) -> tuple[Array, Array]:
    n = np.array([row for _d, row, _s in counted.daily], dtype=np.float64).reshape(
        -1, len(counted.variants)
    )
    s = np.array([row for _d, _n, row in counted.daily], dtype=np.float64).reshape(n.shape)
    return n, s


def _weighted(n: Array, s: Array, days: NDArray[np.bool_], totals: Array) -> tuple[float, float]:
    """Mean and variance of the day-weighted rate over the chosen days."""
    w = totals[days] / totals[days].sum()
    rate = s[days] / n[days]
    smooth = (s[days] + 0.5) / (n[days] + 1.0)
    return float(w @ rate), float((w**2) @ (smooth * (1.0 - smooth) / n[days]))


def rate(counted: Counted, k: int) -> Estimate | None:
    """Variant k's period-weighted rate; None when it was never served."""
    n, s = _table(counted)
    served = n[:, k] > 0
    if not served.any():
        return None
    mean, var = _weighted(n[:, k], s[:, k], served, n.sum(axis=1))
    sd = math.sqrt(var)
    return Estimate(mean, max(0.0, mean - Z95 * sd), min(1.0, mean + Z95 * sd))


def lift(counted: Counted, k: int, c: int) -> Estimate | None:
    """θ̂_k/θ̂_c − 1 over the days both were served; None without such days or successes."""
    n, s = _table(counted)
    both = (n[:, k] > 0) & (n[:, c] > 0)
    if not both.any():
        return None
    totals = n.sum(axis=1)
    mk, vk = _weighted(n[:, k], s[:, k], both, totals)
    mc, vc = _weighted(n[:, c], s[:, c], both, totals)
    if mk <= 0 or mc <= 0:
        return None
    se = math.sqrt(vk / mk**2 + vc / mc**2)
    ratio = mk / mc
    return Estimate(
        ratio - 1.0, ratio * math.exp(-Z95 * se) - 1.0, ratio * math.exp(Z95 * se) - 1.0
    )
