"""The list and the lifecycle through the API, on every store backend: search, status and
order across pages, each experiment's leader, and shipping a variant on completing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from banditkit.config import AppConfig
from banditkit.http.app import create_app
from banditkit.store import Store
from fastapi.testclient import TestClient


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    config = AppConfig(
        store_url="sqlite:///unused.db",
        api_keys="",
        admin_key=None,
        enable_reset=False,
        cors_origins="",
        tracing=False,
    )
    with TestClient(create_app(store=store, config=config)) as c:
        yield c


def create(client: TestClient, eid: str, name: str) -> dict[str, Any]:
    r = client.post(
        "/experiments", json={"id": eid, "name": name, "variants": ["control", "b", "c"]}
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def post_day(client: TestClient, eid: str, clicks: dict[str, int]) -> None:
    body = {
        "experiment_id": eid,
        "date": "2025-01-15",
        "variants": [
            {"variant_name": n, "impressions": 1000, "clicks": c} for n, c in clicks.items()
        ],
    }
    assert client.post("/events", json=body).status_code == 200


def problem_fields(r: Any, status: int) -> list[str]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return [e["field"] for e in r.json()["errors"]]


def listed(client: TestClient, **params: Any) -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        query = {**params, "limit": 2} | ({"cursor": cursor} if cursor else {})
        r = client.get("/experiments", params=query)
        assert r.status_code == 200, r.text
        ids += [e["id"] for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return ids


def test_search_status_and_order_run_on_the_server_across_pages(client: TestClient) -> None:
    for i, name in enumerate(["Hero A", "Checkout", "hero b", "Pricing", "HERO c"]):
        create(client, f"e{i}", name)
    client.patch("/experiments/e2", json={"status": "paused"})
    assert listed(client, q="hero") == ["e0", "e2", "e4"]
    assert listed(client, q="hero", order="newest") == ["e4", "e2", "e0"]
    assert listed(client, q="HERO", status="running", order="newest") == ["e4", "e0"]
    assert listed(client, q="e3") == ["e3"]  # the id
    assert listed(client, q="") == ["e0", "e1", "e2", "e3", "e4"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"order": "sideways"}, "order"),
        ({"q": "x" * 101}, "q"),
        ({"q": "a\x01b"}, "q"),
        ({"q": "line\nbreak"}, "q"),
        ({"status": "archived"}, "status"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_field(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    assert field in problem_fields(client.get("/experiments", params=params), 422)


def test_each_listed_experiment_carries_its_leader(client: TestClient) -> None:
    create(client, "e1", "With data")
    create(client, "e2", "Without data")
    post_day(client, "e1", {"control": 30, "b": 60, "c": 31})
    allocation = client.get("/allocation", params={"experiment_id": "e1"}).json()
    best = max(allocation["variants"], key=lambda v: v["p_best"])
    items = {e["id"]: e for e in client.get("/experiments").json()["items"]}
    assert items["e1"]["leader"] == {"variant": "b", "p_best": best["p_best"]}
    assert best["name"] == "b"
    assert items["e2"]["leader"] is None


def test_completing_with_a_shipped_variant_sends_it_all_traffic(client: TestClient) -> None:
    create(client, "e1", "Ship it")
    post_day(client, "e1", {"control": 30, "b": 60, "c": 31})
    running = client.get("/allocation", params={"experiment_id": "e1"}).json()["allocations"]
    assert 0 < running["control"] < 1
    r = client.patch("/experiments/e1", json={"status": "completed", "shipped_variant": "b"})
    assert r.status_code == 200, r.text
    assert r.json()["shipped_variant"] == "b"
    assert client.get("/experiments/e1").json()["shipped_variant"] == "b"
    out = client.get("/allocation", params={"experiment_id": "e1"}).json()
    assert out["status"] == "completed"
    assert out["allocations"] == {"control": 0.0, "b": 1.0, "c": 0.0}
    assert {v["name"]: v["allocation"] for v in out["variants"]} == out["allocations"]
    # /assign follows: every unit gets the shipped variant
    for unit in ("u1", "u2", "u3", "u4", "u5", "u6"):
        r = client.get("/assign", params={"experiment_id": "e1", "unit_id": unit})
        assert r.json()["variant"] == "b", r.text
    # another variant may be shipped instead while completed
    client.patch("/experiments/e1", json={"shipped_variant": "c"})
    out = client.get("/allocation", params={"experiment_id": "e1"}).json()
    assert out["allocations"] == {"control": 0.0, "b": 0.0, "c": 1.0}
    # reopening drops it, and the engine allocates again
    r = client.patch("/experiments/e1", json={"status": "running"})
    assert r.json()["shipped_variant"] is None
    again = client.get("/allocation", params={"experiment_id": "e1"}).json()["allocations"]
    assert 0 < again["control"] < 1


def test_completing_without_a_shipped_variant_keeps_the_frozen_split(client: TestClient) -> None:
    create(client, "e1", "Frozen")
    post_day(client, "e1", {"control": 30, "b": 60, "c": 31})
    running = client.get("/allocation", params={"experiment_id": "e1"}).json()["allocations"]
    r = client.patch("/experiments/e1", json={"status": "completed"})
    assert r.json()["shipped_variant"] is None
    out = client.get("/allocation", params={"experiment_id": "e1"}).json()
    assert out["allocations"] == running
    # shipping none explicitly is the same
    client.patch("/experiments/e1", json={"shipped_variant": "b"})
    client.patch("/experiments/e1", json={"shipped_variant": None})
    out = client.get("/allocation", params={"experiment_id": "e1"}).json()
    assert out["allocations"] == running


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "completed", "shipped_variant": "nope"}, "unknown variant 'nope'"),
        ({"shipped_variant": "b"}, "only a completed experiment"),
        ({"status": "paused", "shipped_variant": "b"}, "only a completed experiment"),
        ({"status": "completed", "shipped_variant": ""}, None),
        ({"status": "completed", "shipped_variant": 3}, None),
    ],
)
def test_a_bad_shipped_variant_is_refused_and_changes_nothing(
    client: TestClient, body: dict[str, Any], message: str | None
) -> None:
    before = create(client, "e1", "Ship it")
    r = client.patch("/experiments/e1", json=body)
    assert "shipped_variant" in problem_fields(r, 422)
    if message:
        assert any(message in e["message"] for e in r.json()["errors"])
    assert client.get("/experiments/e1").json() == before


def test_a_page_of_the_list_reads_no_snapshot_per_experiment(
    client: TestClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(4):
        create(client, f"e{i}", f"Exp {i}")
        post_day(client, f"e{i}", {"control": 30, "b": 60, "c": 31})
        client.get("/allocation", params={"experiment_id": f"e{i}"})
    calls: list[str] = []
    for name in ("latest_snapshot", "list_snapshots", "get_experiment", "read_daily"):
        monkeypatch.setattr(store, name, lambda *a, _n=name, **k: calls.append(_n))
    real = store.list_experiments
    monkeypatch.setattr(
        store, "list_experiments", lambda *a, **k: calls.append("list") or real(*a, **k)
    )
    items = client.get("/experiments", params={"order": "newest"}).json()["items"]
    assert [e["leader"]["variant"] for e in items] == ["b"] * 4
    assert calls == ["list"]
