"""Use cases of the API over a store and the engine (NAMES.md: the same names at every depth).

Every function takes the store as its first argument and raises typed errors: the store's
(`ExperimentNotFound`, `Conflict`, `IdempotencyConflict`, `StoreUnavailable`, ...) and the ones
below. Nothing here knows HTTP; `banditkit.http.errors` maps the errors to problem+json.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import json
import logging
import math
import uuid
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import ValidationError

from banditkit import engine, models
from banditkit.cache import BoundedCache
from banditkit.engine import DailyCounts, InvalidSettings, RateChange, Settings
from banditkit.store import (
    Conflict,
    DailyRow,
    Experiment,
    IdempotencyRecord,
    Snapshot,
    Store,
    Variant,
)
from banditkit.store.base import Trigger

log = logging.getLogger("banditkit.service")

Clock = Callable[[], dt.datetime]
MAX_CSV_ERRORS = 200
UPDATE_RETRIES = 5


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# ---------------------------------------------------------------- errors


@dataclasses.dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ServiceError(Exception):
    """Base of the service's own errors."""


class InvalidRequest(ServiceError):
    """The request is well-formed but breaks a rule (422); `errors` names each field."""

    def __init__(self, errors: Sequence[FieldError], detail: str = "") -> None:
        self.errors = tuple(errors)
        self.detail = detail or "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(self.detail)


class PayloadTooLarge(ServiceError):
    """The request asks for more work or data than the caps allow (413)."""


class NoVariants(ServiceError):
    """The experiment has no variants yet, so there is nothing to assign (409)."""


# ---------------------------------------------------------------- settings and experiments


