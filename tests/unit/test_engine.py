"""allocate/report/simulate/fingerprint: worked examples with values computed by hand."""

import dataclasses
import datetime as dt
import math
import subprocess
import sys

import numpy as np
import pytest
from banditkit.engine import (
    DailyCounts,
    RateChange,
    Settings,
    allocate,
    fingerprint,
    report,
    simulate,
)
from banditkit.engine.guardrails import shares as guard
from banditkit.engine.posterior import count, null_probability
from scipy import stats

DAY = dt.date(2026, 3, 1)
# Plain Thompson sampling on flat priors: the maths checked by hand below.
FLAT = Settings(alpha_prior=1.0, beta_prior=1.0)
OPEN = Settings(
    alpha_prior=1.0,
    beta_prior=1.0,
    min_explore_rate=0.0,
    control_floor=0.0,
    min_impressions=0,
    null_prior=0.0,
)


def day(i: int) -> dt.date:
    return DAY + dt.timedelta(days=i)


# --- posteriors -------------------------------------------------------------------------


def test_window_and_as_of_choose_the_days_that_count() -> None:
    rows = [DailyCounts(day(i), "a", 100, 10 + i) for i in range(5)]
    # Given as_of = day 3 and a 2-day window, only days 2 and 3 count (day 4 is in the future).
    c = count(["a"], rows, Settings(window_days=2, alpha_prior=1.0, beta_prior=1.0), as_of=day(3))
    assert c.impressions.tolist() == [200]
    assert c.clicks.tolist() == [12 + 13]
    assert c.alpha.tolist() == [1 + 25]
    assert c.beta.tolist() == [1 + 200 - 25]
    # By default as_of is the latest day in the data.
    assert count(["a"], rows, Settings()).as_of == day(4)


def test_half_life_weights_each_day_by_its_age() -> None:
    rows = [DailyCounts(day(0), "a", 100, 20), DailyCounts(day(2), "a", 100, 10)]
    c = count(["a"], rows, Settings(half_life_days=2.0, alpha_prior=2.0, beta_prior=3.0))
    # day 2 has age 0 (weight 1), day 0 has age 2 (weight 0.5): fractional pseudo-counts.
    assert c.alpha[0] == pytest.approx(2.0 + 10 + 0.5 * 20)
    assert c.beta[0] == pytest.approx(3.0 + 90 + 0.5 * 80)
    assert c.impressions.tolist() == [200]  # reported counts stay unweighted


def test_conversion_rate_metric_counts_conversions() -> None:
    rows = [DailyCounts(DAY, "a", 1000, 100, 7)]
    c = count(["a"], rows, Settings(metric="conversion_rate", alpha_prior=1.0, beta_prior=1.0))
    assert c.alpha.tolist() == [8.0]
    assert c.beta.tolist() == [994.0]
    alloc = allocate(["a"], rows, Settings(metric="conversion_rate"))
    assert alloc.variants[0].rate == pytest.approx(0.007)


# --- guardrails -------------------------------------------------------------------------


def test_exploration_floor_mixes_towards_uniform() -> None:
    s = Settings(min_explore_rate=0.1, control_floor=0.0)
    got = guard(np.array([1.0, 0.0]), s, control=None, previous=None, burn_in=False)
    assert got.tolist() == [0.95, 0.05]


def test_control_floor_redistributes_proportionally_but_never_below_the_exploration_floor() -> None:
    s = Settings(min_explore_rate=0.09, control_floor=0.3)
    p = np.array([0.0, 0.7, 0.3, 0.0])
    got = guard(p, s, control=0, previous=None, burn_in=False)
    # After ε-mixing: [0.0225, 0.6595, 0.2955, 0.0225]. The control rises to 0.3; the
    # last variant stays at its floor 0.0225; the two others share 1 − 0.3 − 0.0225 in
    # proportion 0.6595 : 0.2955.
    room = 1 - 0.3 - 0.0225
    expected = [0.3, room * 0.6595 / 0.955, room * 0.2955 / 0.955, 0.0225]
    assert got.tolist() == pytest.approx(expected, abs=1e-6)


def test_max_shift_limits_the_move_and_floors_win() -> None:
    s = Settings(min_explore_rate=0.0, control_floor=0.2, max_daily_shift=0.1)
    previous = np.array([0.1, 0.5, 0.4])  # the control was below its floor yesterday
    got = guard(np.array([0.0, 1.0, 0.0]), s, control=0, previous=previous, burn_in=False)
    # control: floor 0.2 wins over the shift bound 0.1 + 0.1; b can rise to 0.6, c falls to
    # 0.3 — which leaves 0.1 to place: the closest feasible point raises b and c equally.
    assert got[0] == pytest.approx(0.2)
    assert got[1] <= 0.6 + 1e-6
    assert got[2] >= 0.3 - 1e-6
    assert got.sum() == pytest.approx(1.0, abs=1e-12)


