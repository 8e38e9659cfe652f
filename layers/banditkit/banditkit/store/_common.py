"""Helpers every backend shares: row checks, cursors, timestamps and record encoding."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from banditkit.store.base import (
    MAX_COUNT,
    Change,
    Conflict,
    DailyRow,
    Experiment,
    ExperimentNotFound,
    IdempotencyConflict,
    IdempotencyRecord,
    InvalidCursor,
    InvalidMetrics,
    Leader,
    Page,
    Snapshot,
    StoreError,
    TooManyVariants,
    Variant,
)

COUNT_FIELDS = ("impressions", "clicks", "conversions")


def check_rows(rows: Sequence[DailyRow]) -> None:
    """Refuse the whole batch when one row is malformed (before anything is written)."""
    seen: set[tuple[dt.date, str]] = set()
    for row in rows:
        key = (row.date, row.variant_name)
        if key in seen:
            raise InvalidMetrics(f"{row.date} {row.variant_name!r} appears twice in one batch")
        seen.add(key)
        if not row.variant_name or "\x00" in row.variant_name:
            raise InvalidMetrics("a variant name must be non-empty text without NUL")
        for name in COUNT_FIELDS:
            value = getattr(row, name)
            if type(value) is not int or not 0 <= value <= MAX_COUNT:
                raise InvalidMetrics(f"{name} of {row.variant_name!r} must be an integer >= 0")


def with_new_variants(
    experiment_id: str, stored: str, rows: Sequence[DailyRow], max_variants: int | None
) -> str | None:
    """The experiment's variants (as stored JSON) with the batch's unknown names appended;
    None when the batch names none. TooManyVariants past max_variants."""
    variants = variants_from_json(stored)
    known = {v.name for v in variants}
    new = [n for n in dict.fromkeys(r.variant_name for r in rows) if n not in known]
    if not new:
        return None
    if max_variants is not None and len(variants) + len(new) > max_variants:
        raise TooManyVariants(experiment_id, max_variants)
    return variants_json([*variants, *(Variant(n) for n in new)])


def first_response(record: IdempotencyRecord, stored: tuple[str, Any] | None) -> dict[str, Any]:
    """The first answer under `record`'s key, from what the store holds for it: (request
    hash, response as JSON text or decoded). IdempotencyConflict when it holds nothing
    (the key was claimed by a write that failed on another body) or another body's hash."""
    if stored is None or stored[0] != record.request_hash:
        raise IdempotencyConflict(f"idempotency key {record.key!r} was used with another body")
    response: dict[str, Any] = json.loads(stored[1]) if isinstance(stored[1], str) else stored[1]
    return response


def refused_update(experiment_id: str, expected: int, found: int | None) -> StoreError:
    """Why a conditional update_experiment changed nothing: gone, or at another version."""
    if found is None:
        return ExperimentNotFound(experiment_id)
    return Conflict(f"experiment {experiment_id!r} is at version {found}, not {expected}")


def utc(moment: dt.datetime) -> dt.datetime:
    """Timezone-aware UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC)


def ts(moment: dt.datetime) -> str:
    """Fixed-width UTC text that sorts like the instants it names."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str) -> dt.datetime:
    """The instant `ts` wrote (fromisoformat reads its trailing Z as UTC, 10x strptime)."""
    return dt.datetime.fromisoformat(text)


def cursor_ts(text: str) -> dt.datetime:
    """A cursor's instant, exactly as `ts` wrote it (InvalidCursor otherwise)."""
    try:
        moment = parse_ts(text)
    except ValueError:
        raise InvalidCursor("malformed cursor") from None
    if moment.tzinfo is None or ts(moment) != text:
        raise InvalidCursor("malformed cursor")
    return moment


