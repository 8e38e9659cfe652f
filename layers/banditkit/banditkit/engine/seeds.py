"""simulate_seeds(): one setting run over several seeds, so that its cost reads as a spread
(median and 10th-90th percentile) rather than one draw's luck."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from banditkit.engine.simulate import simulate
from banditkit.engine.types import RateChange, Settings, Simulation


@dataclass(frozen=True)
class Band:
    median: float
    p10: float
    p90: float


@dataclass(frozen=True)
class SeedRuns:
    runs: tuple[Simulation, ...]  # one per seed, in the seeds' order
    clicks_lost: Band  # final cumulative regret of the engine: successes lost vs the best
    even_clicks_lost: Band  # the same for an even split
    days_to_winner: Band | None  # over the runs that declared a winner (None: no run did)
    winners_declared: int  # runs that declared a winner within their days


def band(values: Sequence[float]) -> Band:
    """Median and 10th/90th percentiles (linear interpolation between order statistics)."""
    p10, p50, p90 = np.percentile(np.asarray(values, dtype=float), [10, 50, 90])
    return Band(median=float(p50), p10=float(p10), p90=float(p90))


def simulate_seeds(
    variant_names: Sequence[str],
    rates: Sequence[float],
    daily_impressions: int,
    days: int,
    settings: Settings,
    *,
    seeds: Sequence[int],
    control: str | None = None,
    changes: Sequence[RateChange] = (),
) -> SeedRuns:
    """simulate() once per seed; two settings run on the same seeds see the same first draws."""
    if not seeds:
        raise ValueError("seeds must not be empty")
    runs = tuple(
        simulate(
            variant_names,
            rates,
            daily_impressions,
            days,
            settings,
            control=control,
            changes=changes,
            seed=s,
        )
        for s in seeds
    )
    declared = [r.winner_day for r in runs if r.winner_day is not None]
    return SeedRuns(
        runs=runs,
        clicks_lost=band([r.cumulative_regret[-1] for r in runs]),
        even_clicks_lost=band([r.even_cumulative_regret[-1] for r in runs]),
        days_to_winner=band(declared) if declared else None,
        winners_declared=len(declared),
    )
