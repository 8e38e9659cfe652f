"""Warnings, reasons and estimates through the HTTP API: each warning fires on the data
built for it and stays away from clean data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
from banditkit.store import Snapshot

TODAY = dt.datetime.now(dt.UTC).date()


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def post(api: Any, exp: str, day: dt.date, counts: dict[str, tuple[int, int]]) -> None:
    body = {
        "experiment_id": exp,
        "date": day.isoformat(),
        "variants": [
            {"variant_name": v, "impressions": n, "clicks": c} for v, (n, c) in counts.items()
        ],
    }
    r = api.client.post("/events", json=body)
    assert r.status_code == 200, r.text


def steady(api: Any, exp: str, days: int, end: int = 1, seed: int = 1) -> None:
    """`days` days ending `end` days ago: 10,000 impressions a day split 50/50, 4% vs 5%."""
    rng = np.random.default_rng(seed)
    for i in range(end + days - 1, end - 1, -1):
        n = 5000
        post(
            api,
            exp,
            ago(i),
            {"a": (n, int(rng.binomial(n, 0.04))), "b": (n, int(rng.binomial(n, 0.05)))},
        )


def codes(body: dict[str, Any]) -> list[str]:
    return [w["code"] for w in body["warnings"]]


def read(api: Any, exp: str) -> tuple[dict[str, Any], dict[str, Any]]:
    alloc = api.client.get("/allocation", params={"experiment_id": exp})
    rep = api.client.get(f"/experiments/{exp}/report")
    assert alloc.status_code == 200, alloc.text
    assert rep.status_code == 200, rep.text
    return alloc.json(), rep.json()


def test_clean_data_has_no_warnings(api) -> None:
    exp = api.create(variants=["a", "b"])["id"]
    steady(api, exp, 14)
    for body in read(api, exp):
        assert body["warnings"] == []


def test_insufficient_data_names_each_variant_below_its_minimum(api) -> None:
    exp = api.create(variants=["a", "b"], settings={"min_impressions": 1000})["id"]
    post(api, exp, ago(1), {"a": (400, 20), "b": (1500, 60)})
    alloc, rep = read(api, exp)
    for body in (alloc, rep):
        found = [w for w in body["warnings"] if w["code"] == "insufficient_data"]
        assert [w["variant"] for w in found] == ["a"]
        assert "a has 400 impressions of its own" in found[0]["message"]
    assert [r["code"] for r in alloc["reasons"]] == ["exploring_new_variant"]
    assert alloc["reasons"][0]["variant"] == "a"


def test_burn_in_is_the_reason_for_an_even_split(api) -> None:
    exp = api.create(variants=["a", "b"])["id"]
    post(api, exp, ago(1), {"a": (100, 5), "b": (100, 6)})
    alloc, _ = read(api, exp)
    assert alloc["allocations"] == {"a": 0.5, "b": 0.5}
    assert [r["code"] for r in alloc["reasons"]] == ["burn_in"]
    assert codes(alloc) == ["insufficient_data", "insufficient_data"]


def drifting(api: Any, exp: str) -> None:
    """30 days ending yesterday: 4% vs 5% until 10 days ago, then the reverse."""
    rng = np.random.default_rng(2)
    for i in range(30, 0, -1):
        ra, rb = (0.04, 0.05) if i > 10 else (0.05, 0.04)
        post(
            api,
            exp,
            ago(i),
            {"a": (5000, int(rng.binomial(5000, ra))), "b": (5000, int(rng.binomial(5000, rb)))},
        )


def test_drift_is_suspected_from_the_day_of_the_change(api) -> None:
    exp = api.create(variants=["a", "b"])["id"]
    drifting(api, exp)
    alloc, rep = read(api, exp)
    for body in (alloc, rep):
        found = [w for w in body["warnings"] if w["code"] == "drift_suspected"]
        assert {w["variant"] for w in found} == {"a", "b"}
        assert {w["since"] for w in found} == {ago(10).isoformat()}
        assert "on_drift" in found[0]["message"]
    assert "drift_discount" not in [r["code"] for r in alloc["reasons"]]
    assert alloc["allocations"]["b"] > 0.5  # the pooled data still favour the old winner


def test_with_the_defaults_a_swap_is_warned_of_within_five_days(api) -> None:
    # Given an experiment with the default settings, served daily at the shares its
    # allocation recommends: 20,000 a day, b at 5% and a at 4% until the change 5 days
    # ago, then the reverse (adaptive exploration had left a 25 impressions a day)
    exp = api.create(variants=["a", "b"])["id"]
    rng = np.random.default_rng(4)
    reasons = {}
    for i in range(19, 0, -1):
        alloc, _ = read(api, exp)
        reasons[i] = {r["variant"]: r["code"] for r in alloc["reasons"]}
        rates = {"a": 0.05, "b": 0.04} if i <= 5 else {"a": 0.04, "b": 0.05}
        counts = {}
        for v, rate in rates.items():
            n = round(20_000 * alloc["allocations"][v])
            counts[v] = (n, int(rng.binomial(n, rate)))
        post(api, exp, ago(i), counts)
    # When allocation and report are read the day after the fifth day of the new rates
    alloc, rep = read(api, exp)
    # Then both warn of the change, dated on its day or just after it
    for body in (alloc, rep):
        found = [w for w in body["warnings"] if w["code"] == "drift_suspected"]
        assert {w["variant"] for w in found} == {"a", "b"}
        assert all(ago(5).isoformat() <= w["since"] <= ago(3).isoformat() for w in found)
    # and the watch was the reason the laggard's share rose once b's rate fell
    assert reasons[4] == {"a": "floor_active"}


def test_on_drift_discount_follows_the_new_best_and_says_why(api) -> None:
    exp = api.create(variants=["a", "b"], settings={"on_drift": "discount"})["id"]
    drifting(api, exp)
    alloc, _ = read(api, exp)
    assert alloc["settings"]["on_drift"] == "discount"
    assert "drift_suspected" in codes(alloc)
    assert [(r["code"], r["variant"]) for r in alloc["reasons"]] == [
        ("floor_active", "b"),
        ("drift_discount", None),
    ]
    assert "half-life of 2.5 days" in alloc["reasons"][1]["message"]  # 10 days since / 4
    assert alloc["allocations"]["a"] > 0.9


def test_on_drift_is_validated(api) -> None:
    r = api.client.post("/experiments", json={"name": "x", "settings": {"on_drift": "ignore"}})
    api.problem(r, 422, "settings.on_drift")


def snapshot(api: Any, exp: str, at: dt.datetime, shares: dict[str, float]) -> None:
    api.store.write_snapshot(
        Snapshot(
            experiment_id=exp,
            computed_at=at,
            trigger="schedule",
            allocations=shares,
            p_best=shares,
            totals={},
            data_fingerprint=f"test-{at.isoformat()}",
        )
    )


def test_split_mismatch_names_the_day_and_both_splits(api) -> None:
    exp = api.create(variants=["a", "b"])["id"]
    steady(api, exp, 5, end=2)
    # the shares recommended at the end of the day before yesterday: 10/90
    snapshot(api, exp, dt.datetime.combine(ago(2), dt.time(23), dt.UTC), {"a": 0.1, "b": 0.9})
    post(api, exp, ago(1), {"a": (5000, 200), "b": (5000, 250)})  # served 50/50
    alloc, rep = read(api, exp)
    for body in (alloc, rep):
        (found,) = [w for w in body["warnings"] if w["code"] == "split_mismatch"]
        day = ago(1).isoformat()
        assert found["dates"] == [day]
        assert found["observed"] == {day: {"a": 0.5, "b": 0.5}}
        assert found["expected"] == {day: {"a": 0.1, "b": 0.9}}


def test_a_split_served_as_recommended_passes(api) -> None:
    exp = api.create(variants=["a", "b"])["id"]
    steady(api, exp, 5, end=2)
    snapshot(api, exp, dt.datetime.combine(ago(2), dt.time(23), dt.UTC), {"a": 0.1, "b": 0.9})
    post(api, exp, ago(1), {"a": (1012, 40), "b": (8988, 450)})  # a multinomial-like day
    for body in read(api, exp):
        assert "split_mismatch" not in codes(body)


def test_stale_data_for_a_running_experiment_only(api) -> None:
    exp = api.create(variants=["a", "b"])["id"]
    steady(api, exp, 10, end=3)  # latest day three days ago
    alloc, rep = read(api, exp)
    for body in (alloc, rep):
        (found,) = [w for w in body["warnings"] if w["code"] == "stale_data"]
        assert found["latest_day"] == ago(3).isoformat()
    api.client.patch(f"/experiments/{exp}", json={"status": "paused"})
    for body in read(api, exp):
        assert "stale_data" not in codes(body)


def test_two_days_old_is_not_stale(api) -> None:
    exp = api.create(variants=["a", "b"])["id"]
    steady(api, exp, 10, end=2)
    for body in read(api, exp):
        assert "stale_data" not in codes(body)


def test_report_gives_pooled_and_period_weighted_estimates(api) -> None:
    # Simpson's paradox: b is 10% better on both days, but got most traffic on the low day
    exp = api.create(variants=[{"name": "a", "is_control": True}, {"name": "b"}])["id"]
    post(api, exp, ago(2), {"a": (90_000, 9_000), "b": (10_000, 1_100)})
    post(api, exp, ago(1), {"a": (10_000, 200), "b": (90_000, 1_980)})
    _, rep = read(api, exp)
    est = rep["estimates"]
    assert est["allocation_uses"] == "pooled"
    assert "period-weighted" in est["reason"]
    (lift,) = est["lifts"]
    assert lift["variant"] == "b"
    assert lift["pooled"]["value"] < 0
    assert lift["pooled"]["ci_high"] < 0
    assert abs(lift["stratified"]["value"] - 0.1) < 1e-9
    assert lift["stratified"]["ci_low"] > 0
    rates = {r["variant"]: r for r in est["rates"]}
    assert abs(rates["b"]["stratified"]["value"] - 0.066) < 1e-12
    assert rates["b"]["pooled"]["value"] == rep["variants"][1]["posterior_mean"]
    (found,) = [w for w in rep["warnings"] if w["code"] == "estimates_disagree"]
    assert found["variant"] == "b"


def test_estimates_agree_on_a_steady_split(api) -> None:
    exp = api.create(variants=[{"name": "a", "is_control": True}, {"name": "b"}])["id"]
    steady(api, exp, 14)
    _, rep = read(api, exp)
    (lift,) = rep["estimates"]["lifts"]
    assert abs(lift["pooled"]["value"] - lift["stratified"]["value"]) < 0.01
    assert "estimates_disagree" not in codes(rep)


def test_openapi_documents_warnings_reasons_and_estimates(client) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    warning = schemas["WarningOut"]["properties"]
    assert set(schemas["WarningOut"]["properties"]["code"]["enum"]) >= {
        "insufficient_data",
        "drift_suspected",
        "split_mismatch",
        "stale_data",
    }
    assert {"variant", "since", "dates", "observed", "expected", "latest_day"} <= set(warning)
    assert set(schemas["ReasonOut"]["properties"]["code"]["enum"]) == {
        "burn_in",
        "exploring_new_variant",
        "floor_active",
        "shift_limit",
        "drift_discount",
    }
    for name in ("AllocationOut", "ReportOut"):
        props = schemas[name]["properties"]
        assert "description" in props["warnings"]
        assert "description" in props["reasons"]
    assert "estimates" in schemas["ReportOut"]["properties"]
    assert "on_drift" in schemas["SettingsPatch"]["properties"]
