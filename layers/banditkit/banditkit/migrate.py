"""`banditkit migrate`: the original API's database (SQLite file or PostgreSQL URL) into any
banditkit store.

    banditkit migrate original.db --store sqlite:///.data/banditkit.db           # dry run
    banditkit migrate postgresql://u@h/bandit --store dynamodb://banditkit --apply

The source has three tables: `experiments(id, name, description, status, created_at,
updated_at)`, `daily_metrics(id, experiment_id, variant_name, date, impressions, clicks,
conversions, ctr, created_at, updated_at)` and `allocations(id, experiment_id, target_date,
algorithm, allocations, window_days, total_impressions, total_clicks, created_at)`.

- Experiments keep their ids, as strings (1 becomes "1"); their variants are the ones the
  daily rows name (not declared, as in the original). A status other than
  running/active, paused, or completed/finished/stopped/ended/archived is invalid.
- Daily rows are de-duplicated per (experiment, day, variant): the last updated wins
  (`updated_at`, then `created_at`, then the highest `id`), and each group is reported.
  The winner is then validated like an event; an invalid one is reported and skipped,
  never fixed (an older valid duplicate does not stand in for it).
- Past allocations become history snapshots (computed_at = their `created_at`, else their
  `target_date`; trigger `api`; no per-variant totals or P(best), which the source lacks).
- Nothing is written without `--apply`; the dry run prints the same table. A second run
  writes nothing: days already stored with the same counts, snapshots already there (by a
  fingerprint of the source row) and experiments that exist are left alone.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import hashlib
import json
import math
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import TypeAdapter, ValidationError

from banditkit import models
from banditkit.store import DailyRow, Experiment, ExperimentNotFound, Snapshot, Store, Variant

STATUSES: dict[str, models.ExperimentStatus] = {
    "running": "running",
    "active": "running",
    "paused": "paused",
    "completed": "completed",
    "finished": "completed",
    "stopped": "completed",
    "ended": "completed",
    "archived": "completed",
}
WRITE_CHUNK = 500
PROGRESS_MIN = 10_000  # rows; smaller databases finish before a bar would help
SHOWN_PROBLEMS = 50
_NAME: TypeAdapter[str] = TypeAdapter(models.Name)

Row = dict[str, Any]


@dataclasses.dataclass
class Source:
    experiments: list[Row]
    daily: list[Row]
    allocations: list[Row]


def _sql(url: str) -> tuple[str, str]:
    """('sqlite', path) or ('postgres', url) of a source given as a path or a URL."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgres", url
    if url.startswith("sqlite:///"):
        return "sqlite", url.removeprefix("sqlite:///")
    if "://" in url:
        raise ValueError(f"source must be a SQLite file or a postgresql:// URL, not {url!r}")
    return "sqlite", url


QUERIES = {
    "experiments": "SELECT id, name, description, status, created_at, updated_at "
    "FROM experiments ORDER BY id",
    "daily": "SELECT id, experiment_id, variant_name, date, impressions, clicks, conversions, "
    "created_at, updated_at FROM daily_metrics ORDER BY id",
    "allocations": "SELECT id, experiment_id, target_date, algorithm, allocations, window_days, "
    "total_impressions, total_clicks, created_at FROM allocations ORDER BY id",
}


