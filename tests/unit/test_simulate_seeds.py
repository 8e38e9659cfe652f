"""simulate()'s winner_day and simulate_seeds(): the day is the first allocation that declared
a winner, and the bands are the percentiles of the single runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from banditkit.engine import DailyCounts, Settings, allocate, simulate
from banditkit.engine.seeds import Band, band, simulate_seeds

NAMES = ["control", "b"]
RATES = [0.05, 0.08]


def test_band_is_the_median_and_the_10th_and_90th_percentiles() -> None:
    # numpy's linear interpolation: p10 of 1..5 sits 0.4 of the way from 1 to 2.
    assert band([5.0, 1.0, 3.0, 2.0, 4.0]) == Band(median=3.0, p10=1.4, p90=4.6)
    assert band([7.0]) == Band(7.0, 7.0, 7.0)


def test_winner_day_is_the_first_allocation_that_declared_one() -> None:
    sim = simulate(NAMES, RATES, 1000, 20, Settings(), control="control", seed=3)
    assert sim.winner == "b"
    assert sim.winner_day is not None
    # A run is a prefix of a longer one with the same seed: cut at winner_day days it has
    # no winner yet; one day longer, its last allocation (on winner_day days) declares it.
    shorter = simulate(NAMES, RATES, 1000, sim.winner_day, Settings(), control="control", seed=3)
    assert shorter.winner_day is None
    exact = simulate(NAMES, RATES, 1000, sim.winner_day + 1, Settings(), control="control", seed=3)
    assert exact.winner_day == sim.winner_day
    assert exact.shares == sim.shares[: sim.winner_day + 1]


def test_no_winner_between_equal_variants_in_a_short_run() -> None:
    sim = simulate(NAMES, [0.05, 0.05], 1000, 5, Settings(), control="control", seed=0)
    assert (sim.winner_day, sim.winner) == (None, None)


def test_day_zero_allocates_on_no_data_so_winner_day_is_at_least_one() -> None:
    assert allocate(NAMES, [], Settings(), control="control").status == "warming_up"
    row = DailyCounts(dt.date(2000, 1, 1), "b", 10, 1, 1)
    assert allocate(NAMES, [row], Settings(), control="control").status != "winner_found"
    sims = [simulate(NAMES, [0.01, 0.5], 1000, 5, Settings(), seed=i) for i in range(3)]
    assert all(sim.winner_day is not None and sim.winner_day >= 1 for sim in sims)


def test_seed_runs_are_the_single_runs_and_their_bands() -> None:
    seeds = [11, 12, 13, 14, 15]
    runs = simulate_seeds(NAMES, RATES, 500, 15, Settings(), seeds=seeds, control="control")
    singles = [
        simulate(NAMES, RATES, 500, 15, Settings(), control="control", seed=i) for i in seeds
    ]
    assert runs.runs == tuple(singles)
    lost = [s.cumulative_regret[-1] for s in singles]
    assert runs.clicks_lost == band(lost)
    declared = [s.winner_day for s in singles if s.winner_day is not None]
    assert runs.winners_declared == len(declared)
    assert runs.days_to_winner == (band(declared) if declared else None)
    assert runs.even_clicks_lost == band([s.even_cumulative_regret[-1] for s in singles])
    assert float(np.median(lost)) == runs.clicks_lost.median


def test_seed_runs_need_a_seed() -> None:
    with pytest.raises(ValueError, match="seeds"):
        simulate_seeds(NAMES, RATES, 500, 5, Settings(), seeds=[])
