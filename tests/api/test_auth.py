"""x-api-key on every route when keys are configured; the admin reset's own rules."""

from __future__ import annotations

import pytest
from banditkit.http.auth import key_matches

KEY = "k-123456"
OTHER = "k-654321"

# Every route but /health (open: it reveals no data) with a body that would otherwise pass.
ROUTES = [
    ("POST", "/experiments", {"name": "x"}),
    ("GET", "/experiments", None),
    ("GET", "/experiments/exp_1", None),
    ("PATCH", "/experiments/exp_1", {"name": "y"}),
    ("DELETE", "/experiments/exp_1", None),
    (
        "POST",
        "/events",
        {
            "experiment_id": "exp_1",
            "date": "2025-01-01",
            "variants": [{"variant_name": "a", "impressions": 1, "clicks": 0}],
        },
    ),
    ("POST", "/experiments/exp_1/import", None),
    ("GET", "/allocation?experiment_id=exp_1", None),
    ("GET", "/experiments/exp_1/report", None),
    ("GET", "/assign?experiment_id=exp_1&unit_id=u", None),
    (
        "POST",
        "/simulate",
        {"variants": [{"name": "a", "rate": 0.1}], "daily_impressions": 10, "days": 2},
    ),
    ("GET", "/experiments/exp_1/history", None),
    ("GET", "/experiments/exp_1/metrics", None),
    ("POST", "/reset_data", None),
]


@pytest.fixture
def locked(make_client, api):
    api.create(id="exp_1", variants=["a"])
    return make_client(api_keys=f"{KEY}, {OTHER}", admin_key="adm", enable_reset=True)


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_every_route_rejects_missing_and_wrong_keys(locked, api, method, path, body) -> None:
    before = api.state()
    missing = locked.request(method, path, json=body)
    api.problem(missing, 401, "X-Api-Key")
    wrong = locked.request(method, path, json=body, headers={"x-api-key": KEY + "x"})
    api.problem(wrong, 403, "X-Api-Key")
    assert api.state() == before


def test_either_configured_key_works(locked) -> None:
    for key in (KEY, OTHER):
        r = locked.get("/experiments/exp_1", headers={"x-api-key": key})
        assert r.status_code == 200
        assert r.json()["id"] == "exp_1"


def test_health_is_open_and_says_auth_is_required(locked) -> None:
    r = locked.get("/health")
    assert r.status_code == 200
    assert r.json()["auth_required"] is True
    assert r.json()["reset_enabled"] is True


def test_reset_is_hidden_unless_enabled(make_client, api) -> None:
    api.create(id="exp_1")
    for values in ({}, {"enable_reset": True}, {"admin_key": "adm"}):
        c = make_client(**values)
        api.problem(c.post("/reset_data", headers={"x-admin-key": "adm"}), 404)
    assert api.store.get_experiment("exp_1").id == "exp_1"


def test_reset_needs_the_admin_key(make_client, api) -> None:
    api.create(id="exp_1")
    c = make_client(admin_key="adm", enable_reset=True)
    api.problem(c.post("/reset_data"), 401, "X-Admin-Key")
    api.problem(c.post("/reset_data", headers={"x-admin-key": "nope"}), 403, "X-Admin-Key")
    assert len(api.state()) == 1
    r = c.post("/reset_data", headers={"x-admin-key": "adm"})
    assert r.status_code == 200
    assert r.json() == {"status": "reset"}
    assert api.state() == {}


def test_key_comparison() -> None:
    assert key_matches("a", ("b", "a"))
    assert not key_matches("a", ("b", "ab", ""))
    assert not key_matches("", ())
