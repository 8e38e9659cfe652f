"""GET /health needs no key, so its store check is cached: anonymous traffic cannot turn
into store calls (DescribeTable on DynamoDB) beyond one per store every few seconds."""

from __future__ import annotations

from typing import Any

from banditkit.http import health
from banditkit.store import Store, StoreUnavailable
from fastapi.testclient import TestClient

from .conftest import config


class CountingStore:
    """A store whose ping is counted (and can be made to fail); the rest is the real one."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.pings = 0
        self.down = False

    def ping(self) -> None:
        self.pings += 1
        if self.down:
            raise StoreUnavailable("down")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_health_checks_the_store_once_per_interval(store: Store, monkeypatch: Any) -> None:
    from banditkit.http.app import create_app

    now = [1000.0]
    monkeypatch.setattr(health, "store_check", health.PingCache(5.0, clock=lambda: now[0]))
    counting = CountingStore(store)
    c = TestClient(create_app(store=counting, config=config()))  # type: ignore[arg-type]
    for _ in range(50):
        assert c.get("/health").status_code == 200
    assert counting.pings == 1
    now[0] += 5.0
    counting.down = True
    for _ in range(20):
        r = c.get("/health")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
    assert counting.pings == 2  # a failure is kept as long: the next check decides
    now[0] += 5.0
    counting.down = False
    assert c.get("/health").status_code == 200
    assert counting.pings == 3
