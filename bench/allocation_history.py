"""What the original API's `history` costs a repeated GET /allocation read (service time,
SQLite, 30 days x 3 variants): as shipped (the latest snapshots cached per data state),
listed from the store on every read, and without the field. Interleaved rounds, medians.

    .venv/bin/python bench/allocation_history.py [--rounds 15] [--reads 1000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import Any

from banditkit import models, service
from banditkit.service import allocation, past
from banditkit.store import Snapshot, Store
from banditkit.store.sqlite import SQLiteStore


def seeded(folder: str) -> SQLiteStore:
    store = SQLiteStore(f"{folder}/bench.db")
    body = models.ExperimentCreate.model_validate(
        {"id": "e", "name": "bench", "variants": ["control", "b", "c"]}
    )
    service.create_experiment(store, body)
    for i in range(30):
        day = {
            "experiment_id": "e",
            "date": f"2025-01-{i + 1:02d}",
            "variants": [
                {"variant_name": n, "impressions": 1000, "clicks": 30 + j}
                for j, n in enumerate(["control", "b", "c"])
            ],
        }
        service.ingest_events(store, models.EventsIn.model_validate(day))
    service.allocate(store, "e")
    return store


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--reads", type=int, default=1000)
    args = parser.parse_args()
    store = seeded(tempfile.mkdtemp(prefix="bench-history-"))
    hook = "past_allocations"  # what service.allocation calls for the field
    shipped_latest, shipped_past = past.latest_snapshots, getattr(allocation, hook)

    def restore() -> None:
        past.latest_snapshots = shipped_latest
        setattr(allocation, hook, shipped_past)

    def listed(s: Store, own: Any) -> list[Snapshot]:
        return s.list_snapshots(own.experiment.id, limit=past.PAST_ALLOCATIONS).items

    def none(s: Store, own: Any) -> list[models.PastAllocation]:
        return []

    setups: dict[str, Callable[[], None]] = {
        "cached (shipped)": lambda: None,
        "listed every read": lambda: setattr(past, "latest_snapshots", listed),
        "no history field": lambda: setattr(allocation, hook, none),
    }
    times: dict[str, list[float]] = {name: [] for name in setups}
    for _ in range(args.rounds):
        for name, setup in setups.items():
            restore()
            setup()
            start = time.perf_counter()
            for _ in range(args.reads):
                service.allocate(store, "e")
            times[name].append((time.perf_counter() - start) / args.reads * 1e6)
    restore()
    base = statistics.median(times["no history field"])
    print(f"{'GET /allocation, repeated read':32s} {'us/read':>8s} {'vs none':>8s}")
    for name, ts in times.items():
        median = statistics.median(ts)
        print(f"{name:32s} {median:8.0f} {median / base:8.2f}")
    store.close()


if __name__ == "__main__":
    main()
