"""PostgreSQL: the server restarts while a bounded ingest load runs. The pool reconnects;
every write that returned success is stored, none twice."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from banditkit.store import DailyRow, Experiment, IdempotencyRecord, StoreUnavailable
from banditkit.store.postgres import PostgresStore

from .conftest import pg_url

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
D1 = dt.date(2026, 1, 1)
WRITERS = 4
AFTER_RESTART = 25  # writes each writer makes once the server is back
MAX_WRITES = 400  # per writer: keeps the load bounded whatever the timing


def pg_ctl(*args: str) -> None:
    datadir = os.environ.get("BANDIT_TEST_PG_DATADIR")
    pgbin = os.environ.get("BANDIT_TEST_PG_BIN")
    if not (datadir and pgbin):
        if os.environ.get("CI"):
            pytest.fail("BANDIT_TEST_PG_DATADIR/BIN not set: run under scripts/with_postgres.sh")
        pytest.skip("needs the server started by scripts/with_postgres.sh")
    runas = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    log = str(Path(datadir).parent / "log")
    subprocess.run(
        [*runas, f"{pgbin}/pg_ctl", "-D", datadir, "-l", log, "-w", "-t", "60", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=90,
    )


def started_at(url: str) -> dt.datetime:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
    assert row is not None
    return row[0]  # type: ignore[no-any-return]


@pytest.fixture
def store() -> Iterator[PostgresStore]:
    url = pg_url()
    schema = f"f_{uuid.uuid4().hex[:12]}"
    made = PostgresStore(url, schema=schema, pool_max=WRITERS, pool_timeout=5.0)
    made.create_experiment(Experiment("e", "E", "", "running", (), False, {}, T0, T0))
    yield made
    made.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.mark.postgres
def test_restart_under_load_loses_nothing_and_counts_nothing_twice(store: PostgresStore) -> None:
    url = pg_url()
    before = started_at(url)
    restarted = threading.Event()
    lock = threading.Lock()
    succeeded: list[str] = []
    unavailable = [0]
    errors: list[BaseException] = []

    def writer(w: int) -> None:
        after = 0
        for i in range(MAX_WRITES):
            if after >= AFTER_RESTART:
                return
            key = f"w{w}-{i}"
            for _ in range(200):  # a client retrying with the same key, as the API asks
                try:
                    store.write_daily(
                        "e",
                        [DailyRow(D1, "a", 1, 1), DailyRow(D1, f"w{w}", 1, 0)],
                        "increment",
                        IdempotencyRecord(key, "h"),
                    )
                    break
                except StoreUnavailable:
                    with lock:
                        unavailable[0] += 1
                    time.sleep(0.05)
            else:
                errors.append(AssertionError(f"{key} never succeeded"))
                return
            with lock:
                succeeded.append(key)
            if restarted.is_set():
                after += 1

    def run(w: int) -> None:
        try:
            writer(w)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(WRITERS)]
    for t in threads:
        t.start()
    while len(succeeded) < 20 and not errors:
        time.sleep(0.01)
    # fast shutdown: open connections are cut and running transactions roll back
    pg_ctl("restart", "-m", "fast")
    restarted.set()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert started_at(url) > before  # the server really restarted under the load
    # every acknowledged write is there exactly once
    rows = {r.variant_name: (r.impressions, r.clicks) for r in store.read_daily("e")}
    n = len(succeeded)
    assert len(set(succeeded)) == n
    assert rows["a"] == (n, n)
    for w in range(WRITERS):
        mine = sum(1 for k in succeeded if k.startswith(f"w{w}-"))
        assert rows[f"w{w}"] == (mine, 0)
        assert mine >= AFTER_RESTART
