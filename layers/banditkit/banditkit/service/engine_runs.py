"""What the engine is given besides the data, and its cached runs: the shares the
max_daily_shift limit counts from, the P(best) history the sharpened rule reads, and the
allocation and report for a (fingerprint, previous shares, history), computed once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from banditkit import engine
from banditkit.cache import BoundedCache
from banditkit.service.cpu import cpu_slot
from banditkit.service.loading import Loaded
from banditkit.store import Store


def previous_shares(store: Store, loaded: Loaded) -> dict[str, float] | None:
    """Shares the max_daily_shift limit counts from: the latest snapshot of other data.
    None without the limit, and for a paused or completed experiment (its shares freeze)."""
    if loaded.settings.max_daily_shift is None or loaded.experiment.status != "running":
        return None
    page = store.list_snapshots(loaded.experiment.id, limit=2)
    for snap in page.items:
        if snap.data_fingerprint != loaded.fingerprint:
            known = set(loaded.variants)
            return {k: v for k, v in snap.allocations.items() if k in known}
    return None


# The sharpened rule's "new high" guard reads at most this many recent snapshots.
HISTORY_LIMIT = 200


def history_of(store: Store, loaded: Loaded, at: dt.datetime) -> list[dict[str, float]] | None:
    """P(best) of the snapshots of the rule's last LOOKBACK_DAYS (oldest first, newest
    HISTORY_LIMIT at most) for allocation_rule "sharpened"; None for "thompson". Snapshots
    of the current data are left out: the guard compares today with the days before."""
    if loaded.settings.allocation_rule != "sharpened":
        return None
    from banditkit.engine.sharpen import LOOKBACK_DAYS  # numpy: only allocation reads need it

    start = at - dt.timedelta(days=LOOKBACK_DAYS)
    page = store.list_snapshots(loaded.experiment.id, start=start, limit=HISTORY_LIMIT)
    known = set(loaded.variants)
    return [
        {k: v for k, v in snap.p_best.items() if k in known}
        for snap in reversed(page.items)
        if snap.data_fingerprint != loaded.fingerprint
    ]


_ALLOCATIONS: BoundedCache[engine.Allocation] = BoundedCache(512)


_REPORTS: BoundedCache[engine.Report] = BoundedCache(256)

History = list[dict[str, float]]


def _cache_key(
    loaded: Loaded, previous: dict[str, float] | None, history: History | None
) -> tuple[object, ...]:
    return (
        loaded.fingerprint,
        tuple(sorted(previous.items())) if previous is not None else None,
        tuple(tuple(sorted(h.items())) for h in history) if history is not None else None,
    )


R = TypeVar("R", engine.Allocation, engine.Report)


def _run(
    cache: BoundedCache[R],
    compute: Callable[..., R],
    loaded: Loaded,
    previous: dict[str, float] | None,
    history: History | None,
) -> R:
    """compute (engine.allocate or engine.report) on the loaded data, once per inputs."""
    key = _cache_key(loaded, previous, history)
    hit = cache.get(key)
    if hit is not None:
        return hit
    with cpu_slot():
        out = compute(
            loaded.variants,
            loaded.days,
            loaded.settings,
            control=loaded.control,
            previous=previous,
            history=history,
        )
    cache.put(key, out)
    return out


def engine_allocate(
    loaded: Loaded, previous: dict[str, float] | None, history: History | None = None
) -> engine.Allocation:
    return _run(_ALLOCATIONS, engine.allocate, loaded, previous, history)


def engine_report(
    loaded: Loaded, previous: dict[str, float] | None, history: History | None = None
) -> engine.Report:
    """engine.report, cached like the allocation: unchanged data is not computed again."""
    return _run(_REPORTS, engine.report, loaded, previous, history)