def read_source(url: str) -> Source:
    """The three tables of an original database, as dicts (read only)."""
    kind, where = _sql(url)
    tables: dict[str, list[Row]] = {}
    if kind == "sqlite":
        if not Path(where).is_file():
            raise ValueError(f"no SQLite file at {where}")
        conn = sqlite3.connect(f"file:{where}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            for name, query in QUERIES.items():
                tables[name] = [dict(r) for r in conn.execute(query)]
        finally:
            conn.close()
    else:
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(where, row_factory=dict_row) as pg:
            for name, query in QUERIES.items():
                # JSON as its text, as SQLite has it (a json column would decode "x" to x)
                query = query.replace(" allocations,", " allocations::text AS allocations,")
                tables[name] = list(pg.execute(query))
    return Source(tables["experiments"], tables["daily"], tables["allocations"])


# ---- reading the source's values


def _moment(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime.combine(value, dt.time.min)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    else:
        moment = dt.datetime.fromisoformat(str(value).strip())
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    return (
        dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text).date()
    )


def _order(row: Row) -> tuple[dt.datetime, dt.datetime, int]:
    """Which duplicate was updated last: updated_at, then created_at, then id."""
    epoch = dt.datetime.min.replace(tzinfo=dt.UTC)

    def when(value: Any) -> dt.datetime:
        try:
            return _moment(value) or epoch
        except (ValueError, TypeError, OverflowError):
            return epoch

    return when(row.get("updated_at")), when(row.get("created_at")), int(row["id"])


# ---- the plan


@dataclasses.dataclass
class Counts:
    read: int = 0
    duplicates: int = 0
    invalid: int = 0
    skipped: int = 0  # rows of an experiment that is not imported
    to_write: int = 0
    already: int = 0


@dataclasses.dataclass
class Report:
    """What a run found and did (or, in a dry run, would do)."""

    applied: bool
    experiments: Counts = dataclasses.field(default_factory=Counts)
    daily_rows: Counts = dataclasses.field(default_factory=Counts)
    allocations: Counts = dataclasses.field(default_factory=Counts)
    problems: list[str] = dataclasses.field(default_factory=list)
    duplicates: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class Plan:
    experiments: dict[str, Experiment]
    rows: dict[str, list[DailyRow]]
    snapshots: dict[str, list[Snapshot]]


def plan(source: Source, report: Report) -> Plan:
    """Validated experiments, de-duplicated valid rows and snapshots; report what is not."""
    experiments: dict[str, Experiment] = {}
    report.experiments.read = len(source.experiments)
    for row in source.experiments:
        exp, problem = _experiment(row)
        if exp is None:
            report.experiments.invalid += 1
            report.problems.append(f"experiments id={row.get('id')}: {problem}")
        else:
            experiments[exp.id] = exp
    known_ids = {str(r.get("id")) for r in source.experiments}
    rows = _daily(source.daily, experiments, known_ids, report)
    snapshots = _snapshots(source.allocations, experiments, known_ids, report)
    # Variants are the ones the rows name, in order of first appearance.
    for exp_id, exp in experiments.items():
        names = dict.fromkeys(r.variant_name for r in rows.get(exp_id, ()))
        experiments[exp_id] = dataclasses.replace(exp, variants=tuple(Variant(n) for n in names))
    return Plan(experiments, rows, snapshots)


def _experiment(row: Row) -> tuple[Experiment | None, str]:
    exp_id = str(row.get("id"))
    try:
        name = _NAME.validate_python(row.get("name"))
    except ValidationError as err:
        msg = err.errors(include_url=False)[0]["msg"].removeprefix("Value error, ")
        return None, f"name: {msg}"
    description = row.get("description") or ""
    if not isinstance(description, str) or len(description) > 2000:
        return None, "description: at most 2000 characters of text"
    status = STATUSES.get(str(row.get("status") or "").strip().lower())
    if status is None:
        return None, f"status: {row.get('status')!r} is none of {', '.join(STATUSES)}"
    try:
        created = _moment(row.get("created_at"))
        updated = _moment(row.get("updated_at")) or created
    except (ValueError, TypeError, OverflowError):
        return None, "created_at/updated_at: not a timestamp"
    if created is None or updated is None:
        return None, "created_at: missing"
    exp = Experiment(
        id=exp_id,
        name=name,
        description=description,
        status=status,
        variants=(),
        variants_declared=False,
        settings={},
        created_at=created,
        updated_at=updated,
    )
    return exp, ""


def _experiment_of(
    row: Row,
    table: str,
    experiments: dict[str, Experiment],
    known: set[str],
    counts: Counts,
    report: Report,
) -> str | None:
    """The row's experiment id when that experiment is migrated; None (the row counted as
    skipped with its experiment, or as invalid when there is no such experiment) otherwise."""
    exp_id = str(row.get("experiment_id"))
    if exp_id in experiments:
        return exp_id
    if exp_id in known:
        counts.skipped += 1
    else:
        counts.invalid += 1
        report.problems.append(f"{table} id={row['id']}: experiment_id: no experiment {exp_id}")
    return None


def _daily(
    source: Sequence[Row], experiments: dict[str, Experiment], known: set[str], report: Report
) -> dict[str, list[DailyRow]]:
    counts = report.daily_rows
    counts.read = len(source)
    groups: dict[tuple[str, str, str], list[Row]] = {}
    for row in source:
        exp_id = _experiment_of(row, "daily_metrics", experiments, known, counts, report)
        if exp_id is None:
            continue
        try:  # one day however the source spelt it ("2025-01-02", "2025-01-02 00:00:00")
            day = _day(row.get("date")).isoformat()
        except (ValueError, TypeError):
            day = str(row.get("date"))  # refused below, with its row
        groups.setdefault((exp_id, day, str(row.get("variant_name"))), []).append(row)
    out: dict[str, list[DailyRow]] = {}
    for (exp_id, day, variant), group in groups.items():
        winner = max(group, key=_order)
        if len(group) > 1:
            counts.duplicates += len(group) - 1
            dropped = ", ".join(str(r["id"]) for r in group if r is not winner)
            report.duplicates.append(
                f"experiment {exp_id} {day} {variant!r}: {len(group)} rows, kept id={winner['id']} "
                f"(last updated), dropped id={dropped}"
            )
        try:
            valid = models.CsvRow.model_validate(
                {
                    "date": _day(winner.get("date")),
                    "variant_name": winner.get("variant_name"),
                    "impressions": winner.get("impressions"),
                    "clicks": winner.get("clicks"),
                    "conversions": winner.get("conversions") or 0,
                }
            )
        except (ValidationError, ValueError, TypeError) as err:
            counts.invalid += 1
            report.problems.append(
                f"daily_metrics id={winner['id']} (experiment {exp_id}, {day}, {variant!r}): "
                + _reason(err)
            )
            continue
        out.setdefault(exp_id, []).append(
            DailyRow(
                valid.date, valid.variant_name, valid.impressions, valid.clicks, valid.conversions
            )
        )
    for batch in out.values():
        batch.sort(key=lambda r: (r.date, r.variant_name))
    return out


def _reason(err: Exception) -> str:
    if isinstance(err, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
            for e in err.errors(include_url=False)
        )
    return f"date: {err}"


def _snapshots(
    source: Sequence[Row], experiments: dict[str, Experiment], known: set[str], report: Report
) -> dict[str, list[Snapshot]]:
    counts = report.allocations
    counts.read = len(source)
    out: dict[str, list[Snapshot]] = {}
    for row in source:
        exp_id = _experiment_of(row, "allocations", experiments, known, counts, report)
        if exp_id is None:
            continue
        snap, problem = _snapshot(exp_id, row)
        if snap is None:
            counts.invalid += 1
            report.problems.append(f"allocations id={row['id']} (experiment {exp_id}): {problem}")
            continue
        out.setdefault(exp_id, []).append(snap)
    for batch in out.values():
        batch.sort(key=lambda s: s.computed_at)
    return out


def _snapshot(exp_id: str, row: Row) -> tuple[Snapshot | None, str]:
    raw = row.get("allocations")
    try:
        shares = json.loads(raw) if isinstance(raw, str | bytes) else raw
    except ValueError:
        return None, "allocations: not JSON"
    if not isinstance(shares, dict) or not shares:
        return None, "allocations: not an object of variant -> share"
    values = list(shares.values())
    if not all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 <= v <= 1 for v in values
    ):
        return None, "allocations: every share must be a number in [0, 1]"
    if not math.isclose(sum(values), 1.0, abs_tol=1e-3):
        return None, f"allocations: shares sum to {sum(values):.6f}, not 1"
    try:
        at = _moment(row.get("created_at")) or _moment(row.get("target_date"))
    except (ValueError, TypeError, OverflowError):
        return None, "created_at/target_date: not a timestamp"
    if at is None:
        return None, "created_at and target_date: both missing"
    canonical = json.dumps(
        [exp_id, row["id"], at.isoformat(), shares], sort_keys=True, separators=(",", ":")
    )
    return (
        Snapshot(
            experiment_id=exp_id,
            computed_at=at,
            trigger="api",
            allocations={str(k): float(v) for k, v in shares.items()},
            p_best={},
            totals={},
            data_fingerprint="migrated-" + hashlib.sha256(canonical.encode()).hexdigest(),
        ),
        "",
    )


