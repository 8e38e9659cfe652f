"""allocation_rule through the API: accepted on create, PATCH and /simulate, refused with a
field-naming 422, and the sharpened rule fed its P(best) history from the snapshots."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from banditkit import engine
from banditkit.engine import DailyCounts, Settings
from banditkit.store import Snapshot

# Guardrails off: a flat prior, no damping, no floors, no burn-in (batched Thompson under
# allocation_rule "thompson").
OPEN = {
    "alpha_prior": 1.0,
    "beta_prior": 1.0,
    "null_prior": 0.0,
    "min_explore_rate": 0.0,
    "control_floor": 0.0,
    "min_impressions": 0,
}
RATES = {"a": 0.050, "b": 0.0486, "c": 0.0484}


def test_the_setting_is_stored_on_create_and_patch(api: Any) -> None:
    assert api.create()["settings"]["allocation_rule"] == "sharpened"  # the default
    exp = api.create(settings={"allocation_rule": "thompson"})
    assert exp["settings"]["allocation_rule"] == "thompson"
    r = api.client.patch(
        f"/experiments/{exp['id']}", json={"settings": {"allocation_rule": "sharpened"}}
    )
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["allocation_rule"] == "sharpened"
    got = api.client.get(f"/experiments/{exp['id']}").json()
    assert got["settings"]["allocation_rule"] == "sharpened"


@pytest.mark.parametrize("bad", ["greedy", 1, "Sharpened"])  # null means the default
def test_a_bad_value_is_a_422_naming_the_field_and_stores_nothing(api: Any, bad: Any) -> None:
    exp = api.create(variants=["a", "b"])
    before = api.state()
    body = {"settings": {"allocation_rule": bad}}
    api.problem(api.client.post("/experiments", json={"name": "x", **body}), 422,
                "settings.allocation_rule")  # fmt: skip
    api.problem(api.client.patch(f"/experiments/{exp['id']}", json=body), 422,
                "settings.allocation_rule")  # fmt: skip
    sim = {"variants": [{"name": "a", "rate": 0.05}], "daily_impressions": 100, "days": 2, **body}
    api.problem(api.client.post("/simulate", json=sim), 422, "settings.allocation_rule")
    assert api.state() == before


def test_simulate_compares_the_two_rules_on_the_same_traffic(api: Any) -> None:
    def run(rule: str) -> dict[str, Any]:
        body = {
            "variants": [{"name": n, "rate": r} for n, r in RATES.items()],
            "daily_impressions": 30_000,
            "days": 25,
            "seed": 1,
            "settings": {**OPEN, "allocation_rule": rule},
        }
        r = api.client.post("/simulate", json=body)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        return out

    thompson, sharp = run("thompson"), run("sharpened")
    assert sharp["days"][0] == thompson["days"][0]  # first day: no history, the same shares
    assert sharp["days"] != thompson["days"]
    for d in sharp["days"]:
        assert sum(round(s * 1_000_000) for s in d["shares"].values()) == 1_000_000


def test_the_service_feeds_the_rule_the_p_best_of_its_snapshots(api: Any) -> None:
    # Given a sharpened experiment read once a day (each read stores a snapshot),
    settings = {**OPEN, "allocation_rule": "sharpened"}
    exp = api.create(variants=list(RATES), settings=settings)
    for i in range(10):
        api.post_days(exp["id"], days=1, rates=RATES, impressions=10_000, start=i)
        r = api.client.get("/allocation", params={"experiment_id": exp["id"]})
        assert r.status_code == 200, r.text
    shares = r.json()["allocations"]
    # then the last read used the P(best) of the snapshots before it, oldest first:
    snaps = list(reversed(api.store.list_snapshots(exp["id"]).items))
    assert len(snaps) == 10
    history = [s.p_best for s in snaps[:-1]]
    days = [
        DailyCounts(r.date, r.variant_name, r.impressions, r.clicks, r.conversions)
        for r in api.store.read_daily(exp["id"])
    ]
    rule = Settings(**settings)  # type: ignore[arg-type]
    expected = engine.allocate(list(RATES), days, rule, history=history)
    thompson = engine.allocate(list(RATES), days, Settings(**OPEN, allocation_rule="thompson"))  # type: ignore[arg-type]
    assert shares == expected.shares
    assert shares != thompson.shares  # the rule changed something here
    assert shares["a"] > thompson.shares["a"]
    # A second read of the same data gives the same shares (its own snapshot is left out).
    again = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
    assert again["allocations"] == shares
    # The report answers the same shares (it reads the same history).
    report = api.client.get(f"/experiments/{exp['id']}/report").json()
    assert report["allocations"] == shares


def test_the_service_reads_the_last_14_days_of_snapshots(api: Any) -> None:
    # Given ten days of data with a clear leader, and two earlier snapshots of other data:
    # one 10 days old in which b and c stood higher than now (so they are not rising),
    # one 16 days old, past the rule's 14-day lookback,
    settings = {**OPEN, "allocation_rule": "sharpened"}
    exp = api.create(variants=list(RATES), settings=settings)
    api.post_days(exp["id"], days=10, rates=RATES, impressions=10_000)
    now = dt.datetime.now(dt.UTC)
    high = {"a": 0.4, "b": 0.3, "c": 0.3}
    for age, p_best in ((16, {"a": 0.1, "b": 0.1, "c": 0.1}), (10, high)):
        at = now - dt.timedelta(days=age)
        api.store.write_snapshot(Snapshot(exp["id"], at, "api", high, p_best, {}, f"data {age}"))
    # when the allocation is read,
    r = api.client.get("/allocation", params={"experiment_id": exp["id"]})
    assert r.status_code == 200, r.text
    # then the rule saw the 10-day-old P(best) only (a 7-day lookback would see none and
    # answer Thompson's shares).
    days = [
        DailyCounts(r.date, r.variant_name, r.impressions, r.clicks, r.conversions)
        for r in api.store.read_daily(exp["id"])
    ]
    rule = Settings(**settings)  # type: ignore[arg-type]
    expected = engine.allocate(list(RATES), days, rule, history=[high])
    thompson = engine.allocate(list(RATES), days, Settings(**OPEN, allocation_rule="thompson"))  # type: ignore[arg-type]
    assert expected.shares != thompson.shares
    assert r.json()["allocations"] == expected.shares
