"""Sharpened allocation (engine/sharpen.py): the rule, each guard, the floor, missing history."""

import datetime as dt
import importlib
import math
from typing import Any

import numpy as np
import pytest
from banditkit.engine import (
    Allocation,
    DailyCounts,
    InvalidSettings,
    Settings,
    allocate,
    simulate,
)
from banditkit.engine.sharpen import recent_matrix, sharpen
from hypothesis import given, settings
from hypothesis import strategies as st

# Given a clear leader (m = 0.1, factor (0.1/0.2)^6 = 1/64), laggards with plenty of data
# (a day of 10 000 trials adds < 10% of their 100 000) and below their earlier P(best):
P = np.array([0.9, 0.06, 0.04])
RECENT = np.array([[0.85, 0.10, 0.08]])
DATA = np.array([1e6, 1e5, 1e5])
DAILY = 1e4
# Guardrails off: a flat prior, no damping, no floors, no burn-in (plain batched Thompson).
OFF = {"alpha_prior": 1.0, "beta_prior": 1.0, "null_prior": 0.0, "min_explore_rate": 0.0,
       "control_floor": 0.0, "min_impressions": 0}  # fmt: skip
OPEN = Settings(**OFF)  # type: ignore[arg-type]


def shrunk(share: float) -> object:
    """share · (m / 0.2)^6 with m = 1 − 0.9 (0.0999… in floating point)."""
    return pytest.approx(share / 64, rel=1e-12)


def test_clear_leader_takes_the_laggards_sharpened_shares() -> None:
    out = sharpen(P, P, RECENT, DATA, DAILY)
    assert out[1:].tolist() == [shrunk(0.06), shrunk(0.04)]
    assert out[0] == 1.0 - math.fsum(out[1:])


def test_a_rising_arm_keeps_its_share() -> None:
    # Variant 1 was never above 0.05 in the last days: 0.06 is a new high.
    recent = np.array([[0.95, 0.03, 0.08], [0.93, 0.05, 0.02]])
    out = sharpen(P, P, recent, DATA, DAILY)
    assert out[1] == 0.06
    assert out[2] == shrunk(0.04)
    # Equal to the earlier high is not a new high.
    out = sharpen(P, P, np.array([[0.9, 0.06, 0.04]]), DATA, DAILY)
    assert out[1] == shrunk(0.06)


def test_an_arm_whose_share_adds_a_tenth_of_its_data_keeps_it() -> None:
    # Variant 2: 0.04 x 10 000 = 400 trials; 400 >= 0.1 x 4000 keeps it, 0.1 x 4001 does not.
    keeps = sharpen(P, P, RECENT, np.array([1e6, 1e5, 4000.0]), DAILY)
    assert keeps[2] == 0.04
    loses = sharpen(P, P, RECENT, np.array([1e6, 1e5, 4001.0]), DAILY)
    assert loses[2] == shrunk(0.04)


def test_the_leader_absorbs_the_rest() -> None:
    out = sharpen(P, P, RECENT, np.array([1e6, 1e5, 4000.0]), DAILY)
    assert out[0] == 1.0 - math.fsum(out[1:])
    assert out[1:].tolist() == [shrunk(0.06), 0.04]
    assert math.fsum(out) == 1.0


def test_no_sharpening_while_the_leader_is_unclear() -> None:
    p = np.array([0.78, 0.17, 0.05])  # m = 0.22: not below the threshold
    assert sharpen(p, p, np.array([[0.9, 0.5, 0.5]]), DATA, DAILY).tolist() == p.tolist()


def test_missing_history_means_thompson() -> None:
    # No history (first day, history pruned): Thompson's shares.
    assert sharpen(P, P, np.empty((0, 3)), DATA, DAILY).tolist() == P.tolist()
    # A variant added late (no value in the history) counts as rising: it keeps its share.
    recent = np.array([[0.85, np.nan, 0.08]])
    out = sharpen(P, P, recent, DATA, DAILY)
    assert out[1:].tolist() == [0.06, shrunk(0.04)]
    # No data yet (N̂ = 0): Thompson.
    assert sharpen(P, P, RECENT, DATA * 0, 0.0).tolist() == P.tolist()