# ---- applying


class Progress:
    """A text progress bar on a stream (stderr), shown only for large databases."""

    def __init__(self, total: int, stream: TextIO | None, width: int = 30) -> None:
        self.total, self.stream, self.width, self.done = max(total, 1), stream, width, 0

    def advance(self, n: int) -> None:
        if self.stream is None:
            return
        self.done += n
        filled = self.width * min(self.done, self.total) // self.total
        bar = "#" * filled + "." * (self.width - filled)
        pct = 100 * min(self.done, self.total) // self.total
        self.stream.write(f"\r[{bar}] {pct:3d}% {self.done}/{self.total} rows")
        if self.done >= self.total:
            self.stream.write("\n")
        self.stream.flush()


def migrate(
    source: Source,
    store: Store,
    *,
    apply: bool = False,
    progress: TextIO | None = None,
    progress_min: int = PROGRESS_MIN,
) -> Report:
    """Plan the import, compare it with what the store holds, and with `apply` write it."""
    report = Report(applied=apply)
    work = plan(source, report)
    total = sum(len(r) for r in work.rows.values())
    bar = Progress(total, progress if total >= progress_min else None)
    for exp_id, exp in work.experiments.items():
        rows = work.rows.get(exp_id, [])
        existing = _existing(store, exp_id)
        if existing is None:
            report.experiments.to_write += 1
            if apply:
                store.create_experiment(exp)
        else:
            report.experiments.already += 1
            rows = _undeclared(existing, rows, report)  # write_daily records new variants
        stored = {} if existing is None else _stored_days(store, exp_id)
        new = [r for r in rows if stored.get((r.date, r.variant_name)) != r]
        report.daily_rows.to_write += len(new)
        report.daily_rows.already += len(rows) - len(new)
        for i in range(0, len(new), WRITE_CHUNK):
            if apply:
                store.write_daily(exp_id, new[i : i + WRITE_CHUNK], "set")
            bar.advance(len(new[i : i + WRITE_CHUNK]))
        bar.advance(len(rows) - len(new))
        snaps = work.snapshots.get(exp_id, [])
        have = set() if existing is None else _stored_fingerprints(store, exp_id)
        for snap in snaps:
            if snap.data_fingerprint in have:
                report.allocations.already += 1
                continue
            report.allocations.to_write += 1
            if apply:
                store.write_snapshot(snap)
    return report


