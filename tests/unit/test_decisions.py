"""Decisions from each variant's own evidence: per-variant burn-in, the empirical-Bayes
prior, adaptive exploration, and values that rest on the prior alone."""

import datetime as dt
from typing import Any

import numpy as np
import pytest
from banditkit.engine import DailyCounts, InvalidSettings, Settings, allocate, report, simulate
from banditkit.engine.guardrails import round_shares
from banditkit.engine.posterior import count
from banditkit.engine.rules import RAMP_DAYS
from banditkit.engine.types import EXPLORE_FLOOR, EXPLORE_FULL_LOSS

DAY = dt.date(2026, 3, 1)
AB = ["control", "variant_b"]
ABC = [*AB, "variant_c"]


def _days(rates: dict[str, float], days: int, daily: int, seed: int = 0) -> list[DailyCounts]:
    """`days` days of `daily` impressions per variant, clicks binomial at the rates."""
    rng = np.random.default_rng(seed)
    return [
        DailyCounts(DAY + dt.timedelta(days=d), name, daily, int(rng.binomial(daily, rate)))
        for d in range(days)
        for name, rate in rates.items()
    ]


TWO_WEEKS = _days({"control": 0.05, "variant_b": 0.052}, 14, 5000)


@pytest.mark.parametrize("control", [None, "control"])
def test_a_new_variant_without_data_is_neither_winner_nor_given_most_traffic(
    control: str | None,
) -> None:
    # Given two variants with 14 days at ~5% and a third added with no data (the PATCH case)
    rep = report(ABC, TWO_WEEKS, Settings(), control=control)
    alloc = rep.allocation
    new = alloc.variants[2]
    # Then it is not the winner, gets its ramp-up share (1000 impressions in RAMP_DAYS days
    # of the experiment's 10,000 a day), and is marked as resting on the prior alone.
    assert (alloc.status, alloc.winner) == ("warming_up", None)
    assert alloc.shares["variant_c"] == pytest.approx(1000 / (RAMP_DAYS * 10_000))
    assert alloc.shares["variant_c"] < min(alloc.shares["control"], alloc.shares["variant_b"])
    assert alloc.reasons["variant_c"] == "new_variant"
    assert new.prior_only
    assert new.expected_loss is None
    assert not any(v.prior_only for v in alloc.variants[:2])
    # its prior is centred on the pooled rate (~5%), not Beta(1, 1)'s 50%
    assert new.posterior_mean == pytest.approx(0.051, abs=0.002)
    assert "Ship" not in rep.recommendation
    assert "variant_c (0 of 1000)" in rep.recommendation
    if control is not None:
        assert rep.lifts[1].variant == "variant_c"
        assert (rep.lifts[1].lift, rep.lifts[1].ci_low, rep.lifts[1].p_better) == (None,) * 3
        assert rep.lifts[0].lift is not None  # b vs control rests on data
    # PVR is over the two variants with data, as if c were not there
    assert (
        alloc.potential_value_remaining
        == allocate(AB, TWO_WEEKS, Settings()).potential_value_remaining
    )
    assert round(sum(alloc.shares.values()), 6) == 1.0
    assert int(np.round(np.array(list(alloc.shares.values())) * 1e6).sum()) == 1_000_000


def test_the_new_variant_is_matched_on_evidence_once_it_has_its_own_burn_in() -> None:
    # Given variant_c then gets its 1000 impressions, clearly better
    rows = [*TWO_WEEKS, DailyCounts(DAY + dt.timedelta(days=14), "variant_c", 1000, 80)]
    alloc = allocate(ABC, rows, Settings())
    assert alloc.reasons["variant_c"] == "p_best"
    assert alloc.status != "warming_up"
    assert alloc.shares["variant_c"] > 0.5


def test_with_no_data_every_statistic_is_the_priors_and_marked() -> None:
    rep = report(AB, [], Settings(), control="control")
    assert rep.allocation.potential_value_remaining is None
    assert all(v.prior_only and v.expected_loss is None for v in rep.allocation.variants)
    assert rep.lifts[0].lift is None
    assert set(rep.allocation.reasons.values()) == {"burn_in"}


