"""Every endpoint through FastAPI's TestClient on a temporary SQLite store."""

from __future__ import annotations

import math

import pytest
from banditkit import service


def test_health_reports_store_and_flags(client) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json() == {
        "status": "ok",
        "store": "sqlite",
        "version": "0.1.0",
        "reset_enabled": False,
        "auth_required": False,
    }


def test_create_with_declared_variants_and_settings(api) -> None:
    exp = api.create(
        name="homepage",
        description="cta",
        variants=[{"name": "a", "is_control": True}, {"name": "b"}],
        settings={"control_floor": 0.2, "window_days": 14},
    )
    assert exp["status"] == "running"
    assert exp["variants"] == [
        {"name": "a", "is_control": True},
        {"name": "b", "is_control": False},
    ]
    assert exp["variants_declared"] is True
    assert exp["control"] == "a"
    assert exp["settings"]["control_floor"] == 0.2
    assert exp["settings"]["window_days"] == 14
    assert exp["settings"]["min_explore_rate"] == 0.05  # default kept
    got = api.client.get(f"/experiments/{exp['id']}").json()
    assert got == exp


def test_create_with_client_id_and_plain_variant_names(api) -> None:
    exp = api.create(id="exp_1", variants=["control", "b"])
    assert exp["id"] == "exp_1"
    assert exp["control"] == "control"  # named control, no flag
    r = api.client.post("/experiments", json={"id": "exp_1", "name": "again"})
    api.problem(r, 409)


def test_list_paginates_and_filters(api) -> None:
    ids = [api.create(name=f"e{i}")["id"] for i in range(5)]
    api.client.patch(f"/experiments/{ids[1]}", json={"status": "paused"})
    first = api.client.get("/experiments", params={"limit": 2}).json()
    assert [e["id"] for e in first["items"]] == ids[:2]
    rest = api.client.get("/experiments", params={"limit": 10, "cursor": first["next_cursor"]})
    assert [e["id"] for e in rest.json()["items"]] == ids[2:]
    assert rest.json()["next_cursor"] is None
    paused = api.client.get("/experiments", params={"status": "paused"}).json()
    assert [e["id"] for e in paused["items"]] == [ids[1]]


