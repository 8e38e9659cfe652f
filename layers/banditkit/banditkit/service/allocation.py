"""Allocation and report: run the engine on an experiment's data, show frozen shares for
paused and completed experiments (or all traffic on the variant a completed one shipped),
and store a snapshot when the data changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from banditkit import engine, models
from banditkit.service import signals
from banditkit.service.engine_runs import (
    engine_allocate,
    engine_report,
    history_of,
    previous_shares,
)
from banditkit.service.loading import (
    Clock,
    Loaded,
    even_split,
    load,
    seen,
    settings_out,
    utcnow,
)
from banditkit.service.past import past_allocations
from banditkit.store import Experiment, Snapshot, Store
from banditkit.store.base import Trigger, snapshot_state_of


def _shown(
    store: Store, loaded: Loaded, allocation: engine.Allocation
) -> tuple[dict[str, float], str]:
    """The shares and status a reader gets: the engine's while running; all to the shipped
    variant once completed with one; else frozen."""
    exp = loaded.experiment
    if exp.status == "running":
        return dict(allocation.shares), allocation.status
    if exp.status == "completed" and exp.shipped_variant in loaded.variants:
        return {n: float(n == exp.shipped_variant) for n in loaded.variants}, exp.status
    return _frozen_shares(store, loaded), exp.status


def _frozen_shares(store: Store, loaded: Loaded) -> dict[str, float]:
    """Paused/completed: the latest snapshot's shares if they cover the variants, else even."""
    latest = store.latest_snapshot(loaded.experiment.id)
    if latest is not None and set(latest.allocations) == set(loaded.variants):
        return {n: latest.allocations[n] for n in loaded.variants}
    return even_split(loaded.variants)


# The engine is deterministic: the same fingerprint (variants, counted data, settings,
# control) and previous shares give the same allocation, so repeated reads of unchanged
# data skip the maths. Keyed by content, so shared by every store of the process.
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
        **_original_fields(loaded, variants),
    }


def _original_fields(loaded: Loaded, variants: list[models.VariantStats]) -> dict[str, Any]:
    """The original API's `window_days`, `parameters` and `summary` (`history` is added by
    the caller, which has the store)."""
    settings = loaded.settings
    return {
        "window_days": settings.window_days,
        "parameters": {
            "min_explore_rate": settings.min_explore_rate,
            "control_floor": settings.control_floor,
            "max_daily_shift": settings.max_daily_shift,
        },
        "summary": {
            "total_impressions": sum(v.impressions for v in variants),
            "total_clicks": sum(v.clicks for v in variants),
            "total_conversions": sum(v.conversions for v in variants),
            "variants": [
                {
                    "name": v.name,
                    "impressions": v.impressions,
                    "clicks": v.clicks,
                    "conversions": v.conversions,
                }
                for v in variants
            ],
        },
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
        latest_day=max((d.day for d in loaded.days), default=None),
    )


def compute(
    store: Store, loaded: Loaded, trigger: Trigger | None, at: dt.datetime
) -> tuple[engine.Allocation | None, dict[str, float], str, bool]:
    """Run the engine; store a snapshot when running, asked to and the data changed, and
    mark on the experiment the state the snapshot saw (the scheduled recompute skips it
    until the state moves)."""
    if not loaded.variants:
        if trigger is not None:
            _mark(store, loaded.experiment)  # nothing to snapshot until variants appear
        return None, {}, "warming_up", False
    allocation = engine_allocate(
        loaded, previous_shares(store, loaded), history_of(store, loaded, at)
    )
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
        _mark(store, exp)
        snapshotted.put(key, state)
    return allocation, shares, status, written


def _mark(store: Store, exp: Experiment) -> None:
    state = snapshot_state_of(exp)
    if exp.snapshot_state != state:
        store.mark_snapshot_state(exp.id, state)


def allocate(
    store: Store,
    experiment_id: str,
    *,
    window_days: int | None = None,
    trigger: Trigger = "api",
    now: Clock = utcnow,
) -> AllocationResult:
    """The shares for the next period. A snapshot is stored only when the data or settings
    changed since the latest one. History follows the experiment's own settings: a
    window_days override answers with its window and stores the snapshot an unwindowed read
    would store at that moment (so reads with and without a window never alternate)."""
    loaded = load(store, experiment_id, window_days)
    own = loaded if window_days is None else load(store, experiment_id)
    at = now()
    # The experiment's own snapshot, whatever window this read asks for.
    allocation, shares, status, written = compute(store, own, trigger, at)
    if window_days is not None:
        allocation, shares, status, _ = compute(store, loaded, None, at)
    body = _allocation_out(loaded, allocation, shares, status, at)
    body["history"] = past_allocations(store, own)
    body["warnings"] = signals.warnings(store, loaded, allocation, at)
    body["reasons"] = signals.reasons(loaded, allocation)
    out = models.AllocationOut.model_validate(body)
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
                "history": past_allocations(store, loaded),
                "lifts": [],
                "regret_so_far": 0.0,
                "gained_vs_even": 0.0,
                "regret_by_day": [],
                "recommendation": "No data yet: post daily counts to start the experiment.",
            }
        )
    rep = engine_report(loaded, previous_shares(store, loaded), history_of(store, loaded, at))
    shares, status = _shown(store, loaded, rep.allocation)
    base = _allocation_out(loaded, rep.allocation, shares, status, at)
    estimates, disagree = signals.estimates(loaded, rep)
    return models.ReportOut.model_validate(
        {
            **base,
            "history": past_allocations(store, loaded),
            "warnings": signals.warnings(store, loaded, rep.allocation, at) + disagree,
            "reasons": signals.reasons(loaded, rep.allocation),
            "lifts": [models.LiftOut.model_validate(lf) for lf in rep.lifts],
            "regret_so_far": rep.regret_so_far,
            "gained_vs_even": rep.gained_vs_even,
            "regret_by_day": [models.RegretDayOut.model_validate(d) for d in rep.regret_by_day],
            "recommendation": rep.recommendation,
            "estimates": estimates,
        }
    )