def test_a_low_traffic_test_leaves_burn_in_after_two_days() -> None:
    # 300 impressions a day over two variants: 1000 each would take a week of even split;
    # the need is capped at RAMP_DAYS day of an even split (150 each) once a complete day
    # shows the traffic (the latest day may still be filling, so one day does not).
    assert RAMP_DAYS == 1
    rows = _days({"a": 0.05, "b": 0.08}, 1, 150)
    assert set(allocate(["a", "b"], rows, Settings()).reasons.values()) == {"burn_in"}
    rows = _days({"a": 0.05, "b": 0.08}, 2, 150)
    alloc = allocate(["a", "b"], rows, Settings())
    assert set(alloc.reasons.values()) == {"p_best"}
    assert alloc.status == "optimizing"  # no winner below min_impressions of its own
    uneven = [
        *rows[:2],
        DailyCounts(DAY + dt.timedelta(days=1), "a", 20, 1),
        DailyCounts(DAY + dt.timedelta(days=1), "b", 0, 0),
    ]  # need ceil(300/2) = 150: b has exactly it, a is above
    assert set(allocate(["a", "b"], uneven, Settings()).reasons.values()) == {"p_best"}
    short = [*uneven[:1], DailyCounts(DAY, "b", 100, 8), *uneven[2:]]
    alloc = allocate(["a", "b"], short, Settings())  # D = 250, need 125: b is short
    assert (alloc.reasons["b"], alloc.status) == ("new_variant", "warming_up")
    rows = _days({"a": 0.01, "b": 0.2}, 2, 150)
    assert allocate(["a", "b"], rows, Settings()).winner is None  # 300 < 1000 of its own
    assert allocate(["a", "b"], rows, Settings(min_impressions=300)).winner == "b"


def test_empirical_bayes_prior_is_centred_on_the_pooled_rate() -> None:
    rows = [DailyCounts(DAY, "a", 9_000, 450), DailyCounts(DAY, "b", 1_000, 48)]
    c = count(["a", "b", "c"], rows, Settings())
    m = (450 + 48 + 1) / (10_000 + 2)
    a0, b0 = c.prior
    # centred on m, worth one observation of the rarer outcome (here one success)
    assert a0 == 1.0
    assert a0 / (a0 + b0) == pytest.approx(m, rel=1e-12)
    assert c.alpha.tolist() == pytest.approx([a0 + 450, a0 + 48, a0])
    assert c.beta.tolist() == pytest.approx([b0 + 8550, b0 + 952, b0])
    # a high pooled rate: one pseudo-failure instead
    high = count(["a"], [DailyCounts(DAY, "a", 100, 90)], Settings())
    assert high.prior[1] == 1.0
    assert high.prior[0] / sum(high.prior) == pytest.approx(91 / 102)
    # no data: Beta(1, 1); an explicit prior is used as given, the unset one at 1.0
    assert count(["a"], [], Settings()).prior == (1.0, 1.0)
    assert count(["a"], rows[:1], Settings(alpha_prior=2.0)).prior == (2.0, 1.0)


def test_adaptive_exploration_shrinks_with_the_leaders_expected_loss_to_its_floor() -> None:
    s = Settings(null_prior=0.0, min_impressions=0)
    eps = s.min_explore_rate

    def loser_share(rows: list[DailyCounts]) -> float:
        return min(allocate(AB, rows, s).shares.values())

    # Given a clear leader (expected loss ~0): the loser gets exactly the floor ε·F/K
    clear = _days({"control": 0.05, "variant_b": 0.09}, 3, 10_000)
    assert loser_share(clear) == pytest.approx(eps * EXPLORE_FLOOR / 2, abs=1e-6)
    assert allocate(AB, clear, s).reasons["control"] == "exploration_floor"
    # With one day of 20 impressions each the decision is open: full exploration, and the
    # share follows (1 − ε)·p + ε/K with the full ε
    open_rows = [DailyCounts(DAY, "control", 20, 1), DailyCounts(DAY, "variant_b", 20, 2)]
    alloc = allocate(AB, open_rows, s)
    p = np.array([v.p_best for v in alloc.variants])
    assert list(alloc.shares.values()) == pytest.approx(
        ((1 - eps) * p + eps / 2).tolist(), abs=1e-6
    )
    # In between the exploration is ε·ℓ/EXPLORE_FULL_LOSS with ℓ the leader's relative loss
    mid = _days({"control": 0.05, "variant_b": 0.0525}, 1, 5_000, seed=3)
    alloc = allocate(AB, mid, s)
    lead = max(alloc.variants, key=lambda v: v.posterior_mean)
    rel = lead.expected_loss / lead.posterior_mean
    assert EXPLORE_FLOOR < rel / EXPLORE_FULL_LOSS < 1  # the example is in the middle
    e = eps * rel / EXPLORE_FULL_LOSS
    p = np.array([v.p_best for v in alloc.variants])
    assert list(alloc.shares.values()) == pytest.approx(((1 - e) * p + e / 2).tolist(), abs=2e-6)


