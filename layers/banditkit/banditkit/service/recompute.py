"""The scheduled recompute, in two steps that scale apart.

`plan_recompute` pages the running experiments (the status index) and keeps those whose
state moved since their latest snapshot (`Experiment.snapshot_state`): an unchanged
experiment costs its share of one page read and nothing else. `recompute_one` computes one
experiment and stores its snapshot when the data changed. On AWS a planner function sends the
changed ids to a queue that worker functions drain (`banditkit.aws`); locally and in tests
`recompute_all` runs both steps in one process until its deadline.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any, Literal

from banditkit.service.allocation import compute
from banditkit.service.loading import Clock, load, utcnow
from banditkit.store import Experiment, ExperimentNotFound, Store
from banditkit.store.base import snapshot_state_of

log = logging.getLogger("banditkit.service")

Outcome = Literal["recomputed", "unchanged", "gone"]


@dataclasses.dataclass
class Plan:
    """One page of the running experiments: those to recompute and the count skipped."""

    changed: list[Experiment]
    unchanged: int
    next_cursor: str | None


def plan_recompute(store: Store, *, page_size: int = 100, cursor: str | None = None) -> Plan:
    """One page of running experiments, split into changed (never snapshotted first) and
    unchanged. Page on with `next_cursor` until it is None."""
    page = store.list_experiments(status="running", limit=page_size, cursor=cursor)
    changed = [e for e in page.items if e.snapshot_state != snapshot_state_of(e)]
    changed.sort(key=lambda e: e.snapshot_state != "")  # never snapshotted first
    return Plan(changed, len(page.items) - len(changed), page.next_cursor)


def plan_pages(store: Store, page_size: int = 100) -> Iterator[Plan]:
    cursor: str | None = None
    while True:
        plan = plan_recompute(store, page_size=page_size, cursor=cursor)
        yield plan
        cursor = plan.next_cursor
        if not cursor:
            return


def recompute_one(store: Store, experiment_id: str, *, now: Clock = utcnow) -> tuple[Outcome, bool]:
    """Recompute one experiment (trigger `schedule`): the outcome and whether a snapshot was
    written. An experiment deleted or no longer running since it was planned is `gone`."""
    try:
        loaded = load(store, experiment_id)
    except ExperimentNotFound:
        return "gone", False
    if loaded.experiment.status != "running":
        return "gone", False
    before = loaded.experiment.snapshot_state
    _, _, _, written = compute(store, loaded, "schedule", now())
    unchanged = not written and before == snapshot_state_of(loaded.experiment)
    return ("unchanged" if unchanged else "recomputed"), written


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
    planned: int = 0  # changed experiments the plan found (recompute_all)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def add(self, experiment_id: str, work: Callable[[], tuple[Outcome, bool]]) -> bool:
        """Run one experiment's recompute, counting its outcome; False when it failed (one
        failure never stops the rest)."""
        self.considered += 1
        try:
            outcome, written = work()
        except Exception as err:  # isolate: log, count, carry on
            log.exception("recompute failed for experiment %s", experiment_id)
            self.failed += 1
            self.failures.append({"experiment_id": experiment_id, "error": type(err).__name__})
            return False
        self.recomputed += outcome == "recomputed"
        self.unchanged += outcome != "recomputed"
        self.snapshots_written += int(written)
        return True


def recompute_all(
    store: Store,
    *,
    time_left: Callable[[], float] = lambda: math.inf,
    margin_seconds: float = 5.0,
    page_size: int = 100,
    now: Clock = utcnow,
) -> RecomputeResult:
    """Plan every page, then recompute the changed experiments (never snapshotted first)
    until `time_left()` (seconds) drops below `margin_seconds`; the next run picks up what
    was left, since its state has still not been marked."""
    result = RecomputeResult()
    changed: list[Experiment] = []
    for plan in plan_pages(store, page_size):
        changed.extend(plan.changed)
        result.unchanged += plan.unchanged
        result.considered += plan.unchanged
    changed.sort(key=lambda e: e.snapshot_state != "")  # stable: pages' order otherwise
    result.planned = len(changed)
    for index, exp in enumerate(changed):
        if time_left() < margin_seconds:
            result.stopped_early = True
            result.remaining = len(changed) - index
            break
        result.add(exp.id, functools.partial(recompute_one, store, exp.id, now=now))
    return result