def encode_cursor(*parts: str | int) -> str:
    raw = json.dumps(list(parts), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# What a cursor part can hold and every backend can bind: printable text (no NUL, controls
# or lone surrogates), integers that fit a signed 64-bit column.
INT64 = range(-(2**63), 2**63)


def _cursor_part(part: Any, expected: type) -> bool:
    if type(part) is not expected:
        return False
    if isinstance(part, int):
        return part in INT64
    return isinstance(part, str) and part.isprintable()


def decode_cursor(cursor: str, types: Sequence[type]) -> list[Any]:
    """The parts of a cursor made by encode_cursor, checked against the expected types and
    against what a store can bind (InvalidCursor otherwise, never a database error)."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("malformed cursor") from exc
    if (
        not isinstance(parts, list)
        or len(parts) != len(types)
        or not all(_cursor_part(p, t) for p, t in zip(parts, types, strict=True))
    ):
        raise InvalidCursor("malformed cursor")
    return parts


MAX_PAGE = 1000


def page_limit(limit: int) -> int:
    """The page size served for a requested `limit`: clamped to 1..MAX_PAGE."""
    return max(1, min(limit, MAX_PAGE))


def search_text_of(experiment_id: str, name: str) -> str:
    """What list_experiments' query is looked for in: the id and the name, case-folded
    (Python's folding on every backend, so "STRASSE" finds "Straße")."""
    return f"{experiment_id}\n{name}".casefold()


def search_query(query: str) -> str:
    """A list_experiments query as it is looked for: case-folded."""
    return query.casefold()


def like_pattern(query: str) -> str:
    """A LIKE pattern (ESCAPE '\\') finding `query` anywhere."""
    escaped = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def leader_of(p_best: dict[str, float], totals: dict[str, dict[str, int]]) -> Leader | None:
    """A snapshot's variant with the greatest P(best) (the first by name among equals), once
    every variant has impressions: before that P(best) reflects the prior, not the data."""
    if not p_best or any(totals.get(name, {}).get("impressions", 0) <= 0 for name in p_best):
        return None
    name, best = max(sorted(p_best.items()), key=lambda item: item[1])
    return Leader(name, float(best))


def leader_json(leader: Leader | None) -> str:
    return "" if leader is None else dumps({"variant": leader.variant, "p_best": leader.p_best})


def leader_from_json(text: str) -> Leader | None:
    if not text:
        return None
    raw = json.loads(text)
    return Leader(str(raw["variant"]), float(raw["p_best"]))


def experiment_cursor(cursor: str) -> tuple[dt.datetime, str]:
    """The (created_at, id) a list_experiments cursor resumes after (InvalidCursor if this
    store did not issue it)."""
    created, last_id = decode_cursor(cursor, (str, str))
    return cursor_ts(created), last_id


def experiment_page(items: list[Experiment], more: bool) -> Page[Experiment]:
    """A list_experiments page: `items` and, when `more` follow, the cursor after the last."""
    last = items[-1] if more else None
    return Page(items, None if last is None else encode_cursor(ts(last.created_at), last.id))


def variants_json(variants: Sequence[Variant]) -> str:
    return json.dumps([{"name": v.name, "is_control": v.is_control} for v in variants])


def variants_from_json(text: str) -> tuple[Variant, ...]:
    return tuple(Variant(v["name"], bool(v["is_control"])) for v in json.loads(text))


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# The field names of experiment_fields and snapshot_fields, in their order: the SQL stores'
# column order too.
EXPERIMENT_FIELDS = (
    "id",
    "name",
    "description",
    "status",
    "variants",
    "variants_declared",
    "settings",
    "created_at",
    "updated_at",
    "version",
    "data_version",
    "snapshot_state",
    "shipped_variant",
    "leader",
    "search_text",
    "changes",
)
SNAPSHOT_FIELDS = (
    "experiment_id",
    "computed_at",
    "trigger",
    "allocations",
    "p_best",
    "totals",
    "data_fingerprint",
    "status",
    "latest_day",
)


def experiment_fields(e: Experiment) -> dict[str, Any]:
    """An experiment as flat text/number fields (SQL columns, DynamoDB attributes)."""
    return {
        "id": e.id,
        "name": e.name,
        "description": e.description,
        "status": e.status,
        "variants": variants_json(e.variants),
        "variants_declared": e.variants_declared,
        "settings": dumps(e.settings),
        "created_at": ts(e.created_at),
        "updated_at": ts(e.updated_at),
        "version": e.version,
        "data_version": e.data_version,
        "snapshot_state": e.snapshot_state,
        "shipped_variant": e.shipped_variant or "",
        "leader": leader_json(e.leader),
        "search_text": search_text_of(e.id, e.name),
        "changes": changes_json(e.changes),
    }


def experiment_from_fields(f: dict[str, Any]) -> Experiment:
    return Experiment(
        id=str(f["id"]),
        name=str(f["name"]),
        description=str(f["description"]),
        status=f["status"],
        variants=variants_from_json(f["variants"]),
        variants_declared=bool(f["variants_declared"]),
        settings=json.loads(f["settings"]),
        created_at=parse_ts(f["created_at"]),
        updated_at=parse_ts(f["updated_at"]),
        version=int(f["version"]),
        data_version=int(f.get("data_version", 0)),
        snapshot_state=str(f.get("snapshot_state", "")),
        shipped_variant=str(f.get("shipped_variant", "")) or None,
        leader=leader_from_json(str(f.get("leader", ""))),
        changes=changes_from_json(f.get("changes") or "[]"),
    )


def snapshot_fields(s: Snapshot) -> dict[str, Any]:
    return {
        "experiment_id": s.experiment_id,
        "computed_at": ts(s.computed_at),
        "trigger": s.trigger,
        "allocations": dumps(s.allocations),
        "p_best": dumps(s.p_best),
        "totals": dumps(s.totals),
        "data_fingerprint": s.data_fingerprint,
        "status": s.status,
        "latest_day": None if s.latest_day is None else s.latest_day.isoformat(),
    }


def snapshot_from_fields(f: dict[str, Any]) -> Snapshot:
    return Snapshot(
        experiment_id=str(f["experiment_id"]),
        computed_at=parse_ts(f["computed_at"]),
        trigger=f["trigger"],
        allocations=json.loads(f["allocations"]),
        p_best=json.loads(f["p_best"]),
        totals=json.loads(f["totals"]),
        data_fingerprint=str(f["data_fingerprint"]),
        status=str(f["status"]),
        latest_day=_day_or_none(f.get("latest_day")),
    )


def _day_or_none(value: Any) -> dt.date | None:
    """A stored day: a date (PostgreSQL), its ISO text (SQLite, DynamoDB), or nothing."""
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value) if value else None


def changes_json(changes: Sequence[Change]) -> str:
    return json.dumps(
        [
            {
                "at": ts(c.at),
                "kind": c.kind,
                "detail": c.detail,
                "latest_day": None if c.latest_day is None else c.latest_day.isoformat(),
            }
            for c in changes
        ],
        separators=(",", ":"),
    )


def changes_from_json(text: str) -> tuple[Change, ...]:
    return tuple(
        Change(parse_ts(c["at"]), c["kind"], str(c["detail"]), _day_or_none(c["latest_day"]))
        for c in json.loads(text)
    )
