"""Which rule sets each variant's share: per-variant burn-in (with a new variant's ramp-up
share), adaptive exploration with its watch floor, and the reason code per variant
(docs/engine.md Guardrails)."""

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


# The watch (docs/engine.md "Guardrails"). Adaptive exploration leaves a trailing variant
# too few impressions for the drift test (engine/drift.py) to see it overtake the leader.
# The leader's own data are plenty, though: when its rate on its latest days falls below
# its rate on the same weekdays before (z < −WATCH_TRIGGER, one-sided; a weekday pattern
# cancels), each trailing variant gets the share with which the test would see it swap
# places with the leader within WATCH_DAYS days: a standardised shift of WATCH_Z, the
# test's threshold at ALPHA after its Bonferroni bound (≈ 4) plus 2 for power (calibrated
# on bench/signals.py to find the drift scenarios' swap within 5 days in ≥ 90% of runs).
# The gap is taken as at least WATCH_GAP, and the share is at most an even split's.
WATCH_RECENT = 3  # the change may start on any of the latest this many days
WATCH_TRIGGER = 4.0
WATCH_DAYS = 5
WATCH_Z = 6.0
WATCH_GAP = 1.25


def _dispersion(succ: Array, imp: Array, weekday: NDArray[np.int64]) -> float:
    """How much more the leader's daily successes vary than binomial counts would, around
    its rate per weekday: Pearson's χ²/df over the given days less two of its standard
    errors under binomial counts (√(2/df)), at least 1 (1 with fewer than 3 degrees of
    freedom), so that binomial noise in the estimate does not blunt the watch."""
    chi2, days, groups = 0.0, 0, 0
    for w in np.unique(weekday):
        on = (weekday == w) & (imp > 0)
        rate = float(succ[on].sum()) / float(imp[on].sum()) if on.any() else 0.0
        if rate <= 0:
            continue
        e = imp[on] * rate
        chi2 += float(((succ[on] - e) ** 2 / e).sum())
        days += int(on.sum())
        groups += 1
    df = days - groups
    return max(1.0, chi2 / df - 2.0 * math.sqrt(2.0 / df)) if df >= 3 else 1.0


def leader_fell(counted: Counted, lead: int) -> bool:
    """Whether the leader's successes from one of its latest WATCH_RECENT days on fall short
    of its impressions × its rate on the same weekdays before (z < −WATCH_TRIGGER; the
    history's own noise counted, and the day-to-day dispersion of its days before the
    latest week, which a change in that week cannot inflate), comparing only weekdays
    with history. Real traffic varies more from day to day than binomial counts."""
    daily = counted.daily
    succ = np.array([day_s[lead] for _, _, day_s in daily], dtype=np.float64)
    imp = np.array([day_n[lead] for _, day_n, _ in daily], dtype=np.float64)
    weekday = np.array([d.weekday() for d, _, _ in daily])
    cut = max(len(daily) - 7, 0)
    phi = _dispersion(succ[:cut], imp[:cut], weekday[:cut])
    for start in range(max(len(daily) - WATCH_RECENT, 1), len(daily)):
        observed = expected = var = 0.0
        for t in range(start, len(daily)):
            same = weekday[:start] == weekday[t]
            n_hist, s_hist = float(imp[:start][same].sum()), float(succ[:start][same].sum())
            if n_hist <= 0 or s_hist <= 0 or imp[t] <= 0:
                continue
            e = imp[t] * s_hist / n_hist
            observed += succ[t]
            expected += e
            var += e * (1.0 + imp[t] / n_hist)
        if var > 0 and (observed - expected) / math.sqrt(var * phi) < -WATCH_TRIGGER:
            return True
    return False


def watch_floor(
    counted: Counted, settings: Settings, among: NDArray[np.bool_] | None = None
) -> Array:
    """Per-variant share below which a trailing variant is not let fall while the leader's
    rate has fallen (zeros otherwise). The leader is the established variant (`among`, by
    default all) with the highest posterior mean: a new variant's early mean is not it.

    A swap with the leader moves the variant's rate relative to the leader's by a factor
    ρ² (ρ = m_lead/m_k of the posterior means, taken ≥ WATCH_GAP). The test compares the
    variant's s_k successes so far with those of the days to come, so it sees the swap at
    about ln(ρ²)/√(1/s_k + 1/e) with e the successes to come; e for WATCH_Z is
    1/(ln(ρ²)²/WATCH_Z² − 1/s_k), and as the day totals fall to the variant's level, they
    take n = e·ρ/((WATCH_DAYS − 1)·m_k) impressions a day over the WATCH_DAYS − 1 days
    after the one that raised the alarm: as a share of the mean daily traffic D (the
    complete counted days, as for burn-in), at most an even split's 1/K."""
    k = len(counted.variants)
    out = np.zeros(k)
    totals = [int(day_n.sum()) for _, day_n, _ in counted.daily]
    if k < 2 or WATCH_Z <= 0 or len(totals) < 2 or sum(totals[:-1]) <= 0:
        return out
    means = counted.alpha / (counted.alpha + counted.beta)
    lead = int(np.argmax(np.where(np.ones(k, bool) if among is None else among, means, -1.0)))
    if not leader_fell(counted, lead):
        return out
    daily = sum(totals[:-1]) / (len(totals) - 1)
    for i in range(k):
        if i == lead or means[i] <= 0:
            continue
        rho = max(float(means[lead] / means[i]), WATCH_GAP)
        room = math.log(rho**2) ** 2 / WATCH_Z**2 - 1.0 / max(float(counted.successes[i]), 1.0)
        need = rho / (room * (WATCH_DAYS - 1) * float(means[i])) if room > 0 else math.inf
        out[i] = min(need / daily, 1.0 / k)
    return out


REASONS = (
    "burn_in",  # every variant is below its minimum: an even split
    "new_variant",  # below its own minimum while others are not: a ramp-up share
    "shift_limit",  # held within max_daily_shift of the previous share
    "control_floor",  # the control at its floor
    "exploration_floor",  # at the exploration floor ε/K, or at its watch floor
    "p_best",  # probability matching (damped while the variants look alike)
)


def reasons(
    shares: Array,
    settings: Settings,
    burn: BurnIn,
    control: int | None,
    previous: Array | None,
    explore: float,
    watch: Array | None = None,
) -> list[str]:
    """One code of REASONS per variant: what set its share."""
    k = len(shares)
    floor = np.full(k, explore / k) if watch is None else np.maximum(explore / k, watch)
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
        elif floor[i] > 0 and shares[i] <= floor[i] + 2e-6:
            out.append("exploration_floor")
        else:
            out.append("p_best")
    return out
