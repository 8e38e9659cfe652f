"""The scheduled recompute: every running experiment, stalest snapshot first, until the
deadline; unchanged data stores nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
from collections.abc import Callable
from typing import Any

from banditkit.service.allocation import compute
from banditkit.service.loading import Clock, load, utcnow
from banditkit.store import Experiment, Snapshot, Store

log = logging.getLogger("banditkit.service")


@dataclasses.dataclass
class RecomputeResult:
    considered: int = 0
    recomputed: int = 0
    unchanged: int = 0
    snapshots_written: int = 0
    failed: int = 0
    failures: list[dict[str, str]] = dataclasses.field(default_factory=list)
    stopped_early: bool = False
    remaining: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _running_experiments(store: Store, page_size: int) -> list[Experiment]:
    out: list[Experiment] = []
    cursor: str | None = None
    while True:
        page = store.list_experiments(status="running", limit=page_size, cursor=cursor)
        out.extend(page.items)
        cursor = page.next_cursor
        if not cursor:
            return out


def recompute_all(
    store: Store,
    *,
    time_left: Callable[[], float] = lambda: math.inf,
    margin_seconds: float = 5.0,
    page_size: int = 100,
    now: Clock = utcnow,
) -> RecomputeResult:
    """Recompute every running experiment, stalest snapshot first; store a snapshot when the
    data changed (trigger `schedule`). One failure never stops the rest; the run stops when
    `time_left()` (seconds) drops below `margin_seconds`, and the next run, again stalest
    first, picks up what was left."""
    result = RecomputeResult()
    experiments = _running_experiments(store, page_size)
    latest: dict[str, Snapshot | None] = {}
    for exp in experiments:
        try:
            latest[exp.id] = store.latest_snapshot(exp.id)
        except Exception:  # one broken experiment never stops the rest
            latest[exp.id] = None
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)

    def staleness(exp: Experiment) -> tuple[dt.datetime, str]:
        snap = latest[exp.id]
        return (snap.computed_at if snap is not None else epoch, exp.id)

    queue = sorted(experiments, key=staleness)
    for index, exp in enumerate(queue):
        if time_left() < margin_seconds:
            result.stopped_early = True
            result.remaining = len(queue) - index
            break
        result.considered += 1
        try:
            loaded = load(store, exp.id)
            snap = latest[exp.id]
            if snap is not None and snap.data_fingerprint == loaded.fingerprint:
                result.unchanged += 1
                continue
            _, _, _, written = compute(store, loaded, "schedule", now())
            result.recomputed += 1
            result.snapshots_written += int(written)
        except Exception as err:  # isolate: log, count, carry on
            log.exception("recompute failed for experiment %s", exp.id)
            result.failed += 1
            result.failures.append({"experiment_id": exp.id, "error": type(err).__name__})
    return result
