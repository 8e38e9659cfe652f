"""SQLite: another writer holds the lock; we give up after the busy timeout, write nothing."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from banditkit.store import DailyRow, Experiment, IdempotencyRecord, StoreUnavailable
from banditkit.store.sqlite import SQLiteStore

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
D1 = dt.date(2026, 1, 1)


def test_held_write_lock_gives_store_unavailable_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    store = SQLiteStore(path, busy_timeout=0.2)
    store.create_experiment(Experiment("e", "E", "", "running", (), False, {}, T0, T0))
    store.write_daily("e", [DailyRow(D1, "a", 1, 0)], "set")
    # Given another connection holding the write lock
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as caught:
            store.write_daily(
                "e",
                [DailyRow(D1, "a", 5, 0), DailyRow(D1, "b", 5, 0)],
                "increment",
                IdempotencyRecord("k", "h"),
            )
        waited = time.monotonic() - started
        assert 0.15 <= waited < 3.0
        assert "locked" not in str(caught.value)  # a short reason, no driver text
        # reads still work under WAL while the writer holds the lock
        assert store.read_daily("e") == [DailyRow(D1, "a", 1, 0)]
    finally:
        other.execute("ROLLBACK")
        other.close()
    # Then, once the lock is free, the same request (same key) goes through exactly once
    assert (
        store.write_daily(
            "e",
            [DailyRow(D1, "a", 5, 0), DailyRow(D1, "b", 5, 0)],
            "increment",
            IdempotencyRecord("k", "h"),
        )
        is None
    )
    assert store.read_daily("e") == [DailyRow(D1, "a", 6, 0), DailyRow(D1, "b", 5, 0)]
    store.close()


def test_a_writer_of_this_process_stuck_past_the_timeout_gives_store_unavailable(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(tmp_path / "queue.db", busy_timeout=0.2)
    store.create_experiment(Experiment("e", "E", "", "running", (), False, {}, T0, T0))
    rows = [DailyRow(D1, "a", 1, 0)]
    release = threading.Event()
    holding = threading.Event()

    def slow_writer() -> None:
        with store._write():  # a transaction of this process that does not finish
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert holding.wait(5)
        started = time.monotonic()
        with pytest.raises(StoreUnavailable):
            store.write_daily("e", rows, "set")
        assert 0.15 <= time.monotonic() - started < 3.0
    finally:
        release.set()
        thread.join()
    # the queue moves on once the slow writer commits
    store.write_daily("e", rows, "set")
    assert store.read_daily("e") == rows
    assert store.get_experiment("e").data_version == 1
    store.close()


def test_unopenable_file_is_store_unavailable(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    store = SQLiteStore(tmp_path / "dir.db")
    with pytest.raises(StoreUnavailable):
        store.ping()
