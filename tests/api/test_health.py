"""GET /health under a store that hangs or fails: an answer within 2 s, 503 naming the
store, and no queueing behind requests that hold every worker thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from banditkit.http.app import create_app
from banditkit.store import StoreUnavailable, open_store
from fastapi.testclient import TestClient

from .conftest import Api, config


class HangingStore:
    """A store whose ping blocks until released (a database that stopped answering)."""

    name = "postgres"

    def __init__(self) -> None:
        self.release = threading.Event()

    def ping(self) -> None:
        self.release.wait(30)

    def close(self) -> None: ...


class FailingStore(HangingStore):
    def ping(self) -> None:
        raise StoreUnavailable("postgres is unreachable")


@pytest.fixture
def hanging() -> Iterator[HangingStore]:
    store = HangingStore()
    yield store
    store.release.set()  # let the abandoned ping thread end


def assert_store_down(r: Any, why: str) -> None:
    assert r.status_code == 503, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["errors"][0]["field"] == "store"
    assert why in body["errors"][0]["message"]
    assert "postgres" in body["detail"]


def test_a_hanging_store_is_reported_down_within_two_seconds(hanging: HangingStore) -> None:
    with TestClient(create_app(store=hanging, config=config())) as c:  # type: ignore[arg-type]
        started = time.monotonic()
        r = c.get("/health")
        took = time.monotonic() - started
    assert_store_down(r, "no answer within")
    assert took < 2.0  # the ping hangs for 30 s


def test_a_failing_store_is_reported_down_by_name() -> None:
    c = TestClient(create_app(store=FailingStore(), config=config()))  # type: ignore[arg-type]
    assert_store_down(c.get("/health"), "unreachable or busy")


def test_health_does_not_queue_behind_busy_worker_threads(tmp_path: Path) -> None:
    # Given every worker thread of the app held by a request that does not return
    store = open_store(f"sqlite:///{tmp_path}/h.db")
    release = threading.Event()
    real_get = store.get_experiment

    def stuck(experiment_id: str) -> Any:
        release.wait(30)
        return real_get(experiment_id)

    store.get_experiment = stuck  # type: ignore[method-assign]
    app = create_app(store=store, config=config())
    with TestClient(app) as c:
        import anyio.to_thread

        threads = c.portal.call(lambda: anyio.to_thread.current_default_thread_limiter())
        busy = [
            threading.Thread(target=c.get, args=("/experiments/x",))
            for _ in range(int(threads.total_tokens) + 2)
        ]
        for t in busy:
            t.start()
        deadline = time.monotonic() + 5
        while threads.borrowed_tokens < threads.total_tokens and time.monotonic() < deadline:
            time.sleep(0.01)
        assert threads.borrowed_tokens == threads.total_tokens
        # Then /health still answers, from the store, while they hold the threads
        answers: list[Any] = []
        health = threading.Thread(target=lambda: answers.append(c.get("/health")))
        health.start()
        health.join(timeout=5)
        answered_while_busy = not health.is_alive()
        release.set()
        for t in [*busy, health]:
            t.join()
    assert answered_while_busy
    assert answers[0].status_code == 200, answers[0].text
    assert answers[0].json()["store"] == "sqlite"
    store.close()


def test_health_is_ok_on_a_working_store(api: Api) -> None:
    assert api.client.get("/health").json()["status"] == "ok"
