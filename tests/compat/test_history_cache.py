"""The original API's `history` in GET /allocation costs no store query on a repeated read
of unchanged data (one DynamoDB Query per read otherwise), and is read again once anything
could have added a snapshot."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from banditkit import models, service
from banditkit.service.past import PAST_ALLOCATIONS
from banditkit.store.sqlite import SQLiteStore


class CountingStore(SQLiteStore):
    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.lists = 0

    def list_snapshots(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("limit") == PAST_ALLOCATIONS:  # not latest_snapshot's own listing
            self.lists += 1
        return super().list_snapshots(*args, **kwargs)


def post(store: SQLiteStore, day: str, b_clicks: int) -> None:
    body = models.EventsIn.model_validate(
        {
            "experiment_id": "exp-1",
            "date": day,
            "variants": [
                {"variant_name": "control", "impressions": 1000, "clicks": 30},
                {"variant_name": "variant_b", "impressions": 1000, "clicks": b_clicks},
            ],
        }
    )
    service.ingest_events(store, body)


def test_repeated_reads_list_the_snapshots_once(tmp_path: Path) -> None:
    store = CountingStore(tmp_path / "h.db")
    try:
        check(store)
    finally:
        store.close()


def check(store: CountingStore) -> None:
    body = models.ExperimentCreate.model_validate(
        {"id": "exp-1", "name": "hero", "variants": ["control", "variant_b"]}
    )
    service.create_experiment(store, body)
    post(store, "2026-03-01", 60)
    first = service.allocate(store, "exp-1").out
    assert store.lists == 1
    for window in (None, 7, None, 3):
        again = service.allocate(store, "exp-1", window_days=window).out
        assert again.history == first.history
    assert store.lists == 1
    # another process's snapshot needs new data first, which moves data_version
    post(store, "2026-03-02", 70)
    latest = service.allocate(store, "exp-1").out
    assert store.lists == 2
    assert len(latest.history) == 2
    assert latest.history[0].total_clicks == 30 + 30 + 60 + 70
    # a status change moves the version: read once more, then kept again
    service.update_experiment(store, "exp-1", models.ExperimentPatch(status="paused"))
    service.allocate(store, "exp-1")
    service.allocate(store, "exp-1")
    assert store.lists == 3
    assert latest.history[0].date <= dt.datetime.now(dt.UTC).date()
