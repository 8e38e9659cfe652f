"""The engine at the edges of its input: posteriors with α and β up to 1e12 (and priors
from tiny to huge). No NaN, no exception, shares that sum to 1 within the floors."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from banditkit.engine import DailyCounts, Settings, allocate, report
from banditkit.engine.types import EXPLORE_FLOOR
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

DAY = dt.date(2026, 2, 1)
BIG = 10**12
LOAD = [HealthCheck.too_slow]

# Counts drawn mostly at the extremes: 0, tiny, huge, and everything up to 1e12.
counts = st.one_of(
    st.sampled_from([0, 1, 2, BIG - 1, BIG]),
    st.integers(0, 1000),
    st.integers(0, BIG),
)


@st.composite
def extreme(draw: st.DrawFn) -> dict[str, Any]:
    k = draw(st.integers(1, 5))
    names = [f"v{i}" for i in range(k)]
    rows = []
    for name in names:
        successes = draw(counts)  # β − β0 = failures, also up to 1e12
        failures = draw(counts)
        rows.append(DailyCounts(DAY, name, successes + failures, successes, successes))
    s = Settings(
        alpha_prior=draw(st.sampled_from([None, 1e-9, 0.5, 1.0, 1e6, 1e12])),
        beta_prior=draw(st.sampled_from([None, 1e-9, 1.0, 1e6, 1e12])),
        min_explore_rate=draw(st.sampled_from([0.0, 0.05])),
        control_floor=draw(st.sampled_from([0.0, 0.1])),
        min_impressions=0,
        metric=draw(st.sampled_from(["ctr", "conversion_rate"])),
        null_prior=draw(st.sampled_from([0.0, 0.5])),
        exploration=draw(st.sampled_from(["adaptive", "fixed"])),
    )
    control = draw(st.sampled_from([None, "v0"]))
    return {"names": names, "rows": rows, "settings": s, "control": control}


def finite(x: float) -> bool:
    return isinstance(x, float | int) and math.isfinite(x)


@settings(max_examples=150, deadline=None, suppress_health_check=LOAD, database=None)
@given(extreme())
def test_allocate_and_report_stay_finite_with_counts_up_to_1e12(case: dict[str, Any]) -> None:
    names, rows, s, control = case["names"], case["rows"], case["settings"], case["control"]
    rep = report(names, rows, s, control=control)
    alloc = rep.allocation
    # shares: one per variant, each in [0, 1], summing to exactly 1 at 6 decimals
    assert list(alloc.shares) == names
    assert all(finite(v) and 0.0 <= v <= 1.0 for v in alloc.shares.values())
    assert round(sum(alloc.shares.values()), 6) == 1.0
    k = len(names)
    for v in alloc.variants:
        assert all(finite(x) for x in (v.rate, v.posterior_mean, v.ci_low, v.ci_high, v.p_best))
        assert v.prior_only == (v.impressions == 0), v
        assert (v.expected_loss is None) == v.prior_only, v
        # (the mean may lie outside the 95% interval: Beta(1e-9, 1) has mean 1e-9 and a
        # 97.5% quantile of 0.975**1e9, i.e. 0 in floating point)
        assert 0.0 <= v.ci_low <= v.ci_high <= 1.0, v
        assert 0.0 <= v.posterior_mean <= 1.0, v
        assert -1e-9 <= v.p_best <= 1.0 + 1e-9
        assert v.expected_loss is None or v.expected_loss >= -1e-12
        eps = s.min_explore_rate * (1.0 if s.exploration == "fixed" else EXPLORE_FLOOR)
        assert alloc.shares[v.name] >= eps / k - 1e-6
    assert abs(sum(v.p_best for v in alloc.variants) - 1.0) < 1e-3
    with_data = sum(v.impressions > 0 for v in alloc.variants)
    assert (alloc.potential_value_remaining is None) == (with_data < 2)
    assert alloc.potential_value_remaining is None or finite(alloc.potential_value_remaining)
    assert finite(rep.regret_so_far)
    assert finite(rep.gained_vs_even)
    for lift in rep.lifts:
        values = (lift.lift, lift.ci_low, lift.ci_high, lift.p_better)
        assert all(finite(x) for x in values) or all(x is None for x in values), lift
    # the same data gives the same answer (determinism holds at the extremes too)
    assert allocate(names, rows, s, control=control).shares == alloc.shares


def test_two_posteriors_a_hair_apart_at_1e12_trials() -> None:
    # Given rates 0.5 and 0.5 + 1e-6 at 2e12 trials each: each posterior's sd is
    # sqrt(0.25 / 2e12), the difference's sd 5e-7, so P(b best) = Phi(1e-6 / 5e-7) = Phi(2)
    rows = [
        DailyCounts(DAY, "a", 2 * BIG, BIG),
        DailyCounts(DAY, "b", 2 * BIG, BIG + 2 * 10**6),
    ]
    plain = Settings(min_explore_rate=0.0, control_floor=0.0, null_prior=0.0)
    alloc = allocate(["a", "b"], rows, plain)
    assert round(sum(alloc.shares.values()), 6) == 1.0
    p = {v.name: v.p_best for v in alloc.variants}
    phi_2 = 0.5 * (1.0 + math.erf(2.0 / math.sqrt(2.0)))
    assert abs(p["b"] - phi_2) <= 1e-4  # the engine's accuracy target, at 1e12 counts
    assert abs(alloc.shares["b"] - phi_2) <= 1e-6 + 1e-4


def test_identical_huge_posteriors_split_evenly() -> None:
    rows = [DailyCounts(DAY, n, BIG, BIG // 3) for n in ("a", "b", "c", "d")]
    alloc = allocate(["a", "b", "c", "d"], rows, Settings(min_explore_rate=0.0))
    assert all(abs(v - 0.25) <= 1e-6 for v in alloc.shares.values()), alloc.shares


def test_all_successes_at_1e12_with_the_null_prior() -> None:
    # the pooled rate rounds to 1.0 here; the spike-and-slab prior must not divide by it
    rows = [DailyCounts(DAY, "a", BIG, BIG), DailyCounts(DAY, "b", BIG, BIG)]
    s = Settings(alpha_prior=1.0, beta_prior=1e-9, null_prior=0.5, min_impressions=0)
    rep = report(["a", "b"], rows, s)
    assert round(sum(rep.allocation.shares.values()), 6) == 1.0
    assert rep.allocation.shares == {"a": 0.5, "b": 0.5}