def engine_settings(overrides: Mapping[str, Any], *, prefix: str = "settings") -> Settings:
    """Engine settings from stored/posted overrides; InvalidRequest names `settings.<field>`."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if k in Settings.names()})
    except InvalidSettings as err:
        raise InvalidRequest([FieldError(f"{prefix}.{err.field}", err.message)]) from None


def _check_feasible(settings: Settings, variants: Sequence[Variant] | None) -> None:
    """Floors must fit for the declared variants, or for the maximum when none are declared."""
    n = len(variants) if variants else models.MAX_VARIANTS
    has_control = not variants or control_of(variants, [v.name for v in variants]) is not None
    try:
        settings.check_feasible(n, has_control)
    except InvalidSettings as err:
        raise InvalidRequest([FieldError(f"settings.{err.field}", err.message)]) from None


def control_of(variants: Sequence[Variant], names: Iterable[str]) -> str | None:
    """The variant flagged is_control, else the one named `control`, else None."""
    for v in variants:
        if v.is_control:
            return v.name
    return "control" if "control" in set(names) else None


def settings_out(settings: Settings) -> models.SettingsOut:
    return models.SettingsOut(**dataclasses.asdict(settings))


def experiment_out(exp: Experiment) -> models.ExperimentOut:
    return models.ExperimentOut(
        id=exp.id,
        name=exp.name,
        description=exp.description,
        status=exp.status,
        variants=[models.VariantOut(name=v.name, is_control=v.is_control) for v in exp.variants],
        variants_declared=exp.variants_declared,
        control=control_of(exp.variants, [v.name for v in exp.variants]),
        settings=settings_out(engine_settings(exp.settings)),
        created_at=exp.created_at,
        updated_at=exp.updated_at,
    )


def create_experiment(
    store: Store, body: models.ExperimentCreate, *, now: Clock = utcnow
) -> models.ExperimentOut:
    declared = [Variant(v.name, v.is_control) for v in _variant_ins(body.variants)]
    overrides = body.settings.overrides()
    _check_feasible(engine_settings(overrides), declared)
    at = now()
    exp = Experiment(
        id=body.id or uuid.uuid4().hex[:16],
        name=body.name,
        description=body.description,
        status="running",
        variants=tuple(declared),
        variants_declared=bool(declared),
        settings=overrides,
        created_at=at,
        updated_at=at,
    )
    return experiment_out(store.create_experiment(exp))


def _variant_ins(value: Sequence[models.VariantIn] | None) -> list[models.VariantIn]:
    return list(value or ())


def list_experiments(
    store: Store,
    status: models.ExperimentStatus | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> models.ExperimentPage:
    page = store.list_experiments(status=status, limit=limit, cursor=cursor)
    return models.ExperimentPage(
        items=[experiment_out(e) for e in page.items], next_cursor=page.next_cursor
    )


def get_experiment(store: Store, experiment_id: str) -> models.ExperimentOut:
    return experiment_out(store.get_experiment(experiment_id))


def update_experiment(
    store: Store, experiment_id: str, patch: models.ExperimentPatch, *, now: Clock = utcnow
) -> models.ExperimentOut:
    """Apply a partial update with optimistic versioning (retried on a concurrent change)."""
    for attempt in range(UPDATE_RETRIES):
        exp = store.get_experiment(experiment_id)
        updated = _patched(exp, patch, now())
        try:
            return experiment_out(store.update_experiment(updated, expected_version=exp.version))
        except Conflict:
            if attempt == UPDATE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _patched(exp: Experiment, patch: models.ExperimentPatch, at: dt.datetime) -> Experiment:
    changes: dict[str, Any] = {"updated_at": at}
    fields = patch.model_fields_set
    if "name" in fields and patch.name is not None:
        changes["name"] = patch.name
    if "description" in fields and patch.description is not None:
        changes["description"] = patch.description
    if "status" in fields and patch.status is not None:
        changes["status"] = patch.status
    variants = list(exp.variants)
    if patch.variants:
        known = {v.name for v in variants}
        has_control = any(v.is_control for v in variants)
        problems = []
        for i, v in enumerate(_variant_ins(patch.variants)):
            if v.name in known:
                problems.append(FieldError(f"variants.{i}.name", f"variant {v.name!r} exists"))
            if v.is_control and has_control:
                problems.append(
                    FieldError(f"variants.{i}.is_control", "the experiment has a control")
                )
            variants.append(Variant(v.name, v.is_control))
        if len(variants) > models.MAX_VARIANTS:
            problems.append(FieldError("variants", f"at most {models.MAX_VARIANTS} variants"))
        if problems:
            raise InvalidRequest(problems)
        changes["variants"] = tuple(variants)
        changes["variants_declared"] = True
    overrides = dict(exp.settings)
    if patch.settings is not None:
        overrides.update(patch.settings.overrides())
        changes["settings"] = overrides
    declared = variants if (exp.variants_declared or patch.variants) else None
    _check_feasible(engine_settings(overrides), declared)
    return dataclasses.replace(exp, **changes)


def delete_experiment(store: Store, experiment_id: str) -> None:
    store.get_experiment(experiment_id)  # ExperimentNotFound -> 404
    store.delete_experiment(experiment_id)
    _seen(store).clear()  # an experiment made again under this id starts afresh


def _add_discovered(store: Store, experiment_id: str, names: Sequence[str]) -> None:
    """Record variants first seen in events on an experiment that declared none."""
    for _ in range(UPDATE_RETRIES):
        exp = store.get_experiment(experiment_id)
        known = {v.name for v in exp.variants}
        new = [n for n in dict.fromkeys(names) if n not in known]
        if not new or exp.variants_declared:
            return
        updated = dataclasses.replace(exp, variants=exp.variants + tuple(Variant(n) for n in new))
        try:
            store.update_experiment(updated, expected_version=exp.version)
            return
        except Conflict:
            continue
    # The counts are stored; allocation reads variants from the data too, so nothing is lost.
    log.warning("could not record new variants of %s after retries", experiment_id)


def _check_variant_names(
    exp: Experiment, names: Sequence[str], field: Callable[[int], str]
) -> list[str]:
    """Raise InvalidRequest for names a declared experiment does not know; return new names."""
    known = {v.name for v in exp.variants}
    if exp.variants_declared:
        problems = [
            FieldError(field(i), f"unknown variant {n!r}; declared: {', '.join(sorted(known))}")
            for i, n in enumerate(names)
            if n not in known
        ]
        if problems:
            raise InvalidRequest(problems)
        return []
    new = [n for n in dict.fromkeys(names) if n not in known]
    if len(known) + len(new) > models.MAX_VARIANTS:
        raise InvalidRequest(
            [FieldError("variants", f"an experiment has at most {models.MAX_VARIANTS} variants")]
        )
    return new


# ---------------------------------------------------------------- events


def request_hash(body: models.EventsIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def ingest_events(
    store: Store, body: models.EventsIn, idempotency_key: str | None = None
) -> models.EventsOut:
    """Write one day of counts (all variants or none); replays return the first answer."""
    exp = store.get_experiment(body.experiment_id)
    names = [v.variant_name for v in body.variants]
    new = _check_variant_names(exp, names, lambda i: f"variants.{i}.variant_name")
    rows = [
        DailyRow(body.date, v.variant_name, v.impressions, v.clicks, v.conversions)
        for v in body.variants
    ]
    out = models.EventsOut(
        experiment_id=exp.id,
        date=body.date,
        mode=body.mode,
        variants_processed=len(rows),
        total_impressions=sum(r.impressions for r in rows),
        total_clicks=sum(r.clicks for r in rows),
        total_conversions=sum(r.conversions for r in rows),
    )
    key = None if idempotency_key is None else (idempotency_key, request_hash(body))
    return _write_once(store, exp.id, rows, body.mode, key, new, out)


Out = TypeVar("Out", models.EventsOut, models.ImportOut)


def _write_once(
    store: Store,
    experiment_id: str,
    rows: Sequence[DailyRow],
    mode: models.WriteMode,
    key: tuple[str, str] | None,
    new: Sequence[str],
    out: Out,
) -> Out:
    """Store the rows; with (Idempotency-Key, request hash) a replay answers the first
    response, marked replayed. Variants first seen here are recorded either way: a first
    attempt may have failed after its counts committed."""
    record = None
    if key is not None:
        record = IdempotencyRecord(f"{experiment_id}:{key[0]}", key[1], out.model_dump(mode="json"))
    first = store.write_daily(experiment_id, rows, mode, record)
    if new:
        _add_discovered(store, experiment_id, new)
    if first is not None:
        return type(out).model_validate({**first, "replayed": True})
    return out


_CSV_REQUIRED = ("date", "variant_name", "impressions", "clicks")
_CSV_OPTIONAL = ("conversions", "experiment_id")


def import_request_hash(data: bytes, mode: models.WriteMode) -> str:
    return hashlib.sha256(b"import\n" + mode.encode() + b"\n" + data).hexdigest()


def import_csv(
    store: Store,
    experiment_id: str,
    data: bytes,
    mode: models.WriteMode = "set",
    idempotency_key: str | None = None,
) -> models.ImportOut:
    """Store every row of a CSV file: InvalidRequest lists every bad row, nothing stored.
    On DynamoDB a file beyond one transaction is written in parts (Store.write_daily): an
    increment import then needs an Idempotency-Key, and a retry with it counts once."""
    exp = store.get_experiment(experiment_id)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRequest([FieldError("body", "the file is not UTF-8 text")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or ()]
    missing = [c for c in _CSV_REQUIRED if c not in header]
    unknown = [c for c in header if c not in _CSV_REQUIRED + _CSV_OPTIONAL]
    if missing or unknown or len(set(header)) != len(header):
        msg = "header must be date,variant_name,impressions,clicks[,conversions][,experiment_id]"
        raise InvalidRequest([FieldError("header", msg)])
    reader.fieldnames = header
    problems: list[FieldError] = []
    rows: list[DailyRow] = []
    seen: set[tuple[dt.date, str]] = set()
    known = {v.name for v in exp.variants}
    records = iter(reader)
    line = 1  # the header
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as err:  # an unterminated quote, a cell past the csv size limit, ...
            problems.append(FieldError(f"line.{line + 1}", f"unreadable CSV: {err}"))
            break
        line = reader.line_num
        if None in record:
            problems.append(FieldError(f"line.{line}", "more cells than header columns"))
            continue
        cells = {k: v.strip() for k, v in record.items() if v is not None and v.strip() != ""}
        if not cells:
            continue  # a blank line
        for k in ("impressions", "clicks", "conversions"):
            value = cells.get(k)
            if value is not None and value.isascii() and value.isdigit() and len(value) <= 18:
                cells[k] = int(value)  # else left a string: the strict model names the cell
        try:
            row = models.CsvRow.model_validate(cells)
        except ValidationError as err:
            problems.extend(
                FieldError(
                    f"line.{line}.{'.'.join(str(p) for p in e['loc'])}",
                    e["msg"].removeprefix("Value error, "),
                )
                for e in err.errors(include_url=False)
            )
            continue
        if row.experiment_id is not None and row.experiment_id != exp.id:
            problems.append(
                FieldError(f"line.{line}.experiment_id", f"must be {exp.id!r} or empty")
            )
        if exp.variants_declared and row.variant_name not in known:
            problems.append(
                FieldError(
                    f"line.{line}.variant_name",
                    f"unknown variant {row.variant_name!r}; declared: {', '.join(sorted(known))}",
                )
            )
        key = (row.date, row.variant_name)
        if key in seen:
            problems.append(
                FieldError(f"line.{line}", f"duplicate row for {row.date} {row.variant_name!r}")
            )
        seen.add(key)
        rows.append(
            DailyRow(row.date, row.variant_name, row.impressions, row.clicks, row.conversions)
        )
    if not rows and not problems:
        problems.append(FieldError("body", "no data rows"))
    new: list[str] = []
    if not problems:
        names = list(dict.fromkeys(r.variant_name for r in rows))
        try:
            new = _check_variant_names(exp, names, lambda i: "variant_name")
        except InvalidRequest as err:
            problems.extend(err.errors)
    if problems:
        shown = problems[:MAX_CSV_ERRORS]
        more = len(problems) - len(shown)
        detail = f"{len(problems)} problem(s) in the file; nothing was stored"
        raise InvalidRequest(shown, detail + (f" ({more} more not listed)" if more else ""))
    out = models.ImportOut(
        experiment_id=exp.id,
        mode=mode,
        rows_imported=len(rows),
        days=len({r.date for r in rows}),
        variants=list(dict.fromkeys(r.variant_name for r in rows)),
        total_impressions=sum(r.impressions for r in rows),
        total_clicks=sum(r.clicks for r in rows),
        total_conversions=sum(r.conversions for r in rows),
    )
    guard = None if idempotency_key is None else (idempotency_key, import_request_hash(data, mode))
    return _write_once(store, exp.id, rows, mode, guard, new, out)


# ---------------------------------------------------------------- allocation


@dataclasses.dataclass(frozen=True)
class Loaded:
    """An experiment with its data, ready for the engine."""

    experiment: Experiment
    settings: Settings
    variants: list[str]
    control: str | None
    days: list[DailyCounts]
    fingerprint: str


@dataclasses.dataclass
class _Seen:
    """What this process has read from one store object, so unchanged data is not read again.

    `loaded`: what _load last read of an experiment (id, created_at) and window. The same
    (version, data_version) means the same rows and settings (the store bumps data_version
    with every write), so a repeated read costs one small query; a newer state replaces the
    entry. Bounded by the rows held.
    `snapshotted`: the state (version, data_version, fingerprint) whose snapshot this process
    last wrote or saw as the latest, so unchanged data does not ask for it again either (data
    that returns to an earlier state has a new data_version, so it asks).
    """

    loaded: BoundedCache[Loaded] = dataclasses.field(default_factory=lambda: BoundedCache(100_000))
    snapshotted: BoundedCache[tuple[int, int, str]] = dataclasses.field(
        default_factory=lambda: BoundedCache(10_000)
    )

    def clear(self) -> None:
        self.loaded.clear()
        self.snapshotted.clear()


_SEEN: weakref.WeakKeyDictionary[Store, _Seen] = weakref.WeakKeyDictionary()


def _seen(store: Store) -> _Seen:
    seen = _SEEN.get(store)
    return seen if seen is not None else _SEEN.setdefault(store, _Seen())


def _load(store: Store, experiment_id: str, window_days: int | None = None) -> Loaded:
    exp = store.get_experiment(experiment_id)
    key = (exp.id, exp.created_at, window_days)
    cache = _seen(store).loaded
    hit = cache.get(key)
    if hit is not None and (hit.experiment.version, hit.experiment.data_version) == (
        exp.version,
        exp.data_version,
    ):
        return hit
    loaded = _read(store, exp, window_days)
    cache.put(key, loaded, weight=len(loaded.days) + 1)
    return loaded


def _read(store: Store, exp: Experiment, window_days: int | None) -> Loaded:
    settings = engine_settings(exp.settings)
    if window_days is not None:
        settings = dataclasses.replace(settings, window_days=window_days)
    rows = store.read_daily(exp.id)
    names = [v.name for v in exp.variants]
    known = set(names)
    names += sorted({r.variant_name for r in rows} - known)
    control = control_of(exp.variants, names)
    days = [
        DailyCounts(r.date, r.variant_name, r.impressions, r.clicks, r.conversions) for r in rows
    ]
    fp = engine.fingerprint(names, days, settings, control)
    return Loaded(exp, settings, names, control, days, fp)


def even_split(names: Sequence[str]) -> dict[str, float]:
    """Equal shares rounded to 6 decimals that sum to exactly 1."""
    if not names:
        return {}
    share = math.floor(1e6 / len(names)) / 1e6
    shares = dict.fromkeys(names, share)
    shares[names[0]] = round(1.0 - share * (len(names) - 1), 6)
    return shares


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
            allocation.potential_value_remaining if allocation is not None else 0.0
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


def _compute(
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
    snapshotted = _seen(store).snapshotted
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
    loaded = _load(store, experiment_id, window_days)
    at = now()
    allocation, shares, status, written = _compute(
        store, loaded, trigger if window_days is None else None, at
    )
    out = models.AllocationOut.model_validate(
        _allocation_out(loaded, allocation, shares, status, at)
    )
    return AllocationResult(out, written)


def report(store: Store, experiment_id: str, *, now: Clock = utcnow) -> models.ReportOut:
    """The allocation plus lifts vs control, regret so far and a recommendation."""
    loaded = _load(store, experiment_id)
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


def unit_point(experiment_id: str, unit_id: str) -> float:
    """A uniform point in [0, 1) from the unit id, stable across processes and releases."""
    digest = hashlib.sha256(f"{experiment_id}\x00{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick(shares: Mapping[str, float], point: float) -> str:
    """The variant whose cumulative share interval holds `point` (in the shares' order)."""
    names = list(shares)
    total = 0.0
    for name in names:
        total += shares[name]
        if point < total:
            return name
    return names[-1]


def assign(
    store: Store, experiment_id: str, unit_id: str, *, now: Clock = utcnow
) -> models.AssignOut:
    """Map a unit deterministically onto the current shares (same unit, same shares, same
    variant; when shares move, only units near the moved boundaries change variant)."""
    result = allocate(store, experiment_id, now=now).out
    if not result.allocations:
        raise NoVariants(f"experiment {experiment_id!r} has no variants yet")
    return models.AssignOut(
        experiment_id=result.experiment_id,
        unit_id=unit_id,
        variant=pick(result.allocations, unit_point(experiment_id, unit_id)),
        data_fingerprint=result.data_fingerprint,
    )


def simulate(body: models.SimulateIn) -> models.SimulateOut:
    """Run the real engine on a synthetic experiment (sizes capped)."""
    names = [v.name for v in body.variants]
    if body.days * len(names) > models.SIM_MAX_WORK:
        raise PayloadTooLarge(
            f"days x variants = {body.days * len(names)} exceeds the cap of {models.SIM_MAX_WORK}"
        )
    problems = [
        FieldError(f"changes.{i}.day", f"must be below days ({body.days})")
        for i, c in enumerate(body.changes)
        if c.day >= body.days
    ]
    if problems:
        raise InvalidRequest(problems)
    settings = engine_settings(body.settings.overrides())
    variants = [Variant(v.name, v.is_control) for v in body.variants]
    _check_feasible(settings, variants)
    control = control_of(variants, names)
    sim = engine.simulate(
        names,
        [v.rate for v in body.variants],
        body.daily_impressions,
        body.days,
        settings,
        control=control,
        changes=[RateChange(c.day, tuple(c.rates)) for c in body.changes],
        seed=body.seed,
    )
    return models.SimulateOut(
        variants=list(sim.variants),
        days=[
            models.SimDay(
                day=i,
                shares=dict(zip(sim.variants, shares, strict=True)),
                cumulative_regret=sim.cumulative_regret[i],
                even_cumulative_regret=sim.even_cumulative_regret[i],
            )
            for i, shares in enumerate(sim.shares)
        ],
        successes=sim.successes,
        even_successes=sim.even_successes,
        extra=dict(sim.extra),
    )


# ---------------------------------------------------------------- history and metrics


def history(
    store: Store,
    experiment_id: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> models.HistoryOut:
    store.get_experiment(experiment_id)
    page = store.list_snapshots(experiment_id, start=start, end=end, limit=limit, cursor=cursor)
    return models.HistoryOut(
        experiment_id=experiment_id,
        items=[models.SnapshotOut.model_validate(s) for s in page.items],
        next_cursor=page.next_cursor,
    )


def metrics(
    store: Store, experiment_id: str, start: dt.date | None = None, end: dt.date | None = None
) -> models.MetricsOut:
    store.get_experiment(experiment_id)
    by_day: dict[dt.date, list[models.DayVariant]] = {}
    for r in store.read_daily(experiment_id, start, end):
        by_day.setdefault(r.date, []).append(models.DayVariant.model_validate(r))
    return models.MetricsOut(
        experiment_id=experiment_id,
        days=[models.MetricsDay(date=d, variants=v) for d, v in sorted(by_day.items())],
    )


# ---------------------------------------------------------------- scheduled recompute


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
            loaded = _load(store, exp.id)
            snap = latest[exp.id]
            if snap is not None and snap.data_fingerprint == loaded.fingerprint:
                result.unchanged += 1
                continue
            _, _, _, written = _compute(store, loaded, "schedule", now())
            result.recomputed += 1
            result.snapshots_written += int(written)
        except Exception as err:  # isolate: log, count, carry on
            log.exception("recompute failed for experiment %s", exp.id)
            result.failed += 1
            result.failures.append({"experiment_id": exp.id, "error": type(err).__name__})
    return result


def reset(store: Store) -> None:
    store.reset()
    _seen(store).clear()