def test_patch_changes_fields_and_adds_variants(api) -> None:
    exp = api.create(variants=["control", "b"])
    r = api.client.patch(
        f"/experiments/{exp['id']}",
        json={"name": "renamed", "settings": {"min_impressions": 0}, "variants": ["c"]},
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["name"] == "renamed"
    assert [v["name"] for v in out["variants"]] == ["control", "b", "c"]
    assert out["settings"]["min_impressions"] == 0
    assert out["updated_at"] > exp["updated_at"]
    # c is now accepted by POST /events
    api.post_days(exp["id"], days=1, rates={"c": 0.1})


def test_delete_removes_experiment_and_data(api) -> None:
    exp = api.create()
    api.post_days(exp["id"], days=2)
    api.client.get("/allocation", params={"experiment_id": exp["id"]})
    r = api.client.delete(f"/experiments/{exp['id']}")
    assert r.status_code == 204
    assert r.content == b""
    api.problem(api.client.get(f"/experiments/{exp['id']}"), 404, "experiment_id")
    assert api.store.read_daily(exp["id"]) == []
    api.problem(api.client.delete(f"/experiments/{exp['id']}"), 404)


def test_events_set_replaces_and_increment_adds(api) -> None:
    exp = api.create()
    body = {
        "experiment_id": exp["id"],
        "date": "2025-01-15",
        "variants": [
            {"variant_name": "control", "impressions": 100, "clicks": 3, "conversions": 1},
            {"name": "variant_b", "impressions": 200, "clicks": 9},
        ],
    }
    r = api.client.post("/events", json=body)
    assert r.json() == {
        "experiment_id": exp["id"],
        "date": "2025-01-15",
        "mode": "set",
        "variants_processed": 2,
        "total_impressions": 300,
        "total_clicks": 12,
        "total_conversions": 1,
        "replayed": False,
    }
    api.client.post("/events", json=body)  # a retried set never double counts
    rows = api.store.read_daily(exp["id"])
    assert [(r.variant_name, r.impressions, r.clicks) for r in rows] == [
        ("control", 100, 3),
        ("variant_b", 200, 9),
    ]
    r = api.client.post("/events", json={**body, "mode": "increment"})
    assert r.status_code == 200
    rows = api.store.read_daily(exp["id"])
    assert [(r.variant_name, r.impressions, r.clicks) for r in rows] == [
        ("control", 200, 6),
        ("variant_b", 400, 18),
    ]
    # variants appear with their first events when none were declared
    got = api.client.get(f"/experiments/{exp['id']}").json()
    assert [v["name"] for v in got["variants"]] == ["control", "variant_b"]
    assert got["variants_declared"] is False


def test_idempotency_key_replays_and_conflicts(api) -> None:
    exp = api.create()
    body = {
        "experiment_id": exp["id"],
        "date": "2025-01-15",
        "mode": "increment",
        "variants": [{"variant_name": "a", "impressions": 10, "clicks": 1}],
    }
    headers = {"Idempotency-Key": "upload-1"}
    first = api.client.post("/events", json=body, headers=headers)
    again = api.client.post("/events", json=body, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == {**first.json(), "replayed": True}
    assert api.store.read_daily(exp["id"])[0].impressions == 10  # added once
    other = {**body, "variants": [{"variant_name": "a", "impressions": 11, "clicks": 1}]}
    api.problem(api.client.post("/events", json=other, headers=headers), 409, "Idempotency-Key")
    assert api.store.read_daily(exp["id"])[0].impressions == 10


def test_csv_import_stores_all_rows(api) -> None:
    exp = api.create(variants=["control", "b"])
    csv = (
        "date,variant_name,impressions,clicks,conversions,experiment_id\n"
        f"2025-01-01,control,100,3,1,{exp['id']}\n"
        "2025-01-01,b,100,5,2,\n"
        "\n"
        "2025-01-02,control,50,1,0,\n"
    )
    r = api.client.post(
        f"/experiments/{exp['id']}/import", content=csv, headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    assert r.json() == {
        "experiment_id": exp["id"],
        "mode": "set",
        "rows_imported": 3,
        "days": 2,
        "variants": ["control", "b"],
        "total_impressions": 250,
        "total_clicks": 9,
        "total_conversions": 3,
        "replayed": False,
    }
    assert len(api.store.read_daily(exp["id"])) == 3


def test_csv_import_with_an_idempotency_key_counts_once(api) -> None:
    exp = api.create(variants=["control", "b"])
    csv = "date,variant_name,impressions,clicks\n2025-01-01,control,100,3\n2025-01-01,b,90,5\n"
    url = f"/experiments/{exp['id']}/import?mode=increment"
    headers = {"content-type": "text/csv", "Idempotency-Key": "file-1"}
    first = api.client.post(url, content=csv, headers=headers)
    assert (first.status_code, first.json()["replayed"]) == (200, False)
    again = api.client.post(url, content=csv, headers=headers)
    assert again.json() == {**first.json(), "replayed": True}
    stored = {r.variant_name: r.impressions for r in api.store.read_daily(exp["id"])}
    assert stored == {"control": 100, "b": 90}  # added once
    other = csv.replace("90,5", "91,5")
    api.problem(api.client.post(url, content=other, headers=headers), 409, "Idempotency-Key")
    # the key covers the mode too: the same file in set mode is another request
    set_url = f"/experiments/{exp['id']}/import?mode=set"
    api.problem(api.client.post(set_url, content=csv, headers=headers), 409, "Idempotency-Key")
    assert {r.variant_name: r.impressions for r in api.store.read_daily(exp["id"])} == stored


def test_csv_import_lists_every_bad_row_and_stores_nothing(api) -> None:
    exp = api.create(variants=["control", "b"])
    csv = (
        "date,variant_name,impressions,clicks\n"
        "2025-01-01,control,100,3\n"
        "2025-01-01,b,100,500\n"  # clicks > impressions
        "2025-13-01,b,100,5\n"  # bad date
        "2025-01-02,nope,100,5\n"  # undeclared variant
        "2025-01-02,b,-4,0\n"  # negative
        "2025-01-01,control,100,3\n"  # duplicate
    )
    before = api.state()
    r = api.client.post(f"/experiments/{exp['id']}/import", content=csv)
    body = api.problem(r, 422)
    fields = [e["field"] for e in body["errors"]]
    assert fields == [
        "line.3.clicks",
        "line.4.date",
        "line.5.variant_name",
        "line.6.impressions",
        "line.7",
    ]
    assert api.state() == before


def test_allocation_warming_up_without_data(api) -> None:
    exp = api.create(variants=["control", "b", "c"])
    r = api.client.get("/allocation", params={"experiment_id": exp["id"]})
    out = r.json()
    assert out["status"] == "warming_up"
    assert out["allocations"] == {"control": 0.333334, "b": 0.333333, "c": 0.333333}
    assert out["algorithm"] == "thompson_sampling"


def test_allocation_without_any_variant_is_an_empty_even_split(api) -> None:
    exp = api.create()
    out = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
    assert out["allocations"] == {}
    assert out["status"] == "warming_up"
    api.problem(api.client.get("/assign", params={"experiment_id": exp["id"], "unit_id": "u"}), 409)


def test_allocation_favours_the_best_and_snapshots_only_on_change(api) -> None:
    exp = api.create(variants=["control", "variant_b", "variant_c"])
    api.post_days(exp["id"], days=30)
    first = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
    shares = first["allocations"]
    assert math.isclose(sum(shares.values()), 1.0, abs_tol=1e-9)
    assert max(shares, key=shares.get) == "variant_b"
    assert shares["control"] >= 0.1 - 1e-9  # control floor
    assert first["status"] in ("optimizing", "winner_found")
    assert {v["name"] for v in first["variants"]} == set(shares)
    for _ in range(3):
        again = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
        assert again["allocations"] == shares
        assert again["data_fingerprint"] == first["data_fingerprint"]
    history = api.client.get(f"/experiments/{exp['id']}/history").json()
    assert len(history["items"]) == 1
    assert history["items"][0]["trigger"] == "api"
    assert history["items"][0]["allocations"] == shares
    api.post_days(exp["id"], days=1, start=30)
    api.client.get("/allocation", params={"experiment_id": exp["id"]})
    assert len(api.client.get(f"/experiments/{exp['id']}/history").json()["items"]) == 2
    # a window override answers with its window; unchanged data stores nothing more
    w = api.client.get("/allocation", params={"experiment_id": exp["id"], "window_days": 3})
    assert w.json()["settings"]["window_days"] == 3
    assert len(api.client.get(f"/experiments/{exp['id']}/history").json()["items"]) == 2
    # new data read through a window stores the snapshot of the experiment's own settings
    api.post_days(exp["id"], days=1, start=31)
    w = api.client.get("/allocation", params={"experiment_id": exp["id"], "window_days": 3})
    items = api.client.get(f"/experiments/{exp['id']}/history").json()["items"]
    assert len(items) == 3
    unwindowed = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
    assert items[0]["data_fingerprint"] == unwindowed["data_fingerprint"]
    assert items[0]["data_fingerprint"] != w.json()["data_fingerprint"]


def test_max_daily_shift_counts_from_the_previous_snapshot(api) -> None:
    exp = api.create(
        variants=["control", "variant_b"],
        settings={"max_daily_shift": 0.1, "min_impressions": 0},
    )
    first = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
    assert first["allocations"] == {"control": 0.5, "variant_b": 0.5}
    api.post_days(exp["id"], days=30, rates={"control": 0.02, "variant_b": 0.05})
    second = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
    assert second["allocations"]["variant_b"] == pytest.approx(0.6, abs=1e-6)
    again = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
    assert again["allocations"] == second["allocations"]  # same data: no further drift


def test_paused_and_completed_freeze_the_last_shares(api) -> None:
    exp = api.create(variants=["control", "variant_b", "variant_c"])
    api.post_days(exp["id"], days=30)
    live = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
    for status in ("paused", "completed"):
        api.client.patch(f"/experiments/{exp['id']}", json={"status": status})
        api.post_days(
            exp["id"], days=5, start=30, rates={"control": 0.2, "variant_b": 0.0, "variant_c": 0.0}
        )
        out = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
        assert out["status"] == status
        assert out["allocations"] == live["allocations"]
    assert len(api.client.get(f"/experiments/{exp['id']}/history").json()["items"]) == 1
    report = api.client.get(f"/experiments/{exp['id']}/report").json()
    assert report["status"] == "completed"
    assert report["allocations"] == live["allocations"]


def test_frozen_without_snapshot_is_an_even_split(api) -> None:
    exp = api.create(variants=["a", "b"])
    api.client.patch(f"/experiments/{exp['id']}", json={"status": "completed"})
    out = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()
    assert out["allocations"] == {"a": 0.5, "b": 0.5}
    assert out["status"] == "completed"


def test_report_has_lifts_against_control(api) -> None:
    exp = api.create(variants=["control", "variant_b", "variant_c"])
    api.post_days(exp["id"], days=14)
    r = api.client.get(f"/experiments/{exp['id']}/report").json()
    assert r["control"] == "control"
    assert [lf["variant"] for lf in r["lifts"]] == ["variant_b", "variant_c"]
    b = r["lifts"][0]
    assert b["ci_low"] < b["lift"] < b["ci_high"]
    assert b["lift"] == pytest.approx(0.04 / 0.03 - 1, abs=0.05)
    assert r["recommendation"]
    assert r["regret_so_far"] >= 0


def test_report_gives_regret_and_gain_day_by_day(api) -> None:
    exp = api.create(variants=["control", "variant_b", "variant_c"])
    api.post_days(exp["id"], days=5)
    r = api.client.get(f"/experiments/{exp['id']}/report").json()
    series = r["regret_by_day"]
    assert [d["date"] for d in series] == [api.day(i) for i in range(5)]
    regrets = [d["regret"] for d in series]
    assert regrets == sorted(regrets)  # cumulative, and regret per day is never negative
    assert regrets[0] > 0
    assert series[-1]["regret"] == pytest.approx(r["regret_so_far"], rel=1e-12)
    assert series[-1]["gained"] == pytest.approx(r["gained_vs_even"], rel=1e-12)


def test_history_filters_and_metrics_series(api) -> None:
    exp = api.create(variants=["control", "variant_b", "variant_c"])
    api.post_days(exp["id"], days=3)
    api.client.get("/allocation", params={"experiment_id": exp["id"]})
    h = api.client.get(
        f"/experiments/{exp['id']}/history", params={"from": "2000-01-01", "to": "2000-01-02"}
    ).json()
    assert h["items"] == []
    m = api.client.get(f"/experiments/{exp['id']}/metrics").json()
    assert [d["date"] for d in m["days"]] == [api.day(0), api.day(1), api.day(2)]
    assert m["days"][0]["variants"][0] == {
        "variant_name": "control",
        "impressions": 1000,
        "clicks": 30,
        "conversions": 0,
    }
    m2 = api.client.get(
        f"/experiments/{exp['id']}/metrics", params={"from": api.day(1), "to": api.day(1)}
    ).json()
    assert [d["date"] for d in m2["days"]] == [api.day(1)]
    api.problem(
        api.client.get(f"/experiments/{exp['id']}/history", params={"cursor": "bogus"}),
        400,
        "cursor",
    )


def test_assign_is_deterministic_and_follows_the_shares(api) -> None:
    exp = api.create(variants=["control", "variant_b", "variant_c"])
    api.post_days(exp["id"], days=30)
    shares = api.client.get("/allocation", params={"experiment_id": exp["id"]}).json()[
        "allocations"
    ]
    counts = dict.fromkeys(shares, 0)
    for i in range(2000):
        counts[service.pick(shares, service.unit_point(exp["id"], f"user-{i}"))] += 1
    for name, share in shares.items():
        assert counts[name] / 2000 == pytest.approx(share, abs=0.03)
    r1 = api.client.get("/assign", params={"experiment_id": exp["id"], "unit_id": "user-7"})
    r2 = api.client.get("/assign", params={"experiment_id": exp["id"], "unit_id": "user-7"})
    assert r1.json() == r2.json()
    assert r1.json()["variant"] == service.pick(shares, service.unit_point(exp["id"], "user-7"))


def test_simulate_runs_the_engine_and_caps_sizes(api) -> None:
    body = {
        "variants": [{"name": "control", "rate": 0.03}, {"name": "b", "rate": 0.05}],
        "daily_impressions": 2000,
        "days": 20,
        "seed": 7,
    }
    r = api.client.post("/simulate", json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["variants"] == ["control", "b"]
    assert len(out["days"]) == 20
    assert out["days"][-1]["shares"]["b"] > 0.5
    assert out["days"][-1]["cumulative_regret"] < out["days"][-1]["even_cumulative_regret"]
    assert api.client.post("/simulate", json=body).json() == out  # seeded
    big = {**body, "variants": [{"name": f"v{i}", "rate": 0.01} for i in range(10)], "days": 200}
    api.problem(api.client.post("/simulate", json=big), 413)
    api.problem(api.client.post("/simulate", json={**body, "days": 366}), 422, "days")


def test_unknown_route_and_method_are_problems(client) -> None:
    from_route = client.get("/nope")
    assert from_route.status_code == 404
    assert from_route.headers["content-type"] == "application/problem+json"
    r = client.put("/events", json={})
    assert r.status_code == 405
    assert r.json()["status"] == 405