@st.composite
def cases(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    k = draw(st.integers(2, 8))
    w = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=k, max_size=k)))
    leader = draw(st.integers(0, k - 1))
    w[leader] += draw(st.floats(0.0, 50.0))
    if w.sum() == 0:
        w[leader] = 1.0
    p = w / w.sum()
    rows = draw(st.integers(0, 7))
    recent = np.array(draw(st.lists(st.floats(0.0, 1.0), min_size=rows * k, max_size=rows * k)))
    data = np.array(draw(st.lists(st.floats(0.0, 1e7), min_size=k, max_size=k)))
    return p, recent.reshape(rows, k), data, draw(st.floats(0.0, 1e6))


@given(cases())
@settings(max_examples=300, deadline=None)
def test_properties(case: tuple[np.ndarray, np.ndarray, np.ndarray, float]) -> None:
    p, recent, data, daily = case
    out = sharpen(p, p, recent, data, daily)
    leader = int(np.argmax(p))
    others = np.arange(len(p)) != leader
    assert math.fsum(out) == 1.0  # sums to 1 exactly
    assert (out >= 0).all()
    assert (out[others] <= p[others]).all()  # a laggard never gets more than Thompson gives
    shrunk = p[others] * (min(1.0 - p.max(), 0.2) / 0.2) ** 6 * (1 - 1e-12)
    assert (out[others] >= shrunk).all()  # never below the sharpened share
    assert out[leader] >= p[leader] - 1e-15


def test_recent_matrix_names_the_history_field() -> None:
    assert np.isnan(recent_matrix(["a", "b"], [{"a": 0.5}])[0, 1])
    assert recent_matrix(["a", "b"], None).shape == (0, 2)
    for bad in ({"c": 0.5}, {"a": 1.5}, {"a": float("nan")}, {"a": True}):
        with pytest.raises(InvalidSettings) as err:
            recent_matrix(["a", "b"], [bad])
        assert err.value.field == "history"


# --- through the engine ---------------------------------------------------------------


def _rows() -> list[DailyCounts]:
    day = dt.date(2026, 3, 1)
    return [
        DailyCounts(day + dt.timedelta(days=d), name, 10_000, clicks)
        for d in range(10)
        for name, clicks in (("a", 500), ("b", 486), ("c", 484))
    ]


def test_allocate_sharpens_with_history_and_rounds_to_exactly_one() -> None:
    sharp = Settings(**OFF, allocation_rule="sharpened")  # type: ignore[arg-type]
    names = ["a", "b", "c"]
    thompson = allocate(names, _rows(), OPEN)
    p = {v.name: v.p_best for v in thompson.variants}
    assert p["a"] > 0.8  # a clear leader
    high = [{"a": 0.5, "b": 0.4, "c": 0.4}]  # b and c were higher before: not rising
    out = allocate(names, _rows(), sharp, history=high)
    assert [v.p_best for v in out.variants] == [v.p_best for v in thompson.variants]
    m = 1.0 - p["a"]
    for name in ("b", "c"):
        expected = p[name] * (m / 0.2) ** 6
        assert out.shares[name] == pytest.approx(expected, abs=1e-6)
    assert out.shares["a"] > thompson.shares["a"]
    assert sum(round(s * 1_000_000) for s in out.shares.values()) == 1_000_000
    # Without history the rule is Thompson.
    assert allocate(names, _rows(), sharp).shares == thompson.shares
    assert allocate(names, _rows(), sharp, history=[]).shares == thompson.shares


def test_the_setting_is_validated() -> None:
    with pytest.raises(InvalidSettings) as err:
        Settings(allocation_rule="greedy")  # type: ignore[arg-type]
    assert err.value.field == "allocation_rule"
    assert Settings().allocation_rule == "sharpened"  # the default (docs/engine.md)


def test_simulate_feeds_the_rule_the_last_14_days_of_p_best(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[tuple[list[dict[str, float]], Allocation]] = []

    def recording(*args: Any, **kwargs: Any) -> Allocation:
        out = allocate(*args, **kwargs)
        calls.append((list(kwargs["history"]), out))
        return out

    module = importlib.import_module("banditkit.engine.simulate")
    monkeypatch.setattr(module, "allocate", recording)
    sharp = Settings(**OFF, allocation_rule="sharpened")  # type: ignore[arg-type]
    simulate(["a", "b", "c"], [0.05, 0.046, 0.045], 20_000, 20, sharp, seed=3)
    p_best = [{v.name: v.p_best for v in out.variants} for _, out in calls]
    assert calls[0][0] == []  # first day: no history, Thompson
    for t, (history, _) in enumerate(calls):
        assert history == p_best[max(0, t - 14) : t]
