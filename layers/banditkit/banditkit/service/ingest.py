"""Ingest: one day of counts per request (`POST /events`) and CSV files (`import`), each
all-or-nothing and, with an Idempotency-Key, counted once however often it is retried."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
from collections.abc import Sequence
from typing import TypeVar

from pydantic import ValidationError

from banditkit import models
from banditkit.models.messages import plain_message
from banditkit.service.cpu import cpu_slot
from banditkit.service.errors import FieldError, InvalidRequest, PayloadTooLarge
from banditkit.service.experiments import check_variant_names, undeclared
from banditkit.store import DailyRow, Experiment, IdempotencyRecord, Store

MAX_CSV_ERRORS = 200
# Rows of one import: its parse holds them all (about 0.5 KB each) before the write.
MAX_IMPORT_ROWS = 100_000
# A count cell read as an integer (ASCII digits, at most 18, an optional minus sign).
_INTEGER = re.compile(r"-?[0-9]{1,18}")


def request_hash(body: models.EventsIn) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def ingest_events(
    store: Store, body: models.EventsIn, idempotency_key: str | None = None
) -> models.EventsOut:
    """Write one day of counts (all variants or none); replays return the first answer."""
    exp = store.get_experiment(body.experiment_id)
    names = [v.variant_name for v in body.variants]
    check_variant_names(exp, names, lambda i: f"variants.{i}.variant_name")
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
    return _write_once(store, exp.id, rows, body.mode, key, out)


Out = TypeVar("Out", models.EventsOut, models.ImportOut)


def _write_once(
    store: Store,
    experiment_id: str,
    rows: Sequence[DailyRow],
    mode: models.WriteMode,
    key: tuple[str, str] | None,
    out: Out,
) -> Out:
    """Store the rows; with (Idempotency-Key, request hash) a replay answers the first
    response, marked replayed. The store records variants first seen here with their
    counts, and holds the variant cap in the same transaction (TooManyVariants)."""
    record = None
    if key is not None:
        record = IdempotencyRecord(f"{experiment_id}:{key[0]}", key[1], out.model_dump(mode="json"))
    first = store.write_daily(experiment_id, rows, mode, record, max_variants=models.MAX_VARIANTS)
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
    """Store every row of a CSV file: InvalidRequest lists every bad row, nothing stored;
    PayloadTooLarge past MAX_IMPORT_ROWS rows (found before the rest is parsed).
    On DynamoDB a file beyond one transaction is written in parts (Store.write_daily): an
    increment import then needs an Idempotency-Key, and a retry with it counts once."""
    exp = store.get_experiment(experiment_id)
    with cpu_slot():
        try:
            rows = _read_csv(exp, data)
        except UnicodeDecodeError:
            raise InvalidRequest([FieldError("body", "is not UTF-8 text")]) from None
    out = import_summary(exp.id, mode, rows)
    guard = None if idempotency_key is None else (idempotency_key, import_request_hash(data, mode))
    return _write_once(store, exp.id, rows, mode, guard, out)


def import_summary(
    experiment_id: str, mode: models.WriteMode, rows: Sequence[DailyRow]
) -> models.ImportOut:
    """What an import of these rows into one experiment answers."""
    return models.ImportOut(
        experiment_id=experiment_id,
        mode=mode,
        rows_imported=len(rows),
        days=len({r.date for r in rows}),
        variants=list(dict.fromkeys(r.variant_name for r in rows)),
        total_impressions=sum(r.impressions for r in rows),
        total_clicks=sum(r.clicks for r in rows),
        total_conversions=sum(r.conversions for r in rows),
    )


def parse_row(line: int, cells: dict[str, str]) -> tuple[models.CsvRow | None, list[FieldError]]:
    """One CSV row's cells as a CsvRow, or the problems naming line.N.<column>. A variant
    name the CSV template escaped (a leading ' before = + - @) is read back unescaped."""
    values: dict[str, object] = dict(cells)
    name = cells.get("variant_name")
    if name is not None and name[:1] == "'" and name[1:2] in models.FORMULA_START:
        values["variant_name"] = name[1:]
    for k in ("impressions", "clicks", "conversions"):
        value = cells.get(k)
        if value is not None and _INTEGER.fullmatch(value):
            values[k] = int(value)  # -5 too, so that it reads "must be 0 or more"
        # else left a string: the strict model says "must be a whole number"
    try:
        return models.CsvRow.model_validate(values), []
    except ValidationError as err:
        return None, [
            FieldError(f"line.{line}.{'.'.join(str(p) for p in e['loc'])}", plain_message(e))
            for e in err.errors(include_url=False)
        ]


def _read_csv(exp: Experiment, data: bytes) -> list[DailyRow]:
    """The file's rows, decoded as they are read (no second copy of the file as text)."""
    reader = csv.DictReader(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline=""))
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
    records = iter(reader)
    line = 1  # the header
    read = 0  # records
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as err:  # an unterminated quote, a cell past the csv size limit, ...
            problems.append(FieldError(f"line.{line + 1}", f"unreadable CSV: {err}"))
            break
        line = reader.line_num
        read += 1
        if read > MAX_IMPORT_ROWS:
            raise PayloadTooLarge(
                f"the file has more than {MAX_IMPORT_ROWS:,} rows; import it in parts"
            )
        if None in record:
            problems.append(FieldError(f"line.{line}", "more cells than header columns"))
            continue
        cells = {k: v.strip() for k, v in record.items() if v is not None and v.strip() != ""}
        if not cells:
            continue  # a blank line
        row, bad = parse_row(line, cells)
        if row is None:
            problems.extend(bad)
            continue
        if row.experiment_id is not None and row.experiment_id != exp.id:
            problems.append(
                FieldError(f"line.{line}.experiment_id", f"must be {exp.id!r} or empty")
            )
        if bad_name := undeclared(exp, row.variant_name, f"line.{line}.variant_name"):
            problems.append(bad_name)
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
        problems.append(FieldError("body", "has no data rows"))
    if not problems:
        names = list(dict.fromkeys(r.variant_name for r in rows))
        try:
            check_variant_names(exp, names, lambda i: "variant_name")
        except InvalidRequest as err:
            problems.extend(err.errors)
    if problems:
        shown = problems[:MAX_CSV_ERRORS]
        more = len(problems) - len(shown)
        detail = f"{len(problems)} problem(s) in the file; nothing was stored"
        raise InvalidRequest(shown, detail + (f" ({more} more not listed)" if more else ""))
    return rows
