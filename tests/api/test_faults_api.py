"""Store faults seen through the real HTTP app: DynamoDB throttling, conflicts and timeouts,
a SQLite writer holding the lock, a PostgreSQL restart under an HTTP ingest load. The API
answers 503 with Retry-After when retries run out, stores nothing partial, and a client
retrying with the same Idempotency-Key ends with each write counted exactly once.

The fault injectors are the contract tier's (tests/contract/test_faults_*.py)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from banditkit.http.app import create_app
from banditkit.store import Store, StoreUnavailable, open_store
from fastapi.testclient import TestClient

from ..contract.conftest import pg_url
from ..contract.test_faults_dynamodb import ATTEMPTS, FaultyServer, faulty_dynamodb
from ..contract.test_faults_postgres import pg_ctl, started_at
from .conftest import config

EVENT = {
    "experiment_id": "exp_1",
    "date": "2026-01-01",
    "mode": "increment",
    "variants": [
        {"variant_name": "control", "impressions": 100, "clicks": 3},
        {"variant_name": "b", "impressions": 200, "clicks": 9},
    ],
}


def assert_503(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["retry-after"] == "5"
    assert r.json()["type"].endswith("/store-unavailable")


def daily(c: TestClient) -> dict[str, tuple[int, int]]:
    r = c.get("/experiments/exp_1/metrics")
    assert r.status_code == 200, r.text
    return {
        v["variant_name"]: (v["impressions"], v["clicks"])
        for day in r.json()["days"]
        for v in day["variants"]
    }


# --- DynamoDB ---------------------------------------------------------------------------


@pytest.fixture
def dynamo(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TestClient, FaultyServer]]:
    with faulty_dynamodb(monkeypatch) as (store, server):
        c = TestClient(create_app(store=store, config=config()))
        r = c.post("/experiments", json={"id": "exp_1", "name": "x", "variants": ["control", "b"]})
        assert r.status_code == 201, r.text
        server.seen = 0
        yield c, server
        store.close()


@pytest.mark.parametrize("fault", ["throttle", "conflict", "timeout-before"])
def test_dynamodb_fault_past_the_retries_is_503_and_stores_nothing(
    dynamo: tuple[TestClient, FaultyServer], fault: str
) -> None:
    c, server = dynamo
    # Given every TransactWriteItems call fails
    server.plan, server.forever = [fault], True
    # When a client posts a day
    r = c.post("/events", json=EVENT, headers={"Idempotency-Key": "day-1"})
    # Then the store tried ATTEMPTS times, the API answers 503, and nothing is stored
    assert_503(r)
    assert server.seen == ATTEMPTS
    server.plan, server.forever = [], False
    assert daily(c) == {}
    # and the client's retry with the same key is applied once, its replay changes nothing
    for replayed in (False, True):
        r = c.post("/events", json=EVENT, headers={"Idempotency-Key": "day-1"})
        assert r.status_code == 200, r.text
        assert r.json()["replayed"] is replayed
        assert r.json()["total_impressions"] == 300
    assert daily(c) == {"control": (100, 3), "b": (200, 9)}


def test_dynamodb_throttling_within_the_retries_is_invisible(
    dynamo: tuple[TestClient, FaultyServer],
) -> None:
    c, server = dynamo
    server.plan = ["throttle", "conflict"]  # botocore retries one, the store the other
    r = c.post("/events", json=EVENT)
    assert r.status_code == 200, r.text
    assert server.seen == 3
    assert daily(c) == {"control": (100, 3), "b": (200, 9)}


def test_dynamodb_throttled_reads_are_503(dynamo: tuple[TestClient, FaultyServer]) -> None:
    c, server = dynamo
    assert c.post("/events", json=EVENT).status_code == 200
    server.operation, server.seen = "Query", 0
    server.plan, server.forever = ["throttle"], True
    for path in ("/allocation?experiment_id=exp_1", "/experiments/exp_1/metrics"):
        assert_503(c.get(path))
    server.plan, server.forever = [], False
    r = c.get("/allocation", params={"experiment_id": "exp_1"})
    assert r.status_code == 200
    assert sum(r.json()["allocations"].values()) == pytest.approx(1.0, abs=1e-9)


# --- SQLite -----------------------------------------------------------------------------


def test_sqlite_writer_holding_the_lock_gives_503_after_the_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = open_store(f"sqlite:///{path}?busy_timeout=0.3")
    c = TestClient(create_app(store=store, config=config()))
    c.post("/experiments", json={"id": "exp_1", "name": "x", "variants": ["control", "b"]})
    assert c.post("/events", json=EVENT | {"mode": "set"}).status_code == 200
    # Given another process's connection holding SQLite's write lock
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        for method, url, body in [
            ("POST", "/events", EVENT),
            ("POST", "/experiments", {"id": "exp_2", "name": "y"}),
            ("PATCH", "/experiments/exp_1", {"name": "renamed"}),
        ]:
            started = time.monotonic()
            r = c.request(method, url, json=body, headers={"Idempotency-Key": "k1"})
            waited = time.monotonic() - started
            # Then each write waits out the busy timeout, then answers 503
            assert_503(r)
            assert 0.25 <= waited < 5.0, waited
        # reads keep answering (WAL) and show nothing partial
        assert daily(c) == {"control": (100, 3), "b": (200, 9)}
        assert [e["id"] for e in c.get("/experiments").json()["items"]] == ["exp_1"]
    finally:
        other.execute("ROLLBACK")
        other.close()
    # Once the lock is free the same request (same key) is applied once
    for _ in range(2):
        r = c.post("/events", json=EVENT, headers={"Idempotency-Key": "k1"})
        assert r.status_code == 200, r.text
    assert daily(c) == {"control": (200, 6), "b": (400, 18)}
    assert c.get("/experiments/exp_1").json()["name"] == "x"
    store.close()


# --- PostgreSQL -------------------------------------------------------------------------

WRITERS = 6
AFTER_RESTART = 15  # acknowledged writes per writer once the server is back
MAX_WRITES = 300  # per writer: the load is bounded whatever the timing
RETRIES = 200  # per write, 50 ms apart: a client honouring 503 + Retry-After, compressed


@pytest.fixture
def pg_app() -> Iterator[tuple[Any, str]]:
    url = pg_url()
    schema = f"h_{uuid.uuid4().hex[:12]}"
    store = open_store(f"{url}?schema={schema}&pool_max=4")
    yield create_app(store=store, config=config()), url
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.mark.postgres
def test_postgres_restart_under_http_load_keeps_every_acknowledged_write_once(
    pg_app: tuple[Any, str],
) -> None:
    app, url = pg_app
    before = started_at(url)

    async def run() -> tuple[list[str], int, list[str]]:
        acked: list[str] = []
        problems: list[str] = []
        unavailable = 0
        restarted = asyncio.Event()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            # variants undeclared: they are discovered by the events (a second write)
            r = await c.post("/experiments", json={"id": "exp_1", "name": "pg"})
            assert r.status_code == 201, r.text

            async def writer(w: int) -> None:
                nonlocal unavailable
                after = 0
                for i in range(MAX_WRITES):
                    if after >= AFTER_RESTART or problems:
                        return
                    key = f"w{w}-{i}"
                    body = {
                        "experiment_id": "exp_1",
                        "date": "2026-01-01",
                        "mode": "increment",
                        "variants": [
                            {"variant_name": "all", "impressions": 1, "clicks": 1},
                            {"variant_name": f"w{w}", "impressions": 1, "clicks": 0},
                        ],
                    }
                    for _ in range(RETRIES):
                        r = await c.post("/events", json=body, headers={"Idempotency-Key": key})
                        if r.status_code == 200:
                            acked.append(key)
                            break
                        if r.status_code != 503 or r.headers.get("retry-after") != "5":
                            problems.append(f"{key}: {r.status_code} {r.text}")
                            return
                        unavailable += 1
                        await asyncio.sleep(0.05)
                    else:
                        problems.append(f"{key} never succeeded")
                        return
                    if restarted.is_set():
                        after += 1

            async def restart() -> None:
                while len(acked) < 30 and not problems:
                    await asyncio.sleep(0.01)
                # fast shutdown: connections are cut and open transactions roll back
                await asyncio.to_thread(pg_ctl, "restart", "-m", "fast")
                restarted.set()

            await asyncio.wait_for(
                asyncio.gather(restart(), *(writer(w) for w in range(WRITERS))), timeout=150
            )
            metrics = (await c.get("/experiments/exp_1/metrics")).json()
            counted = {
                v["variant_name"]: (v["impressions"], v["clicks"])
                for day in metrics["days"]
                for v in day["variants"]
            }
            alloc = await c.get("/allocation", params={"experiment_id": "exp_1"})
            assert alloc.status_code == 200
            assert set(alloc.json()["allocations"]) == {"all"} | {f"w{w}" for w in range(WRITERS)}
        n = len(acked)
        assert counted["all"] == (n, n)
        for w in range(WRITERS):
            assert counted[f"w{w}"] == (sum(k.startswith(f"w{w}-") for k in acked), 0)
        return acked, unavailable, problems

    acked, unavailable, problems = asyncio.run(run())
    assert problems == []
    assert started_at(url) > before  # the server really restarted under the load
    assert len(set(acked)) == len(acked)
    assert len(acked) >= 30 + WRITERS * AFTER_RESTART
    print(f"acknowledged {len(acked)} writes, {unavailable} answers were 503")


# --- a failure between the two writes of one ingest -------------------------------------


class FailingUpdate:
    """A store whose next `update_experiment` fails as an outage would."""

    def __init__(self, inner: Any, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name != "update_experiment":
            return attr

        def update(*args: Any, **kwargs: Any) -> Any:
            if self.failures:
                self.failures -= 1
                raise StoreUnavailable("down")
            return attr(*args, **kwargs)

        return update


def test_new_variants_are_recorded_by_the_write_of_their_counts(store: Store) -> None:
    # Given an experiment without declared variants, and a store whose update_experiment
    # (the separate write that used to record discovered variants) is down
    c = TestClient(create_app(store=FailingUpdate(store, failures=1), config=config()))
    c.post("/experiments", json={"id": "exp_1", "name": "x"})
    body = EVENT | {"mode": "increment"}
    # When events name new variants, the counts and the names commit together
    r = c.post("/events", json=body, headers={"Idempotency-Key": "k"})
    assert r.status_code == 200, r.text
    assert daily(c) == {"control": (100, 3), "b": (200, 9)}
    names = [v["name"] for v in c.get("/experiments/exp_1").json()["variants"]]
    assert names == ["control", "b"]
