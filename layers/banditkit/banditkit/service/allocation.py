"""Allocation and report: run the engine on an experiment's data, show frozen shares for
paused and completed experiments, and store a snapshot when the data changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from banditkit import engine, models
from banditkit.cache import BoundedCache
from banditkit.service.loading import (
    Clock,
    Loaded,
    even_split,
    load,
    seen,
    settings_out,
    utcnow,
)
from banditkit.store import Snapshot, Store
from banditkit.store.base import Trigger


def _previous_shares(store: Store, loaded: Loaded) -> dict[str, float] | None:
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


def _shown(
    store: Store, loaded: Loaded, allocation: engine.Allocation
) -> tuple[dict[str, float], str]:
    """The shares and status a reader gets: the engine's while running, else frozen."""
    if loaded.experiment.status == "running":
        return dict(allocation.shares), allocation.status
    return _frozen_shares(store, loaded), loaded.experiment.status


def _frozen_shares(store: Store, loaded: Loaded) -> dict[str, float]:
    """Paused/completed: the latest snapshot's shares if they cover the variants, else even."""
    latest = store.latest_snapshot(loaded.experiment.id)
    if latest is not None and set(latest.allocations) == set(loaded.variants):
        return {n: latest.allocations[n] for n in loaded.variants}
    return even_split(loaded.variants)


# The engine is deterministic: the same fingerprint (variants, counted data, settings,
# control) and previous shares give the same allocation, so repeated reads of unchanged
# data skip the maths. Keyed by content, so shared by every store of the process.
_ALLOCATIONS: BoundedCache[engine.Allocation] = BoundedCache(512)


def _engine_allocate(loaded: Loaded, previous: dict[str, float] | None) -> engine.Allocation:
    key = (loaded.fingerprint, tuple(sorted(previous.items())) if previous is not None else None)
    hit = _ALLOCATIONS.get(key)
    if hit is not None:
        return hit
    allocation = engine.allocate(
        loaded.variants, loaded.days, loaded.settings, control=loaded.control, previous=previous
    )
    _ALLOCATIONS.put(key, allocation)
    return allocation


@dataclasses.dataclass(frozen=True)
class AllocationResult:
    out: models.AllocationOut
    snapshot_written: bool


def _allocation_out(
    loaded: Loaded,
    allocation: engine.Allocation | None,
    shares: dict[str, float],
    status: str,
    at: dt.datetime,
) -> dict[str, Any]:
    variants = []
    if allocation is not None:
        variants = [  # the shares shown, which differ from the engine's when frozen
            models.VariantStats.model_validate(
                dataclasses.replace(v, allocation=shares.get(v.name, 0.0))
            )
            for v in allocation.variants
        ]
    return {
        "experiment_id": loaded.experiment.id,
        "allocations": shares,
        "status": status,
        "algorithm": "thompson_sampling",
        "settings": settings_out(loaded.settings),
        "variants": variants,
        "control": loaded.control,
        "winner": allocation.winner if allocation is not None else None,
        "potential_value_remaining": (
            allocation.potential_value_remaining if allocation is not None else None
        ),
        "computed_at": at,
        "data_fingerprint": loaded.fingerprint,
    }


def _snapshot(
    loaded: Loaded, allocation: engine.Allocation, trigger: Trigger, at: dt.datetime
) -> Snapshot:
    return Snapshot(
        experiment_id=loaded.experiment.id,
        computed_at=at,
        trigger=trigger,
        allocations=dict(allocation.shares),
        p_best={v.name: v.p_best for v in allocation.variants},
        totals={
            v.name: {"impressions": v.impressions, "clicks": v.clicks, "conversions": v.conversions}
            for v in allocation.variants
        },
        data_fingerprint=loaded.fingerprint,
        status=allocation.status,
    )


def compute(
    store: Store, loaded: Loaded, trigger: Trigger | None, at: dt.datetime
) -> tuple[engine.Allocation | None, dict[str, float], str, bool]:
    """Run the engine; store a snapshot when running, asked to and the data changed."""
    if not loaded.variants:
        return None, {}, "warming_up", False
    allocation = _engine_allocate(loaded, _previous_shares(store, loaded))
    shares, status = _shown(store, loaded, allocation)
    if loaded.experiment.status != "running":
        return allocation, shares, status, False
    written = False
    snapshotted = seen(store).snapshotted
    exp = loaded.experiment
    key, state = (exp.id, exp.created_at), (exp.version, exp.data_version, loaded.fingerprint)
    if trigger is not None and snapshotted.get(key) != state:
        # A read first: unchanged data (the common case) then takes no write lock at all;
        # write_snapshot itself stays the atomic judge for concurrent writers.
        latest = store.latest_snapshot(exp.id)
        if latest is None or latest.data_fingerprint != loaded.fingerprint:
            written = store.write_snapshot(_snapshot(loaded, allocation, trigger, at))
        snapshotted.put(key, state)
    return allocation, shares, status, written


def allocate(
    store: Store,
    experiment_id: str,
    *,
    window_days: int | None = None,
    trigger: Trigger = "api",
    now: Clock = utcnow,
) -> AllocationResult:
    """The shares for the next period. A snapshot is stored only when the data changed, and
    never for a window_days override (history follows the experiment's own settings)."""
    loaded = load(store, experiment_id, window_days)
    at = now()
    allocation, shares, status, written = compute(
        store, loaded, trigger if window_days is None else None, at
    )
    out = models.AllocationOut.model_validate(
        _allocation_out(loaded, allocation, shares, status, at)
    )
    return AllocationResult(out, written)


def report(store: Store, experiment_id: str, *, now: Clock = utcnow) -> models.ReportOut:
    """The allocation plus lifts vs control, regret so far and a recommendation."""
    loaded = load(store, experiment_id)
    at = now()
    if not loaded.variants:
        base = _allocation_out(loaded, None, {}, "warming_up", at)
        return models.ReportOut.model_validate(
            {
                **base,
                "lifts": [],
                "regret_so_far": 0.0,
                "gained_vs_even": 0.0,
                "recommendation": "No data yet: post daily counts to start the experiment.",
            }
        )
    rep = engine.report(
        loaded.variants,
        loaded.days,
        loaded.settings,
        control=loaded.control,
        previous=_previous_shares(store, loaded),
    )
    shares, status = _shown(store, loaded, rep.allocation)
    base = _allocation_out(loaded, rep.allocation, shares, status, at)
    return models.ReportOut.model_validate(
        {
            **base,
            "lifts": [models.LiftOut.model_validate(lf) for lf in rep.lifts],
            "regret_so_far": rep.regret_so_far,
            "gained_vs_even": rep.gained_vs_even,
            "recommendation": rep.recommendation,
        }
    )