def _existing(store: Store, exp_id: str) -> Experiment | None:
    try:
        return store.get_experiment(exp_id)
    except ExperimentNotFound:
        return None


def _undeclared(existing: Experiment, rows: list[DailyRow], report: Report) -> list[DailyRow]:
    """Rows an experiment that exists with declared variants would refuse: reported."""
    if not existing.variants_declared:
        return rows
    known = {v.name for v in existing.variants}
    kept = [r for r in rows if r.variant_name in known]
    for r in rows:
        if r.variant_name not in known:
            report.daily_rows.invalid += 1
            report.problems.append(
                f"daily_metrics (experiment {existing.id}, {r.date}, {r.variant_name!r}): "
                f"the stored experiment declares only {', '.join(sorted(known))}"
            )
    return kept


def _stored_days(store: Store, exp_id: str) -> dict[tuple[dt.date, str], DailyRow]:
    return {(r.date, r.variant_name): r for r in store.read_daily(exp_id)}


def _stored_fingerprints(store: Store, exp_id: str) -> set[str]:
    out: set[str] = set()
    cursor = None
    while True:
        page = store.list_snapshots(exp_id, limit=500, cursor=cursor)
        out |= {s.data_fingerprint for s in page.items}
        if not page.next_cursor:
            return out
        cursor = page.next_cursor


# ---- the command


def summary(report: Report) -> str:
    from banditkit.cli import table

    rows = [
        (name, c.read, c.duplicates, c.invalid, c.skipped, c.to_write, c.already)
        for name, c in (
            ("experiments", report.experiments),
            ("daily rows", report.daily_rows),
            ("allocations", report.allocations),
        )
    ]
    written = "written" if report.applied else "to write"
    lines = [
        table(
            ["", "read", "duplicates", "invalid", "skipped", written, "already there"],
            rows,
        )
    ]
    for title, items in (("Duplicates", report.duplicates), ("Invalid", report.problems)):
        if items:
            lines.append(f"\n{title} ({len(items)}):")
            lines += [f"  {p}" for p in items[:SHOWN_PROBLEMS]]
            if len(items) > SHOWN_PROBLEMS:
                lines.append(f"  ... {len(items) - SHOWN_PROBLEMS} more (--json lists all)")
    if not report.applied:
        lines.append("\nDry run: nothing was written. Run again with --apply to write.")
    return "\n".join(lines)


def main(
    argv: Sequence[str] | None = None,
    out: TextIO | None = None,
    opener: Callable[[str], Store] | None = None,
) -> int:
    out = out if out is not None else sys.stdout
    parser = argparse.ArgumentParser(
        prog="banditkit migrate",
        description="Import the original API's database into a banditkit store.",
    )
    parser.add_argument("source", help="SQLite file (or sqlite:///path) or postgresql:// URL")
    parser.add_argument("--store", help="banditkit store URL (default: BANDIT_STORE_URL)")
    parser.add_argument("--apply", action="store_true", help="write (default: a dry run)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if opener is None:
        from banditkit.store import open_store

        opener = open_store
    store_url = args.store
    if store_url is None:
        from banditkit.config import load_config

        store_url = load_config().store_url
    try:
        source = read_source(args.source)
    except Exception as err:  # a missing file, a refused connection, a missing table
        print(f"banditkit migrate: cannot read {args.source}: {err}", file=sys.stderr)
        return 2
    store = opener(store_url)
    try:
        report = migrate(
            source, store, apply=args.apply, progress=None if args.no_progress else sys.stderr
        )
    finally:
        store.close()
    print(json.dumps(report.as_dict(), indent=2) if args.json else summary(report), file=out)
    return 0
