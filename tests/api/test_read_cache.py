"""Repeated reads of unchanged data skip the rows; any write, from anywhere, is seen next."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from banditkit import models, service
from banditkit.service.loading import seen
from banditkit.store.sqlite import SQLiteStore

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def create(store: SQLiteStore) -> str:
    body = models.ExperimentCreate.model_validate(
        {"id": "exp-1", "name": "hero", "variants": ["control", "variant_b"]}
    )
    return service.create_experiment(store, body, now=lambda: T0).id


def post(store: SQLiteStore, day: str, b_clicks: int, mode: str = "set") -> None:
    body = models.EventsIn.model_validate(
        {
            "experiment_id": "exp-1",
            "date": day,
            "mode": mode,
            "variants": [
                {"variant_name": "control", "impressions": 1000, "clicks": 30},
                {"variant_name": "variant_b", "impressions": 1000, "clicks": b_clicks},
            ],
        }
    )
    service.ingest_events(store, body)


def clicks(store: SQLiteStore) -> dict[str, int]:
    out = service.allocate(store, "exp-1").out
    return {v.name: v.clicks for v in out.variants}


class CountingStore(SQLiteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.reads = 0
        self.latest_reads = 0

    def read_daily(self, *args: Any, **kwargs: Any) -> Any:
        self.reads += 1
        return super().read_daily(*args, **kwargs)

    def latest_snapshot(self, experiment_id: str) -> Any:
        self.latest_reads += 1
        return super().latest_snapshot(experiment_id)


def test_unchanged_data_is_read_once(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "b.db")
    create(store)
    post(store, "2026-03-01", 60)
    first = service.allocate(store, "exp-1")
    again = service.allocate(store, "exp-1")
    assert (store.reads, store.latest_reads) == (1, 1)
    assert again.out.allocations == first.out.allocations
    assert (first.snapshot_written, again.snapshot_written) == (True, False)
    # a window is another read; a write makes the next read go to the rows again
    service.allocate(store, "exp-1", window_days=7)
    assert store.reads == 2
    post(store, "2026-03-02", 70)
    assert clicks(store) == {"control": 60, "variant_b": 130}
    assert (store.reads, store.latest_reads) == (3, 2)
    history = service.history(store, "exp-1").items
    assert len(history) == 2  # one snapshot per state of the data
    assert history[0].totals["variant_b"]["clicks"] == 130
    # what is kept: the latest state per experiment and window, not every state ever read
    for clicks_b in range(10):
        post(store, "2026-03-03", clicks_b)
        service.allocate(store, "exp-1")
    assert len(seen(store).loaded) == 2  # no window, and window_days=7
    store.close()


def test_a_write_through_another_store_object_is_seen(tmp_path: Path) -> None:
    # two store objects on one file stand for two processes (two Lambdas, two servers)
    reader, writer = SQLiteStore(tmp_path / "b.db"), SQLiteStore(tmp_path / "b.db")
    create(writer)
    post(writer, "2026-03-01", 60)
    assert clicks(reader) == {"control": 30, "variant_b": 60}
    post(writer, "2026-03-01", 90)  # the same day set again: same row count, other values
    assert clicks(reader) == {"control": 30, "variant_b": 90}
    post(writer, "2026-03-01", 5, mode="increment")
    assert clicks(reader) == {"control": 60, "variant_b": 95}
    # data that returns to an earlier state is a change the history records
    post(writer, "2026-03-01", 90)
    service.allocate(writer, "exp-1")
    post(writer, "2026-03-01", 5, mode="increment")  # back to the reader's last state
    service.allocate(reader, "exp-1")
    totals = [s.totals["variant_b"]["clicks"] for s in service.history(reader, "exp-1").items]
    assert totals == [95, 90, 95, 90, 60]
    reader.close()
    writer.close()


def test_an_experiment_made_again_under_its_id_starts_afresh(tmp_path: Path) -> None:
    # the same id, the same created_at and the same data_version as before the reset
    store = SQLiteStore(tmp_path / "b.db")
    create(store)
    post(store, "2026-03-01", 60)
    assert clicks(store) == {"control": 30, "variant_b": 60}
    service.reset(store)
    create(store)
    post(store, "2026-03-01", 80)
    assert clicks(store) == {"control": 30, "variant_b": 80}
    service.delete_experiment(store, "exp-1")
    create(store)
    post(store, "2026-03-01", 10)
    assert clicks(store) == {"control": 30, "variant_b": 10}
    store.close()
