"""P(best) → traffic shares, through steps 2–7 of docs/engine.md's "Guardrails", in order."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from banditkit.engine.types import Settings

Array = NDArray[np.float64]
MICRO = 1_000_000


def floors(k: int, settings: Settings, control: int | None, explore: float | None = None) -> Array:
    """Each variant's lowest share: ε/K (ε = `explore`, default min_explore_rate), and the
    control floor for the control."""
    eps = settings.min_explore_rate if explore is None else explore
    out = np.full(k, eps / k)
    if control is not None:
        out[control] = max(out[control], settings.control_floor)
    return out


def shares(
    p_best: Array,
    settings: Settings,
    *,
    control: int | None,
    previous: Array | None,
    burn_in: bool,
    explore: float | None = None,
    targets: Array | None = None,
) -> Array:
    """Shares in variant order, each a multiple of 1e-6, summing to exactly 1 at 6 decimals.

    `explore` is this allocation's ε (default min_explore_rate); `targets` are shares some
    variants are raised to like the control to its floor (a new variant's burn-in share, or
    a trailing variant's watch floor, rules.watch_floor).
    """
    k = len(p_best)
    w = np.full(k, 1.0 / k) if burn_in else p_best.astype(np.float64)  # steps 2 and 3
    eps = settings.min_explore_rate if explore is None else explore
    w = (1.0 - eps) * w + eps / k  # step 4
    low = floors(k, settings, control, eps)
    lift = low if targets is None else _fit(np.maximum(low, targets), low)
    if np.any(w < lift):  # step 5
        w = _raise(w, lift, low)
    if previous is not None and settings.max_daily_shift is not None:  # step 6
        w = _limit_shift(w, previous, settings.max_daily_shift, low)
    return round_shares(w)  # step 7


def _fit(lift: Array, low: Array) -> Array:
    """Scale the part of each lift above its floor down so that, with the floors of the
    rest, they fit in 1 (the floors themselves always fit: Settings.check_feasible)."""
    extra = lift - low
    room = 1.0 - float(low.sum())
    if extra.sum() <= room:
        return lift
    return low + extra * (room / float(extra.sum()))


def _raise(w: Array, lift: Array, low: Array) -> Array:
    """Raise the variants below `lift` to it; scale the others down proportionally, never
    below their floors `low` (water-filling)."""
    out = w.copy()
    raised = w < lift
    out[raised] = lift[raised]
    pinned = np.zeros(len(w), dtype=bool)
    for _ in range(len(w)):
        free = ~raised & ~pinned
        room = 1.0 - lift[raised].sum() - low[pinned].sum()
        if not free.any():
            break
        scaled = w[free] * (room / w[free].sum())
        below = scaled < low[free]
        if not below.any():
            out[free] = scaled
            break
        pinned[np.nonzero(free)[0][below]] = True
        out[pinned] = low[pinned]
    return out


def _limit_shift(w: Array, previous: Array, max_shift: float, low: Array) -> Array:
    """Closest shares to w (Euclidean) within max_shift of previous, floors winning.

    When previous does not sum to 1 (a variant was added), bounds that cannot all hold
    are dropped: upper bounds first, then the lower shift bounds (never the floors).
    """
    lower = np.maximum(low, previous - max_shift)
    upper = np.maximum(lower, np.minimum(1.0, previous + max_shift))
    if upper.sum() < 1.0:
        upper = np.ones_like(w)
    if lower.sum() > 1.0:
        lower = low
    return _project(w, lower, upper)


def _project(w: Array, lower: Array, upper: Array) -> Array:
    """argmin ||x − w|| with lower ≤ x ≤ upper and Σx = 1: x = clip(w + λ, lower, upper)."""
    knots = np.unique(np.concatenate([lower - w, upper - w]))
    totals = np.clip(w[None, :] + knots[:, None], lower, upper).sum(axis=1)
    j = int(np.searchsorted(totals, 1.0))
    if j == 0:
        lam = float(knots[0])
    elif j >= len(knots):
        lam = float(knots[-1])
    else:
        t0, t1 = totals[j - 1], totals[j]
        lam = float(knots[j - 1] + (knots[j] - knots[j - 1]) * (1.0 - t0) / (t1 - t0))
    return np.clip(w + lam, lower, upper)


def round_shares(w: Array) -> Array:
    """Round to whole millionths that sum to exactly 1 (largest remainders get the rest)."""
    scaled = np.clip(w, 0.0, None) / float(np.clip(w, 0.0, None).sum()) * MICRO
    units = np.floor(scaled + 1e-9).astype(np.int64)
    missing = MICRO - int(units.sum())
    order = np.argsort(-(scaled - units), kind="stable")
    if missing >= 0:
        units[order[:missing]] += 1
    else:
        units[order[::-1][:-missing]] -= 1
    return units / MICRO
