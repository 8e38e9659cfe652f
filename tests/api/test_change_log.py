"""The change log on GET /experiments/{id} and the latest data day of history items."""

from __future__ import annotations

from typing import Any

from banditkit.store import MAX_CHANGES


def changes(api: Any, exp_id: str) -> list[dict[str, Any]]:
    r = api.client.get(f"/experiments/{exp_id}")
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()["changes"]
    return out


def test_settings_variants_and_status_changes_are_logged_at_the_latest_data_day(api) -> None:
    # Given an experiment with three days of data (2025-01-01 .. 2025-01-03)
    exp = api.create(variants=["control", "variant_b", "variant_c"])
    exp_id = exp["id"]
    assert exp["changes"] == []
    patch = api.client.patch(f"/experiments/{exp_id}", json={"settings": {"control_floor": 0.2}})
    assert patch.status_code == 200
    api.post_days(exp_id, days=3)
    # When a setting changes, a variant is added, and the test is paused, resumed, completed
    for body in (
        {"settings": {"control_floor": 0.0, "window_days": 14}},
        {"variants": ["variant_d"]},
        {"status": "paused"},
        {"status": "running"},
        {"status": "completed"},
    ):
        r = api.client.patch(f"/experiments/{exp_id}", json=body)
        assert r.status_code == 200, r.text
    # Then each is logged, oldest first, with the latest data day at the time
    got = changes(api, exp_id)
    assert [(c["kind"], c["detail"], c["latest_day"]) for c in got] == [
        ("settings", "control_floor 0.1 → 0.2", None),
        ("settings", "control_floor 0.2 → 0.0; window_days none → 14", "2025-01-03"),
        ("variants_added", "added variant_d", "2025-01-03"),
        ("paused", "running → paused", "2025-01-03"),
        ("resumed", "paused → running", "2025-01-03"),
        ("completed", "running → completed", "2025-01-03"),
    ]
    assert all(c["at"].endswith("Z") for c in got)
    # and the PATCH answer carries the log too
    assert patch.json()["changes"] == got[:1]


def test_completing_with_a_shipped_variant_logs_which_one(api) -> None:
    exp_id = api.create(variants=["control", "variant_b", "variant_c"])["id"]
    api.post_days(exp_id, days=2)
    body = {"status": "completed", "shipped_variant": "variant_b"}
    assert api.client.patch(f"/experiments/{exp_id}", json=body).status_code == 200
    # and shipping another variant later moves all traffic, so it is logged too
    body = {"shipped_variant": "variant_c"}
    assert api.client.patch(f"/experiments/{exp_id}", json=body).status_code == 200
    assert [(c["kind"], c["detail"]) for c in changes(api, exp_id)] == [
        ("completed", "running → completed, shipped variant_b"),
        ("completed", "shipped variant_b → variant_c"),
    ]


def test_a_rename_or_an_unchanged_setting_logs_nothing(api) -> None:
    exp = api.create(variants=["control", "b"], settings={"control_floor": 0.2})
    for body in ({"name": "renamed"}, {"description": "x"}, {"settings": {"control_floor": 0.2}}):
        assert api.client.patch(f"/experiments/{exp['id']}", json=body).status_code == 200
    assert changes(api, exp["id"]) == []


def test_a_refused_patch_logs_nothing(api) -> None:
    exp = api.create(variants=["control", "b"])
    # a completion that would be logged, refused for its unknown shipped variant
    body = {"status": "completed", "shipped_variant": "zz"}
    r = api.client.patch(f"/experiments/{exp['id']}", json=body)
    api.problem(r, 422, "shipped_variant")
    assert changes(api, exp["id"]) == []
    assert api.client.get(f"/experiments/{exp['id']}").json()["status"] == "running"


def test_the_log_keeps_the_latest_changes_only(api) -> None:
    exp = api.create(variants=["control", "b"])
    for i in range(MAX_CHANGES + 5):
        body = {"settings": {"min_impressions": 100 + i}}
        assert api.client.patch(f"/experiments/{exp['id']}", json=body).status_code == 200
    got = changes(api, exp["id"])
    assert len(got) == MAX_CHANGES == 50
    assert got[0]["detail"] == "min_impressions 104 → 105"  # the first five went
    assert got[-1]["detail"] == f"min_impressions {100 + MAX_CHANGES + 3} → {100 + MAX_CHANGES + 4}"


def test_history_items_carry_the_latest_data_day_and_the_original_shape_stays(api) -> None:
    exp = api.create(variants=["control", "variant_b"])
    exp_id = exp["id"]
    for start in (0, 1, 4):  # days 2025-01-01, then -02, then -05 (a gap)
        api.post_days(exp_id, days=1, start=start, rates={"control": 0.03, "variant_b": 0.04})
        assert api.client.get("/allocation", params={"experiment_id": exp_id}).status_code == 200
    out = api.client.get(f"/experiments/{exp_id}/history").json()
    assert [i["latest_day"] for i in out["items"]] == ["2025-01-05", "2025-01-02", "2025-01-01"]
    # the original API's `history` keeps exactly its fields
    assert {frozenset(h) for h in out["history"]} == {
        frozenset({"date", "algorithm", "allocations", "total_impressions", "total_clicks"})
    }


def test_openapi_documents_the_change_log_and_latest_day(client) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    change = schemas["ChangeOut"]
    assert set(change["required"]) == {"at", "kind", "detail", "latest_day"}
    assert change["properties"]["kind"]["enum"] == [
        "settings",
        "variants_added",
        "paused",
        "resumed",
        "completed",
    ]
    assert schemas["ExperimentOut"]["properties"]["changes"]["items"] == {
        "$ref": "#/components/schemas/ChangeOut"
    }
    latest = schemas["SnapshotOut"]["properties"]["latest_day"]
    assert {"type": "string", "format": "date"} in latest["anyOf"]
    assert "latest data day" in latest["description"]
