"""Period-weighted estimates: golden values, and Simpson's paradox, where the pooled lift
has the wrong sign and the day-weighted one the right sign."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from banditkit.engine import DailyCounts, Settings, report
from banditkit.engine.posterior import count
from banditkit.engine.stratified import Z95, lift, rate

D1, D2 = dt.date(2026, 3, 2), dt.date(2026, 3, 3)
# variant_b is 10% better than the control on both days; the control got most of the
# traffic on the high-rate day and variant_b most of it on the low-rate day.
SIMPSON = [
    DailyCounts(D1, "control", 90_000, 9_000),  # 10%
    DailyCounts(D1, "variant_b", 10_000, 1_100),  # 11%
    DailyCounts(D2, "control", 10_000, 200),  # 2%
    DailyCounts(D2, "variant_b", 90_000, 1_980),  # 2.2%
]
NAMES = ["control", "variant_b"]


def test_simpson_pooled_lift_is_wrong_and_the_stratified_one_right() -> None:
    pooled = report(NAMES, SIMPSON, Settings(), control="control").lifts[0]
    assert pooled.lift == pytest.approx(3080 / 9200 - 1, abs=1e-3)  # about −67%
    assert pooled.ci_high < 0
    counted = count(NAMES, SIMPSON, Settings(), control="control")
    strat = lift(counted, 1, 0)
    assert strat is not None
    assert strat.value == pytest.approx(0.066 / 0.06 - 1, rel=1e-12)  # +10%, the truth
    assert 0 < strat.ci_low < 0.1 < strat.ci_high


def test_rate_is_the_day_weighted_mean_with_its_variance() -> None:
    counted = count(NAMES, SIMPSON, Settings())
    b = rate(counted, 1)
    assert b is not None
    assert b.value == pytest.approx(0.5 * 0.11 + 0.5 * 0.022, rel=1e-12)
    var = 0.25 * sum(
        (s + 0.5) / (n + 1) * (1 - (s + 0.5) / (n + 1)) / n
        for n, s in ((10_000, 1_100), (90_000, 1_980))
    )
    assert b.ci_high - b.value == pytest.approx(Z95 * math.sqrt(var), rel=1e-9)


def test_a_steady_split_gives_the_pooled_rate() -> None:
    days = [
        DailyCounts(D1, "a", 1000, 50),
        DailyCounts(D1, "b", 1000, 60),
        DailyCounts(D2, "a", 3000, 90),
        DailyCounts(D2, "b", 3000, 120),
    ]
    counted = count(["a", "b"], days, Settings())
    a = rate(counted, 0)
    assert a is not None
    assert a.value == pytest.approx(140 / 4000, rel=1e-12)  # weights equal the shares


def test_days_a_variant_was_not_served_do_not_count() -> None:
    days = [
        DailyCounts(D1, "a", 1000, 50),
        DailyCounts(D2, "a", 1000, 100),
        DailyCounts(D2, "b", 1000, 80),
    ]
    counted = count(["a", "b", "c"], days, Settings())
    assert rate(counted, 1) is not None
    assert rate(counted, 1).value == pytest.approx(0.08)
    assert rate(counted, 2) is None  # never served
    both = lift(counted, 1, 0)
    assert both is not None
    assert both.value == pytest.approx(0.08 / 0.1 - 1)
    assert lift(counted, 2, 0) is None
    none = count(["a", "b"], [DailyCounts(D1, "a", 10, 0), DailyCounts(D1, "b", 10, 1)], Settings())
    assert lift(none, 1, 0) is None  # no successes on the control: no ratio