def test_rounding_keeps_exactly_one_million_millionths() -> None:
    got = guard(np.full(7, 1 / 7), OPEN, control=None, previous=None, burn_in=False)
    assert int(np.round(got * 1e6).sum()) == 1_000_000
    assert got.max() - got.min() == pytest.approx(1e-6)


# --- allocate ---------------------------------------------------------------------------


def _ab(control: tuple[int, int], variant: tuple[int, int]) -> list[DailyCounts]:
    return [
        DailyCounts(DAY, "control", control[0], control[1]),
        DailyCounts(DAY, "b", variant[0], variant[1]),
    ]


def test_allocation_reports_posterior_statistics() -> None:
    rows = _ab((10_000, 700), (10_000, 760))
    alloc = allocate(["control", "b"], rows, OPEN, control="control")
    c, b = alloc.variants
    assert b.posterior_mean == pytest.approx(761 / 10_002)
    assert (b.ci_low, b.ci_high) == pytest.approx(
        stats.beta.ppf([0.025, 0.975], 761, 9241), abs=1e-6
    )
    # P(best) of b and the exact two-arm probability from scipy agree.
    x = np.linspace(0.05, 0.1, 200_001)
    p_b = np.trapezoid(stats.beta.pdf(x, 761, 9241) * stats.beta.cdf(x, 701, 9301), x)
    assert b.p_best == pytest.approx(p_b, abs=1e-6)
    assert alloc.shares["b"] == pytest.approx(p_b, abs=1e-6)
    # expected loss: E[max] − mean, so the two losses differ by exactly the mean gap.
    assert c.expected_loss - b.expected_loss == pytest.approx(b.posterior_mean - c.posterior_mean)
    assert b.expected_loss > 0


def test_status_needs_both_p_best_and_a_small_expected_loss() -> None:
    rows = _ab((20_000, 1000), (20_000, 1200))
    strict = Settings(winner_loss_share=1e-9)
    assert allocate(["control", "b"], rows, Settings()).status == "winner_found"
    assert allocate(["control", "b"], rows, Settings()).winner == "b"
    alloc = allocate(["control", "b"], rows, strict)
    assert (alloc.status, alloc.winner) == ("optimizing", None)
    assert allocate(["control", "b"], _ab((400, 20), (400, 22)), Settings()).status == "warming_up"


def test_a_single_variant_is_never_a_winner() -> None:
    alloc = allocate(["a"], [DailyCounts(DAY, "a", 50_000, 900)], Settings())
    # PVR needs two variants with data (null, not a 0 that reads as "nothing left to gain")
    assert (alloc.status, alloc.shares, alloc.potential_value_remaining) == (
        "optimizing",
        {"a": 1.0},
        None,
    )


def test_potential_value_remaining_matches_monte_carlo() -> None:
    rows = [*_ab((5_000, 250), (5_000, 262)), DailyCounts(DAY, "c", 5_000, 255)]
    alloc = allocate(["control", "b", "c"], rows, OPEN)
    draws = np.random.default_rng(0).beta([251, 263, 256], [4751, 4739, 4746], size=(400_000, 3))
    value = (draws.max(axis=1) - draws[:, 1]) / draws[:, 1]
    assert alloc.potential_value_remaining == pytest.approx(np.quantile(value, 0.95), rel=0.02)


def test_null_prior_damps_matching_while_the_evidence_is_weak() -> None:
    weak = _ab((3_000, 120), (3_000, 135))
    strong = _ab((50_000, 2_000), (50_000, 2_400))
    damped = dataclasses.replace(OPEN, null_prior=0.5)
    assert allocate(["control", "b"], weak, damped).shares["b"] < (
        allocate(["control", "b"], weak, OPEN).shares["b"] - 0.1
    )
    assert allocate(["control", "b"], strong, damped).shares["b"] == pytest.approx(
        allocate(["control", "b"], strong, OPEN).shares["b"], abs=1e-4
    )
    # Reported P(best) is the plain posterior's either way.
    assert allocate(["control", "b"], weak, damped).variants[1].p_best == pytest.approx(
        allocate(["control", "b"], weak, OPEN).variants[1].p_best
    )


# --- report -----------------------------------------------------------------------------


