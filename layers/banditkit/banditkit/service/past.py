"""The original API's views of stored snapshots: `history` in GET /allocation (the latest
ten) and in GET /experiments/{id}/history, with their totals summed over variants."""

from __future__ import annotations

import weakref

from banditkit import models
from banditkit.cache import BoundedCache
from banditkit.service.loading import Loaded
from banditkit.store import Snapshot, Store

PAST_ALLOCATIONS = 10

# Per store: (experiment id, created_at) -> ((version, data_version), latest snapshots).
# Kept only once the latest snapshot is of the experiment's current data and settings: no
# reader adds another at that state (write_snapshot skips an equal fingerprint), so the
# list holds until version or data_version moves. Saves a query per read (a DynamoDB Query).
_LATEST: weakref.WeakKeyDictionary[Store, BoundedCache[tuple[tuple[int, int], list[Snapshot]]]]
_LATEST = weakref.WeakKeyDictionary()


def _totals(snap: Snapshot) -> tuple[int, int]:
    counted = snap.totals.values()
    return sum(t.get("impressions", 0) for t in counted), sum(t.get("clicks", 0) for t in counted)


def history_entry(snap: Snapshot) -> models.HistoryEntry:
    impressions, clicks = _totals(snap)
    return models.HistoryEntry(
        date=snap.computed_at.date(),
        algorithm="thompson_sampling",
        allocations=snap.allocations,
        total_impressions=impressions,
        total_clicks=clicks,
    )


def latest_snapshots(store: Store, own: Loaded) -> list[Snapshot]:
    """The latest PAST_ALLOCATIONS snapshots; `own` is the experiment loaded with its own
    settings (no window_days override), the state the snapshots follow."""
    exp = own.experiment
    cache = _LATEST.get(store)
    if cache is None:
        cache = _LATEST.setdefault(store, BoundedCache(10_000))
    key, state = (exp.id, exp.created_at), (exp.version, exp.data_version)
    hit = cache.get(key)
    if hit is not None and hit[0] == state:
        return hit[1]
    snaps = store.list_snapshots(exp.id, limit=PAST_ALLOCATIONS).items
    if snaps and snaps[0].data_fingerprint == own.fingerprint:
        cache.put(key, (state, snaps))
    return snaps


def past_allocations(store: Store, own: Loaded) -> list[models.PastAllocation]:
    """GET /allocation's `history`: the latest snapshots, newest first."""
    out = []
    for snap in latest_snapshots(store, own):
        impressions, clicks = _totals(snap)
        out.append(
            models.PastAllocation(
                date=snap.computed_at.date(),
                allocations=snap.allocations,
                algorithm="thompson_sampling",
                window_days=own.settings.window_days,
                total_impressions=impressions,
                total_clicks=clicks,
            )
        )
    return out
