"""Which rule sets each variant's share: per-variant burn-in (with a new variant's ramp-up
share), adaptive exploration, and the reason code per variant (docs/engine.md Guardrails)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from banditkit.engine.beta import BetaGrid
from banditkit.engine.posterior import Counted
from banditkit.engine.types import EXPLORE_FLOOR, EXPLORE_FULL_LOSS, Settings

Array = NDArray[np.float64]


@dataclass(frozen=True)
class BurnIn:
    """Which variants are below their own minimum, and the share that ramps them up."""

    need: int  # impressions of its own a variant needs before it is matched on evidence
    below: NDArray[np.bool_]
    share: float  # need / (RAMP_DAYS·D), at most 1/K: reaches `need` in RAMP_DAYS days

    @property
    def any(self) -> bool:
        return bool(self.below.any())

    @property
    def all(self) -> bool:
        return bool(self.below.all())

    @property
    def established(self) -> NDArray[np.bool_]:
        out: NDArray[np.bool_] = ~self.below
        return out


RAMP_DAYS = 1


def burn_in(counted: Counted, settings: Settings) -> BurnIn:
    """Per-variant burn-in. A variant needs min_impressions of its own, but never more than
    RAMP_DAYS days of an even split at the experiment's daily traffic D give it:
    need = min(min_impressions, ⌈RAMP_DAYS·D/K⌉), so a low-traffic test is not held even
    for weeks. D is the mean daily total of the counted days before the latest (which may
    still be filling); with one day there is no D and the need is min_impressions. A
    variant below its need while others are not gets need/(RAMP_DAYS·D) (D the one day's
    total if that is all there is), at most 1/K, until it has its need: the same share
    every day, so it gets there in RAMP_DAYS days at that traffic."""
    k = len(counted.variants)
    n = counted.impressions
    totals = [int(day_n.sum()) for _, day_n, _ in counted.daily]
    complete = totals[:-1] or totals
    daily = sum(complete) / len(complete) if complete else 0.0
    need = settings.min_impressions
    if len(totals) > 1 and daily > 0:
        need = min(need, math.ceil(RAMP_DAYS * daily / k))
    below = n < need
    share = min(1.0 / k, need / (RAMP_DAYS * daily)) if daily > 0 else 1.0 / k
    return BurnIn(need=need, below=below, share=share)


def adaptive_explore(grid: BetaGrid, settings: Settings) -> float:
    """ε for this allocation: min_explore_rate × clip(ℓ / EXPLORE_FULL_LOSS, EXPLORE_FLOOR, 1)
    with ℓ the leader's expected loss relative to its mean (E[max θ] − m_b)/m_b: full while
    the decision is open, shrinking as it firms up, never below the floor."""
    eps = settings.min_explore_rate
    if len(grid.alpha) < 2:
        return eps * EXPLORE_FLOOR
    means = grid.alpha / (grid.alpha + grid.beta)
    lead = int(np.argmax(means))
    rel = max(grid.expected_max() - float(means[lead]), 0.0) / float(means[lead])
    return eps * min(1.0, max(EXPLORE_FLOOR, rel / EXPLORE_FULL_LOSS))


REASONS = (
    "burn_in",  # every variant is below its minimum: an even split
    "new_variant",  # below its own minimum while others are not: a ramp-up share
    "shift_limit",  # held within max_daily_shift of the previous share
    "control_floor",  # the control at its floor
    "exploration_floor",  # at the exploration floor ε/K
    "p_best",  # probability matching (damped while the variants look alike)
)


def reasons(
    shares: Array,
    settings: Settings,
    burn: BurnIn,
    control: int | None,
    previous: Array | None,
    explore: float,
) -> list[str]:
    """One code of REASONS per variant: what set its share."""
    k = len(shares)
    out = []
    for i in range(k):
        if burn.all:
            out.append("burn_in")
        elif burn.below[i]:
            out.append("new_variant")
        elif (
            previous is not None
            and settings.max_daily_shift is not None
            and abs(shares[i] - previous[i]) >= settings.max_daily_shift - 2e-6
        ):
            out.append("shift_limit")
        elif (
            i == control
            and settings.control_floor > 0
            and shares[i] <= settings.control_floor + 2e-6
        ):
            out.append("control_floor")
        elif explore > 0 and shares[i] <= explore / k + 2e-6:
            out.append("exploration_floor")
        else:
            out.append("p_best")
    return out
