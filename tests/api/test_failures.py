"""Store outages, unexpected errors and the recompute job's paging, order and deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from banditkit import service
from banditkit.config import AppConfig
from banditkit.http.app import create_app
from banditkit.store import StoreUnavailable
from fastapi.testclient import TestClient

CONFIG = AppConfig(store_url="sqlite:///unused.db", api_keys="", cors_origins="")  # type: ignore[arg-type]
SECRET_SQL = "SELECT secret FROM t WHERE password='hunter2'"


class DownStore:
    """A store whose every call fails the way a backend outage does."""

    name = "sqlite"

    def __getattr__(self, attr: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise StoreUnavailable(SECRET_SQL)

        return fail


class BuggyStore(DownStore):
    def __getattr__(self, attr: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(SECRET_SQL)

        return fail


def test_store_outage_is_503_with_retry_after() -> None:
    c = TestClient(create_app(store=DownStore(), config=CONFIG))  # type: ignore[arg-type]
    for method, path, body in [
        ("GET", "/health", None),
        ("GET", "/experiments", None),
        ("POST", "/experiments", {"name": "x"}),
        (
            "POST",
            "/events",
            {
                "experiment_id": "e",
                "date": "2025-01-01",
                "variants": [{"variant_name": "a", "impressions": 1, "clicks": 0}],
            },
        ),
        ("GET", "/allocation?experiment_id=e", None),
    ]:
        r = c.request(method, path, json=body)
        assert r.status_code == 503, (path, r.text)
        assert r.headers["retry-after"] == "5"
        assert r.headers["content-type"] == "application/problem+json"
        assert "hunter2" not in r.text
        assert "SELECT" not in r.text


def test_unexpected_error_is_a_bare_500_problem() -> None:
    c = TestClient(
        create_app(store=BuggyStore(), config=CONFIG),  # type: ignore[arg-type]
        raise_server_exceptions=False,
    )
    r = c.get("/experiments/e1")
    assert r.status_code == 500
    assert r.json() == {
        "type": "https://banditkit.dev/problems/internal-error",
        "title": "Internal error",
        "status": 500,
        "detail": "an unexpected error occurred",
        "errors": [],
    }


def _experiments(api, n: int) -> list[str]:
    ids = []
    for i in range(n):
        exp = api.create(id=f"e{i}", variants=["control", "variant_b"])
        api.post_days(exp["id"], days=2, rates={"control": 0.03, "variant_b": 0.05})
        ids.append(exp["id"])
    return ids


def test_recompute_pages_through_every_running_experiment(api) -> None:
    ids = _experiments(api, 5)
    result = service.recompute_all(api.store, page_size=2)
    assert (result.considered, result.recomputed, result.snapshots_written) == (5, 5, 5)
    assert all(api.store.latest_snapshot(i).trigger == "schedule" for i in ids)


def test_recompute_goes_stalest_first_and_resumes(api) -> None:
    ids = _experiments(api, 4)
    # e0 and e1 got a snapshot from GET /allocation; e2 and e3 never had one
    for eid in ids[:2]:
        api.client.get("/allocation", params={"experiment_id": eid})
        api.post_days(eid, days=1, start=5, rates={"control": 0.03, "variant_b": 0.05})
    budget = iter([100.0, 100.0, 0.0, 0.0, 0.0])  # time for two experiments
    first = service.recompute_all(api.store, time_left=lambda: next(budget), margin_seconds=1)
    assert (first.considered, first.stopped_early, first.remaining) == (2, True, 2)
    assert api.store.latest_snapshot("e2").trigger == "schedule"
    assert api.store.latest_snapshot("e3").trigger == "schedule"
    assert api.store.latest_snapshot("e0").trigger == "api"
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    second = service.recompute_all(api.store, now=lambda: later)
    assert (second.recomputed, second.unchanged) == (2, 2)
    assert api.store.latest_snapshot("e0").trigger == "schedule"
