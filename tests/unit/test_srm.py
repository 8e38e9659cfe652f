"""The split check: exact chi-square tails, the shares in force on a day, a day served
off the recommendation flagged, and days served by multinomial draws from the
recommended shares flagged on at most 0.1% of days."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from banditkit.engine import DailyCounts
from banditkit.engine.srm import ALPHA, chi2_sf, chi_square, in_force, mismatches

DAY = dt.date(2026, 3, 2)


def at(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), dt.UTC)


@pytest.mark.parametrize(
    ("x", "df", "expected"),
    [
        (3.841458820694124, 1, 0.05),  # the textbook quantiles
        (5.991464547107979, 2, 0.05),
        (10.827566170662733, 1, 0.001),
        (16.26623619623813, 3, 0.001),
        (20.515005652432873, 5, 0.001),
        (0.0, 4, 1.0),
    ],
)
def test_chi2_tail_matches_reference_quantiles(x: float, df: int, expected: float) -> None:
    assert chi2_sf(x, df) == pytest.approx(expected, rel=1e-9)


def test_chi2_tail_closed_forms() -> None:
    for x in (0.5, 3.0, 40.0):
        assert chi2_sf(x, 2) == pytest.approx(math.exp(-x / 2), rel=1e-12)
        assert chi2_sf(x, 1) == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-12)


def test_small_expected_cells_are_pooled() -> None:
    # 1% of 1500 = 15 expected: pooled with the other small cell, 30 >= 20 stays a cell
    stat, df = chi_square(np.array([15.0, 15.0, 1470.0]), np.array([0.01, 0.01, 0.98]))
    assert (stat, df) == (0.0, 1)
    # 10 expected alone: pooled into the large cell, nothing left to compare
    assert chi_square(np.array([1.0, 99.0]), np.array([0.1, 0.9])) == (0.0, 0)


def test_shares_in_force_are_time_weighted_over_the_day() -> None:
    snaps = [
        (at(DAY - dt.timedelta(days=1), 9), {"a": 0.5, "b": 0.5}),
        (at(DAY, 6), {"a": 0.1, "b": 0.9}),  # a quarter of the day at 50/50
        (at(DAY + dt.timedelta(days=1), 1), {"a": 0.9, "b": 0.1}),  # the next day: no effect
    ]
    assert in_force(snaps, DAY) == pytest.approx({"a": 0.2, "b": 0.8})
    assert in_force(snaps, DAY - dt.timedelta(days=1)) is None  # nothing known at its start
    assert in_force(snaps, DAY + dt.timedelta(days=2)) == {"a": 0.9, "b": 0.1}


def rows(day: dt.date, counts: dict[str, int]) -> list[DailyCounts]:
    return [DailyCounts(day, v, n, 0) for v, n in counts.items()]


def test_a_day_served_even_against_ten_ninety_is_flagged() -> None:
    snaps = [(at(DAY - dt.timedelta(days=1), 23), {"a": 0.1, "b": 0.9})]
    found = mismatches(["a", "b"], rows(DAY, {"a": 5000, "b": 5000}), snaps)
    assert len(found) == 1
    assert found[0].day == DAY
    assert found[0].observed == {"a": 0.5, "b": 0.5}
    assert found[0].expected == {"a": 0.1, "b": 0.9}
    assert found[0].p_value < 1e-100


def test_days_not_comparable_are_skipped() -> None:
    snaps = [(at(DAY, 0), {"a": 0.1, "b": 0.9})]
    # before any snapshot, with no impressions, or serving a variant with no share
    assert mismatches(["a", "b"], rows(DAY - dt.timedelta(days=1), {"a": 50, "b": 50}), snaps) == ()
    assert mismatches(["a", "b"], rows(DAY, {"a": 0, "b": 0}), snaps) == ()
    assert mismatches(["a", "b", "c"], rows(DAY, {"a": 10, "b": 10, "c": 900}), snaps) == ()


def test_multinomial_days_from_the_recommended_shares_fire_at_most_a_thousandth() -> None:
    # Given 60,000 days, each served by multinomial draws from that day's recommended
    # shares, over a range of traffic and of splits (floors, a control, many variants)
    rng = np.random.default_rng(20260302)
    cases = [
        (100, [0.5, 0.5]),
        (400, [0.1, 0.9]),
        (1000, [0.025, 0.025, 0.95]),
        (3000, [0.5, 0.5]),
        (5000, [0.3, 0.2, 0.5]),
        (20_000, [0.1, 0.9]),
        (50_000, [0.0125, 0.0125, 0.0125, 0.0125, 0.95]),
        (200, [0.0125, 0.0125, 0.975]),
    ]
    fired = days = 0
    for total, shares in cases:
        p = np.array(shares)
        for obs in rng.multinomial(total, p, size=7500):
            stat, df = chi_square(obs.astype(np.float64), p)
            fired += df > 0 and chi2_sf(stat, df) < ALPHA
            days += 1
    # Then the check fires on at most 0.1% of them
    assert days == 60_000
    assert fired <= 0.001 * days
