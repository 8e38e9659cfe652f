"""Every invalid input raises InvalidSettings, and its `field` names the culprit."""

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from banditkit.engine import (
    DailyCounts,
    InvalidSettings,
    RateChange,
    Settings,
    allocate,
    report,
    simulate,
)

DAY = dt.date(2026, 3, 1)
OK = [DailyCounts(DAY, "a", 100, 5), DailyCounts(DAY, "b", 100, 6)]


def _alloc(**kw: Any) -> Callable[[], object]:
    args = {"variants": ["a", "b"], "days": OK, "settings": Settings()} | kw
    variants, days, settings = args.pop("variants"), args.pop("days"), args.pop("settings")
    return lambda: allocate(variants, days, settings, **args)


def _sim(**kw: Any) -> Callable[[], object]:
    args: dict[str, Any] = {
        "variant_names": ["a", "b"],
        "rates": [0.1, 0.2],
        "daily_impressions": 100,
        "days": 3,
        "settings": Settings(),
    } | kw
    return lambda: simulate(
        args.pop("variant_names"),
        args.pop("rates"),
        args.pop("daily_impressions"),
        args.pop("days"),
        args.pop("settings"),
        **args,
    )


CASES: list[tuple[str, Callable[[], object], str]] = [
    ("no variants", _alloc(variants=[]), "variants"),
    ("a string, not a list", _alloc(variants="ab"), "variants"),
    ("duplicate variants", _alloc(variants=["a", "a"]), "variants"),
    ("empty name", _alloc(variants=["a", ""]), "variants"),
    ("unknown control", _alloc(control="zzz"), "control"),
    ("row of an unknown variant", _alloc(days=[DailyCounts(DAY, "c", 1, 0)]), "variant"),
    ("two rows for one day", _alloc(days=[*OK, DailyCounts(DAY, "a", 5, 1)]), "day"),
    (
        "datetime instead of date",
        _alloc(days=[DailyCounts(dt.datetime(2026, 1, 1), "a", 1, 0)]),
        "day",
    ),
    ("negative impressions", _alloc(days=[DailyCounts(DAY, "a", -1, 0)]), "impressions"),
    ("float impressions", _alloc(days=[DailyCounts(DAY, "a", 1.5, 0)]), "impressions"),  # type: ignore[arg-type]
    ("bool clicks", _alloc(days=[DailyCounts(DAY, "a", 5, True)]), "clicks"),
    ("negative conversions", _alloc(days=[DailyCounts(DAY, "a", 5, 1, -2)]), "conversions"),
    ("more clicks than impressions", _alloc(days=[DailyCounts(DAY, "a", 5, 6)]), "clicks"),
    (
        "more conversions than impressions",
        _alloc(days=[DailyCounts(DAY, "a", 5, 0, 6)], settings=Settings(metric="conversion_rate")),
        "conversions",
    ),
    ("previous names a stranger", _alloc(previous={"zzz": 1.0}), "previous"),
    ("previous share above 1", _alloc(previous={"a": 1.5}), "previous"),
    ("previous share NaN", _alloc(previous={"a": float("nan")}), "previous"),
    ("as_of not a date", _alloc(as_of="2026-03-01"), "as_of"),
    ("as_of a datetime", _alloc(as_of=dt.datetime(2026, 3, 1, 12)), "as_of"),
    (
        "control floor infeasible",
        _alloc(settings=Settings(control_floor=0.99, min_explore_rate=1.0), control="a"),
        "control_floor",
    ),
    ("report validates too", lambda: report(["a"], OK, Settings()), "variant"),
    ("simulate: rate count", _sim(rates=[0.1]), "rates"),
    ("simulate: rate above 1", _sim(rates=[0.1, 1.2]), "rates"),
    ("simulate: rate NaN", _sim(rates=[0.1, float("nan")]), "rates"),
    ("simulate: impressions 0", _sim(daily_impressions=0), "daily_impressions"),
    ("simulate: days 0", _sim(days=0), "days"),
    ("simulate: negative seed", _sim(seed=-1), "seed"),
    ("simulate: change day", _sim(changes=[RateChange(-1, (0.1, 0.1))]), "changes"),
    ("simulate: change rates", _sim(changes=[RateChange(1, (0.1,))]), "changes"),
    ("simulate: unknown control", _sim(control="zzz"), "control"),
]


@pytest.mark.parametrize(
    ("call", "field"), [(c, f) for _, c, f in CASES], ids=[n for n, _, _ in CASES]
)
def test_invalid_input_names_the_field(call: Callable[[], object], field: str) -> None:
    with pytest.raises(InvalidSettings) as err:
        call()
    assert err.value.field == field


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"null_prior": 1.0}, "null_prior"),
        ({"null_prior": -0.1}, "null_prior"),
        ({"effect_scale": 0}, "effect_scale"),
        ({"winner_p_best": 0}, "winner_p_best"),
        ({"winner_loss_share": 2}, "winner_loss_share"),
        ({"min_impressions": True}, "min_impressions"),
        ({"window_days": 1.5}, "window_days"),
    ],
)
def test_more_settings_are_validated(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidSettings) as err:
        Settings(**kwargs)  # type: ignore[arg-type]
    assert err.value.field == field
