"""allocate() and report(): counted data → shares and the evidence behind them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from banditkit.engine import drift, guardrails, sharpen
from banditkit.engine.beta import BetaGrid
from banditkit.engine.posterior import Counted, check_previous, count, null_probability
from banditkit.engine.rules import adaptive_explore, burn_in, reasons, watch_floor
from banditkit.engine.types import (
    Allocation,
    DailyCounts,
    Lift,
    RegretDay,
    Report,
    Settings,
    Status,
    VariantResult,
)

Array = NDArray[np.float64]


@dataclass(frozen=True)
class _Evidence:
    counted: Counted
    grid: BetaGrid
    p_best: Array
    means: Array
    allocation: Allocation


def allocate(
    variants: Sequence[str],
    days: Sequence[DailyCounts],
    settings: Settings,
    *,
    control: str | None = None,
    previous: Mapping[str, float] | None = None,
    as_of: dt.date | None = None,
    history: Sequence[Mapping[str, float]] | None = None,
) -> Allocation:
    """Shares for the next period, with P(best), expected loss and intervals per variant."""
    return _evidence(variants, days, settings, control, previous, as_of, history).allocation


def report(
    variants: Sequence[str],
    days: Sequence[DailyCounts],
    settings: Settings,
    *,
    control: str | None = None,
    previous: Mapping[str, float] | None = None,
    as_of: dt.date | None = None,
    history: Sequence[Mapping[str, float]] | None = None,
) -> Report:
    """The allocation plus lift vs control, regret so far, gain vs an even split, advice."""
    ev = _evidence(variants, days, settings, control, previous, as_of, history)
    counted, means = ev.counted, ev.means
    lifts: list[Lift] = []
    c = counted.control
    if c is not None:
        for k in range(len(variants)):
            if k == c:
                continue
            if counted.impressions[k] == 0 or counted.impressions[c] == 0:  # the prior's
                lifts.append(Lift(variants[k], None, None, None, None))
            else:
                lifts.append(_lift(ev.grid, k, c, variants[k], means))
    best = int(np.argmax(means))
    regret = 0.0
    gained = 0.0
    by_day: list[RegretDay] = []
    for date, n, _s in counted.daily:
        regret += float(n @ (means[best] - means))
        gained += float(n @ means) - float(n.sum()) * float(means.mean())
        by_day.append(RegretDay(date, regret, gained))
    return Report(
        allocation=ev.allocation,
        control=control,
        lifts=tuple(lifts),
        regret_so_far=regret,
        gained_vs_even=gained,
        recommendation=_recommend(ev, lifts, settings),
        regret_by_day=tuple(by_day),
    )


def _evidence(
    variants: Sequence[str],
    days: Sequence[DailyCounts],
    settings: Settings,
    control: str | None,
    previous: Mapping[str, float] | None,
    as_of: dt.date | None,
    history: Sequence[Mapping[str, float]] | None = None,
) -> _Evidence:
    counted = count(variants, days, settings, control=control, as_of=as_of)
    if settings.on_drift == "discount":  # a suspected change: count with its half-life
        discount = drift.discounted(counted, settings)
        if discount is not None:
            settings = discount
            counted = count(variants, days, settings, control=control, as_of=as_of)
    settings.check_feasible(len(variants), counted.control is not None)
    prev = check_previous(variants, previous)
    k = len(variants)
    grid = BetaGrid.build(counted.alpha, counted.beta)
    p_best = grid.p_best()
    means = counted.alpha / (counted.alpha + counted.beta)
    n = counted.impressions
    total = int(n.sum())
    burn = burn_in(counted, settings)
    explore = settings.min_explore_rate
    targets = None
    if burn.all or not burn.any:
        matched, among, mgrid = p_best, burn.established, grid
    else:  # the established variants are matched among themselves; new ones ramp up
        among = burn.established
        mgrid = BetaGrid.build(counted.alpha[among], counted.beta[among])
        matched = np.zeros(k)
        matched[among] = mgrid.p_best()
        targets = np.where(burn.below, burn.share, 0.0)
    if settings.null_prior > 0.0 and int(among.sum()) > 1 and not burn.all:
        p_null = null_probability(counted, settings, among)
        matched = np.where(among, p_null / int(among.sum()), 0.0) + (1.0 - p_null) * matched
    adaptive = settings.exploration == "adaptive"
    watch = None
    if adaptive and not burn.all:
        explore = adaptive_explore(mgrid, settings)
        # ... but a trailing variant keeps enough data for a swap to be seen (rules.py)
        watch = np.where(among, watch_floor(counted, settings, among), 0.0)
        targets = watch if targets is None else np.maximum(targets, watch)
    if not burn.any:  # allocation_rule; sharpened only once every variant has its own data
        matched = sharpen.apply(matched, p_best, counted, settings, history)
    shares = guardrails.shares(
        matched,
        settings,
        control=counted.control,
        previous=prev,
        burn_in=burn.all,
        explore=explore,
        targets=targets,
    )
    e_max = grid.expected_max()
    loss = np.maximum(e_max - means, 0.0)
    ci = grid.quantiles(np.array([0.025, 0.975]))
    successes = counted.successes
    best = int(np.argmax(p_best))
    prior_only = n == 0
    status: Status
    winner = None
    if burn.any or total == 0:
        status = "warming_up"
    elif (
        k > 1
        and n[best] >= max(settings.min_impressions, 1)  # never on the prior alone
        and p_best[best] >= settings.winner_p_best
        and loss[best] < settings.winner_loss_share * means[best]
    ):
        status = "winner_found"
        winner = variants[best]
    else:
        status = "optimizing"
    results = tuple(
        VariantResult(
            name=name,
            impressions=int(n[i]),
            clicks=int(counted.clicks[i]),
            conversions=int(counted.conversions[i]),
            rate=float(successes[i] / n[i]) if n[i] else 0.0,
            posterior_mean=float(means[i]),
            ci_low=float(ci[i, 0]),
            ci_high=float(ci[i, 1]),
            p_best=float(p_best[i]),
            expected_loss=None if prior_only[i] else float(loss[i]),
            allocation=float(shares[i]),
            prior_only=bool(prior_only[i]),
        )
        for i, name in enumerate(variants)
    )
    why = reasons(shares, settings, burn, counted.control, prev, explore, watch)
    allocation = Allocation(
        status=status,
        shares={name: float(shares[i]) for i, name in enumerate(variants)},
        variants=results,
        winner=winner,
        potential_value_remaining=_pvr_with_data(counted, grid, p_best),
        reasons={name: why[i] for i, name in enumerate(variants)},
    )
    return _Evidence(counted, grid, p_best, means, allocation)


def _solve(cdf: Callable[[Array], Array], target: float, low: float, high: float) -> float:
    """Where a nondecreasing cdf on [low, high] reaches target: a geometric scan of 40
    points (down to 1e-12·high), a linear scan of 32 inside the bracket, then linear
    interpolation (relative error ~1e-3, ample for a reported interval)."""
    points = np.concatenate([[low], np.geomspace(max(low, high * 1e-12), high, 39)])
    values = cdf(points)
    j = int(np.searchsorted(values, target))
    if j == 0:
        return float(points[0])
    if j >= len(points):
        return float(points[-1])
    points = np.linspace(float(points[j - 1]), float(points[j]), 32)
    values = cdf(points)
    j = min(max(int(np.searchsorted(values, target)), 1), len(points) - 1)
    v0, v1 = float(values[j - 1]), float(values[j])
    t = (target - v0) / (v1 - v0) if v1 > v0 else 0.5
    return float(points[j - 1] + t * (points[j] - points[j - 1]))


def _pvr_with_data(counted: Counted, grid: BetaGrid, p_best: Array) -> float | None:
    """PVR over the variants with data of their own (None while fewer than two have any:
    the prior alone would answer)."""
    has = counted.impressions > 0
    if int(has.sum()) < 2:
        return None
    if not has.all():
        grid = BetaGrid.build(counted.alpha[has], counted.beta[has])
        p_best = grid.p_best()
    return _pvr(grid, p_best, int(np.argmax(p_best)))


def _pvr(grid: BetaGrid, p_best: Array, best: int) -> float:
    """Scott's potential value remaining: the 95th percentile of (max θ − θ_best)/θ_best."""
    if len(p_best) == 1 or p_best[best] >= 0.95:
        return 0.0
    xs, fs = grid.sequence
    lowest = float(np.interp(1e-12, fs[best], xs))
    high = float(grid.edges[-1]) / max(lowest, 1e-300) - 1.0
    others = np.prod(np.delete(fs, best, axis=0), axis=0)
    cdf = grid.scaled_cdf(best, others)
    return _solve(lambda v: cdf(1.0 + v), 0.95, 0.0, max(high, 1e-12))