def test_fixed_exploration_is_the_old_rule() -> None:
    # exploration "fixed" with the old prior and no damping: (1 − ε)·P(best) + ε/K exactly
    old = Settings(exploration="fixed", alpha_prior=1.0, beta_prior=1.0, null_prior=0.0)
    rows = _days({"a": 0.05, "b": 0.09, "c": 0.0525}, 3, 10_000)
    alloc = allocate(["a", "b", "c"], rows, old)
    p = np.array([v.p_best for v in alloc.variants])
    expected = round_shares(0.95 * p + 0.05 / 3)
    assert list(alloc.shares.values()) == expected.tolist()
    assert min(alloc.shares.values()) == pytest.approx(0.05 / 3, abs=1e-6)


def test_a_user_set_control_floor_keeps_its_meaning() -> None:
    rows = _days({"control": 0.05, "variant_b": 0.09}, 3, 10_000)
    for exploration in ("adaptive", "fixed"):
        s = Settings(control_floor=0.2, exploration=exploration)  # type: ignore[arg-type]
        alloc = allocate(AB, rows, s, control="control")
        assert alloc.shares["control"] == 0.2
        assert alloc.reasons["control"] == "control_floor"


def test_simulate_adds_a_variant_on_its_day_and_ramps_it_up() -> None:
    sim = simulate(
        ABC, [0.05, 0.055, 0.065], 20_000, 14, Settings(), start_days={"variant_c": 10}, seed=2
    )
    assert all(day[2] == 0.0 for day in sim.shares[:10])
    # on its first day it gets its ramp-up share: 1000 in RAMP_DAYS days of 20,000
    assert sim.shares[10][2] == pytest.approx(1000 / (RAMP_DAYS * 20_000), abs=1e-6)
    assert sim.shares[-1][2] > 0.5  # it is the best, and is found to be


def test_simulate_weekday_multipliers_scale_rates_and_traffic() -> None:
    week = (1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5)
    sim = simulate(
        ["a", "b"], [0.04, 0.05], 10_000, 7, Settings(), weekday_rates=week, weekday_traffic=week
    )
    # even split: 5000 a side on weekdays, 2500 at the weekend at half the gap
    assert sim.even_cumulative_regret[-1] == pytest.approx(5 * 5000 * 0.01 + 2 * 2500 * 0.005)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"weekday_rates": (1.0,) * 6}, "weekday_rates"),
        ({"weekday_traffic": (1.0,) * 6 + (-1.0,)}, "weekday_traffic"),
        ({"start_days": {"zz": 1}}, "start_days"),
        ({"start_days": {"a": 1, "b": 2}}, "start_days"),
    ],
)
def test_simulate_rejects_bad_scenarios(kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidSettings) as err:
        simulate(["a", "b"], [0.04, 0.05], 100, 3, Settings(), **kwargs)
    assert err.value.field == field


def test_a_variant_without_data_is_never_the_winner_even_without_burn_in() -> None:
    # min_impressions = 0 turns burn-in off; a prior that dominates the data still must
    # not make a variant with no data the winner (hypothesis found this at the extremes).
    rows = [DailyCounts(DAY, "b", 1_000_000, 1_000)]
    s = Settings(min_impressions=0, null_prior=0.0, alpha_prior=1.0, beta_prior=1.0)
    alloc = allocate(["a", "b"], rows, s)
    assert alloc.variants[0].prior_only
    assert alloc.variants[0].p_best > 0.95
    assert (alloc.status, alloc.winner) == ("optimizing", None)
    assert "Ship" not in report(["a", "b"], rows, s).recommendation
