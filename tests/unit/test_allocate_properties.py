"""Hypothesis properties of allocate(): the guardrails hold for any data and settings."""

import datetime as dt
import math
from typing import Any

import numpy as np
import pytest
from banditkit.engine import DailyCounts, InvalidSettings, Settings, allocate
from banditkit.engine.types import EXPLORE_FLOOR
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

DAY = dt.date(2026, 2, 1)
# The machine is shared: generation speed says nothing about the code under test.
LOAD = [HealthCheck.too_slow]
MICRO = 1e-6 + 1e-12  # one millionth, plus float slack


@st.composite
def experiments(
    draw: st.DrawFn, burn_in: bool = False, shift: bool = False, control: bool = True
) -> dict[str, Any]:
    k = draw(st.integers(1, 6))
    names = [f"v{i}" for i in range(k)]
    n_days = draw(st.integers(0, 3))
    rows = []
    for d in range(n_days):
        for name in names:
            n = draw(st.integers(0, 4000))
            c = draw(st.integers(0, n // 5))  # realistic rates up to 20%
            rows.append(DailyCounts(DAY + dt.timedelta(days=d), name, n, c, c // 2))
    s = Settings(
        min_explore_rate=draw(st.sampled_from([0.0, 0.05, 0.2])),
        control_floor=draw(st.sampled_from([0.0, 0.1, 0.3])),
        min_impressions=(
            sum(r.impressions for r in rows) + draw(st.integers(1, 1000))
            if burn_in
            else draw(st.sampled_from([0, 1000, 5000]))
        ),
        max_daily_shift=draw(st.sampled_from([0.05, 0.2] if shift else [None, 0.05, 0.2])),
        half_life_days=draw(st.sampled_from([None, 1.5])),
        null_prior=draw(st.sampled_from([0.0, 0.5])),
        exploration=draw(st.sampled_from(["adaptive", "fixed"])),
    )
    control = draw(st.sampled_from([None, "v0"])) if control and not burn_in else None
    previous = None
    if shift or (not burn_in and draw(st.booleans())):
        raw = np.array([draw(st.integers(0, 100)) for _ in names], dtype=float) + 1
        previous = dict(zip(names, (raw / raw.sum()).tolist(), strict=True))
    return {"names": names, "rows": rows, "settings": s, "control": control, "previous": previous}


def _explore_floor(s: Settings, k: int) -> float:
    """The lowest share exploration guarantees: ε/K fixed, EXPLORE_FLOOR·ε/K adaptive."""
    return s.min_explore_rate / k * (1.0 if s.exploration == "fixed" else EXPLORE_FLOOR)


def _run(e: dict[str, Any], **over: Any) -> Any:
    try:
        return allocate(
            over.get("names", e["names"]),
            over.get("rows", e["rows"]),
            e["settings"],
            control=e["control"],
            previous=over.get("previous", e["previous"]),
        )
    except InvalidSettings as err:
        assume(err.field != "control_floor")  # infeasible combinations are rejected up front
        raise


@settings(max_examples=60, deadline=None, suppress_health_check=LOAD)
@given(experiments())
def test_shares_sum_to_one_in_millionths_and_floors_hold(e: dict[str, Any]) -> None:
    alloc = _run(e)
    shares = np.array(list(alloc.shares.values()))
    units = np.round(shares * 1e6)
    assert np.allclose(shares * 1e6, units, atol=1e-6)  # whole millionths
    assert int(units.sum()) == 1_000_000
    k = len(shares)
    s = e["settings"]
    assert np.all(shares >= _explore_floor(s, k) - MICRO)
    if e["control"] is not None:
        assert alloc.shares["v0"] >= s.control_floor - MICRO
    assert [v.name for v in alloc.variants] == e["names"]
    assert sum(v.p_best for v in alloc.variants) == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=40, deadline=None, suppress_health_check=LOAD)
@given(experiments(shift=True))
def test_max_shift_holds_unless_a_floor_needs_more(e: dict[str, Any]) -> None:
    s = e["settings"]
    alloc = _run(e)
    k = len(e["names"])
    # the highest exploration floor (full ε/K, as at the start): a floor can only squeeze more
    floors = dict.fromkeys(e["names"], s.min_explore_rate / k)
    if e["control"] is not None:
        floors["v0"] = max(floors["v0"], s.control_floor)
    # a floor above its variant's previous + shift takes share the others must give up
    squeezed = any(floors[n] > e["previous"][n] + s.max_daily_shift + MICRO for n in floors)
    for name, share in alloc.shares.items():
        prev = e["previous"][name]
        assert share <= max(prev + s.max_daily_shift, floors[name]) + MICRO
        if not squeezed:
            assert share >= prev - s.max_daily_shift - MICRO


@settings(max_examples=40, deadline=None, suppress_health_check=LOAD)
@given(experiments(control=False), st.randoms(use_true_random=False))
def test_permuting_variants_permutes_the_result(e: dict[str, Any], rnd: Any) -> None:
    alloc = _run(e)
    names = list(e["names"])
    rnd.shuffle(names)
    rows = list(e["rows"])
    rnd.shuffle(rows)
    again = _run(e, names=names, rows=rows)
    for name in names:
        assert again.shares[name] == pytest.approx(alloc.shares[name], abs=MICRO)
    p_one = {v.name: v.p_best for v in alloc.variants}
    p_two = {v.name: v.p_best for v in again.variants}
    for name in names:
        assert p_two[name] == pytest.approx(p_one[name], abs=1e-12)


@settings(max_examples=40, deadline=None, suppress_health_check=LOAD)
@given(experiments(), st.integers(0, 5), st.integers(1, 50))
def test_more_successes_never_lower_p_best(e: dict[str, Any], which: int, extra: int) -> None:
    rows = e["rows"]
    assume(rows)
    target = rows[which % len(rows)]
    assume(target.clicks + extra <= target.impressions)
    better = [
        DailyCounts(r.day, r.variant, r.impressions, r.clicks + extra, r.conversions)
        if r is target
        else r
        for r in rows
    ]
    before = {v.name: v.p_best for v in _run(e).variants}
    after = {v.name: v.p_best for v in _run(e, rows=better).variants}
    assert after[target.variant] >= before[target.variant] - 1e-9


@settings(max_examples=30, deadline=None, suppress_health_check=LOAD)
@given(experiments())
def test_same_input_same_output(e: dict[str, Any]) -> None:
    assert _run(e) == _run(e)


@settings(max_examples=40, deadline=None, suppress_health_check=LOAD)
@given(experiments(burn_in=True))
def test_burn_in_is_per_variant(e: dict[str, Any]) -> None:
    # Burn-in counts each variant's own impressions against its need,
    # min(min_impressions, ceil(D/K)) with D the mean daily total before the latest day
    # (min_impressions with one day): below it a variant cannot win, and while every
    # variant is below it the split is even.
    alloc = _run(e)
    k = len(e["names"])
    days = sorted({r.day for r in e["rows"]})
    need = e["settings"].min_impressions
    if len(days) > 1:
        before = sum(r.impressions for r in e["rows"] if r.day < days[-1]) / (len(days) - 1)
        if before > 0:
            need = min(need, math.ceil(before / k))
    below = [v.impressions < need for v in alloc.variants]
    shares = list(alloc.shares.values())
    if all(below):
        assert max(shares) - min(shares) <= MICRO
        assert set(alloc.reasons.values()) == {"burn_in"}
    if any(below):
        assert (alloc.status, alloc.winner) == ("warming_up", None)
        for v, low in zip(alloc.variants, below, strict=True):
            assert not low or alloc.reasons[v.name] in ("burn_in", "new_variant")