def _lift(grid: BetaGrid, k: int, c: int, name: str, means: Array) -> Lift:
    xs, fs = grid.sequence
    tails = [float(np.interp(q, fs[i], xs)) for i, q in ((k, 1e-12), (c, 1.0 - 1e-12))]
    low = max(tails[0], 1e-300) / max(tails[1], 1e-300)
    high = float(grid.edges[-1]) / max(float(np.interp(1e-12, fs[c], xs)), 1e-300)
    cdf = grid.scaled_cdf(c, fs[k])
    ratio = [_solve(cdf, q, low, high) for q in (0.025, 0.975)]
    pair = BetaGrid.build(grid.alpha[[k, c]], grid.beta[[k, c]]).p_best()
    return Lift(
        variant=name,
        lift=float(means[k] / means[c] - 1.0),
        ci_low=float(ratio[0] - 1.0),
        ci_high=float(ratio[1] - 1.0),
        p_better=float(pair[0]),
    )


def _recommend(ev: _Evidence, lifts: Sequence[Lift], settings: Settings) -> str:
    alloc = ev.allocation
    best = max(alloc.variants, key=lambda v: v.p_best)
    if alloc.status == "warming_up":
        burn = burn_in(ev.counted, settings)
        if burn.all:
            return (
                f"Warming up: each variant needs {burn.need} impressions of its own before "
                "traffic follows the evidence; traffic stays evenly split until then."
            )
        names = ", ".join(
            f"{v.name} ({v.impressions} of {burn.need})"
            for v, low in zip(alloc.variants, burn.below, strict=True)
            if low
        )
        return (
            f"Warming up {names}: a variant gets a small share until it has {burn.need} "
            "impressions of its own, and cannot be the winner before; the others are "
            "allocated on their evidence meanwhile."
        )
    if alloc.status == "winner_found":
        return (
            f"{best.name} is the winner: {best.p_best:.1%} likely best, and choosing it now "
            f"costs at most {best.expected_loss:.2g} in expected rate. Ship {best.name} "
            "and stop the test."
        )
    text = (
        f"Keep the test running: {best.name} leads with {best.p_best:.1%} chance of being "
        f"best, below the {settings.winner_p_best:.0%} needed to call a winner."
    )
    known = [lf for lf in lifts if lf.p_better is not None and lf.lift is not None]
    if known:
        worst = min(known, key=lambda lf: lf.p_better or 0.0)
        if worst.p_better is not None and worst.p_better < 0.05 and worst.lift is not None:
            text += f" {worst.variant} looks worse than the control ({worst.lift:+.1%})."
    return text
