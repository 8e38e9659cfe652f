"""What the change log costs a PATCH that changes a setting (service time, SQLite, 365 days
x 10 variants): as shipped (the latest data day from one indexed lookup, store.latest_day),
with the day taken from the experiment's rows (a full read, as a first version did), and
without the log. Interleaved rounds, medians.

    .venv/bin/python bench/change_log.py [--rounds 7] [--patches 40]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from collections.abc import Callable
from typing import cast

from banditkit import models, service
from banditkit.service import experiments
from banditkit.store import DailyRow, Experiment, Store
from banditkit.store.sqlite import SQLiteStore


def seeded(folder: str) -> tuple[SQLiteStore, str]:
    store = SQLiteStore(f"{folder}/bench.db")
    body = models.ExperimentCreate(name="bench", variants=[f"v{i}" for i in range(10)])
    exp = service.create_experiment(store, body)
    start = dt.date(2025, 1, 1)
    rows = [
        DailyRow(start + dt.timedelta(days=d), f"v{i}", 1000, 30)
        for d in range(365)
        for i in range(10)
    ]
    store.write_daily(exp.id, rows, "set")
    return store, exp.id


Hook = Callable[[Store, Experiment, Experiment], Experiment]


class DayFromRows:
    """The latest data day as the maximum of the experiment's rows (a full read)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def latest_day(self, experiment_id: str) -> dt.date | None:
        return max((r.date for r in self.store.read_daily(experiment_id)), default=None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--patches", type=int, default=40)
    args = parser.parse_args()
    store, exp_id = seeded(tempfile.mkdtemp(prefix="bench-change-log-"))
    shipped: Hook = getattr(experiments, "with_changes_logged")  # noqa: B009 (patched below)

    def unlogged(s: Store, before: Experiment, after: Experiment) -> Experiment:
        return after

    def from_rows(s: Store, before: Experiment, after: Experiment) -> Experiment:
        return shipped(cast(Store, DayFromRows(s)), before, after)

    setups: dict[str, Hook] = {
        "log, latest_day lookup (shipped)": shipped,
        "log, day from the rows": from_rows,
        "no log": unlogged,
    }
    times: dict[str, list[float]] = {name: [] for name in setups}
    value = 100
    for _ in range(args.rounds):
        for name, hook in setups.items():
            setattr(experiments, "with_changes_logged", hook)  # noqa: B010
            start = time.perf_counter()
            for _ in range(args.patches):
                value += 1  # a new value each time: every PATCH changes a setting
                patch = models.ExperimentPatch(settings={"min_impressions": value})
                service.update_experiment(store, exp_id, patch)
            times[name].append((time.perf_counter() - start) / args.patches * 1e3)
    setattr(experiments, "with_changes_logged", shipped)  # noqa: B010
    base = statistics.median(times["no log"])
    print(f"{'PATCH settings, 3,650 rows':34s} {'ms/patch':>8s} {'rounds':>13s} {'vs none':>8s}")
    for name, ts in times.items():
        median = statistics.median(ts)
        spread = f"{min(ts):.2f}-{max(ts):.2f}"
        print(f"{name:34s} {median:8.2f} {spread:>13s} {median / base:8.2f}")
    store.close()


if __name__ == "__main__":
    main()