def test_report_lift_regret_and_gain_by_hand() -> None:
    rows = [
        DailyCounts(day(0), "control", 1000, 50),
        DailyCounts(day(0), "b", 1000, 70),
        DailyCounts(day(1), "control", 500, 25),
        DailyCounts(day(1), "b", 1500, 105),
    ]
    r = report(["control", "b"], rows, OPEN, control="control")
    m_c, m_b = 76 / 1502, 176 / 2502
    (lift,) = r.lifts
    assert lift.variant == "b"
    assert lift.lift == pytest.approx(m_b / m_c - 1)
    ratio = np.random.default_rng(1).beta(176, 2326, 400_000) / np.random.default_rng(2).beta(
        76, 1426, 400_000
    )
    assert (lift.ci_low, lift.ci_high) == pytest.approx(
        np.quantile(ratio, [0.025, 0.975]) - 1, abs=5e-3
    )
    assert lift.p_better == pytest.approx(r.allocation.variants[1].p_best, abs=1e-9)
    # Regret: impressions on control times the gap of posterior means.
    assert r.regret_so_far == pytest.approx(1500 * (m_b - m_c))
    # Gain vs even: day 1 sent 1500 of 2000 to b instead of 1000.
    assert r.gained_vs_even == pytest.approx(500 * (m_b - m_c))
    assert "b" in r.recommendation


def test_report_without_control_has_no_lifts() -> None:
    r = report(["a", "b"], _ab((100, 5), (100, 6))[:0], Settings())
    assert r.lifts == ()
    assert r.allocation.status == "warming_up"
    assert r.regret_so_far == 0.0
    assert "Warming up" in r.recommendation


# --- simulate ---------------------------------------------------------------------------


def test_simulation_is_seeded_and_beats_an_even_split() -> None:
    a = simulate(["control", "b"], [0.07, 0.095], 10_000, 10, OPEN, seed=4)
    b = simulate(["control", "b"], [0.07, 0.095], 10_000, 10, OPEN, seed=4)
    assert a == b
    assert len(a.shares) == len(a.cumulative_regret) == 10
    assert a.shares[0] == (0.5, 0.5)
    assert a.even_cumulative_regret[-1] == pytest.approx(10 * 5_000 * 0.025)
    assert a.cumulative_regret[-1] < 0.2 * a.even_cumulative_regret[-1]
    assert a.shares[-1][1] > 0.95
    assert simulate(["control", "b"], [0.07, 0.095], 10_000, 10, OPEN, seed=5) != a


def test_simulation_follows_rate_changes() -> None:
    sim = simulate(
        ["a", "b"],
        [0.06, 0.03],
        20_000,
        20,
        Settings(half_life_days=1.0, min_explore_rate=0.0, control_floor=0.0),
        changes=[RateChange(day=8, rates=(0.03, 0.06))],
        seed=1,
    )
    assert sim.shares[7][0] > 0.9
    assert sim.shares[-1][1] > 0.9
    # Regret only accrues on the loser, whichever it is that day.
    assert sim.even_cumulative_regret[-1] == pytest.approx(20 * 10_000 * 0.03)


# --- fingerprint ------------------------------------------------------------------------


def test_fingerprint_is_stable_across_processes() -> None:
    rows = _ab((1000, 50), (1000, 61))
    here = fingerprint(["control", "b"], rows, Settings(), "control")
    code = (
        "import datetime as dt; from banditkit.engine import DailyCounts, Settings, fingerprint;"
        "d = dt.date(2026, 3, 1);"
        "rows = [DailyCounts(d, 'b', 1000, 61), DailyCounts(d, 'control', 1000, 50)];"
        "print(fingerprint(['control', 'b'], rows, Settings(), 'control'))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert here == there
    assert here != fingerprint(["control", "b"], rows, Settings(), None)
    assert here != fingerprint(["control", "b"], rows[:1], Settings(), "control")


def test_every_share_is_finite_for_huge_counts() -> None:
    rows = _ab((2_000_000_000, 100_000_000), (2_000_000_000, 100_004_000))
    alloc = allocate(["control", "b"], rows, OPEN)
    assert all(math.isfinite(v.p_best) for v in alloc.variants)
    assert alloc.variants[1].p_best == pytest.approx(
        stats.norm.cdf(4000 / math.sqrt(2 * 2e9 * 0.05 * 0.95)), abs=1e-4
    )


def test_null_probability_grows_with_agreeing_data_and_vanishes_with_a_clear_gap() -> None:
    s = Settings(null_prior=0.5)

    def p_null(n: int, c0: int, c1: int) -> float:
        rows = [DailyCounts(DAY, "a", n, c0), DailyCounts(DAY, "b", n, c1)]
        return null_probability(count(["a", "b"], rows, s), s)

    assert 0.5 < p_null(10_000, 400, 400) < p_null(1_000_000, 40_000, 40_000) < 1.0
    assert p_null(100_000, 4_000, 4_800) < 1e-6
    assert p_null(0, 0, 0) == pytest.approx(0.5)  # no data: the prior
