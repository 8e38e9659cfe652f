"""Fixtures of the API tier: apps on a temporary SQLite store, and helpers to inspect it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from banditkit.config import AppConfig
from banditkit.http.app import create_app
from banditkit.store import Store, open_store
from fastapi.testclient import TestClient

START = dt.date(2025, 1, 1)
RATES = {"control": 0.030, "variant_b": 0.040, "variant_c": 0.035}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    backend = open_store(f"sqlite:///{tmp_path}/api.db")
    yield backend
    backend.close()


def config(**values: Any) -> AppConfig:
    """A configuration independent of the environment running the tests."""
    base: dict[str, Any] = {
        "store_url": "sqlite:///unused.db",
        "api_keys": "",
        "admin_key": None,
        "enable_reset": False,
        "cors_origins": "",
        "tracing": False,
    }
    return AppConfig(**(base | values))


@pytest.fixture
def make_client(store: Store) -> Callable[..., TestClient]:
    def make(**values: Any) -> TestClient:
        return TestClient(create_app(store=store, config=config(**values)))

    return make


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def day(i: int) -> str:
    return (START + dt.timedelta(days=i)).isoformat()


class Api:
    """A client on a store, with the helpers the API tests share."""

    def __init__(self, client: TestClient, store: Store) -> None:
        self.client = client
        self.store = store

    day = staticmethod(day)

    def create(self, **body: Any) -> dict[str, Any]:
        r = self.client.post("/experiments", json={"name": "test", **body})
        assert r.status_code == 201, r.text
        out: dict[str, Any] = r.json()
        return out

    def post_days(
        self,
        experiment_id: str,
        days: int = 7,
        rates: dict[str, float] | None = None,
        impressions: int = 1000,
        start: int = 0,
    ) -> None:
        """Post `days` days of counts with clicks = round(rate x impressions)."""
        for i in range(start, start + days):
            body = {
                "experiment_id": experiment_id,
                "date": day(i),
                "variants": [
                    {
                        "variant_name": name,
                        "impressions": impressions,
                        "clicks": round(rate * impressions),
                    }
                    for name, rate in (rates or RATES).items()
                ],
            }
            r = self.client.post("/events", json=body)
            assert r.status_code == 200, r.text

    def state(self) -> dict[str, Any]:
        """Everything the store holds, comparable before/after a rejected request."""
        state: dict[str, Any] = {}
        cursor = None
        while True:
            page = self.store.list_experiments(limit=200, cursor=cursor)
            for exp in page.items:
                state[exp.id] = (
                    exp,
                    self.store.read_daily(exp.id),
                    self.store.list_snapshots(exp.id, limit=500).items,
                )
            cursor = page.next_cursor
            if not cursor:
                return state

    @staticmethod
    def problem(r: Any, status: int, field: str | None = None) -> dict[str, Any]:
        """Assert `r` is an RFC 9457 problem with `status`, naming `field` if given."""
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        body: dict[str, Any] = r.json()
        assert set(body) == {"type", "title", "status", "detail", "errors"}
        assert body["status"] == status
        if field is not None:
            fields = [e["field"] for e in body["errors"]]
            assert field in fields, fields
        return body


@pytest.fixture
def api(client: TestClient, store: Store) -> Api:
    return Api(client, store)
