"""A CSV file of several experiments (an `experiment_id` column): `POST /import`, and the
original API's `POST /upload-data`, which answers the same import in that API's shape.

Every row of the file is checked before anything is written (InvalidRequest lists every bad
row, nothing stored). The file is then written one experiment at a time, each in one store
transaction: an outage between two experiments (503) leaves the earlier ones stored, and a
retry converges (`set` replaces the same days; `increment` with the same Idempotency-Key
skips the experiments already written, whose keys are scoped per experiment).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re

from banditkit import models
from banditkit.models.common import ID_MAX_LENGTH, ID_PATTERN
from banditkit.service.errors import FieldError, InvalidRequest, PayloadTooLarge
from banditkit.service.experiments import check_variant_names, undeclared
from banditkit.service.ingest import MAX_IMPORT_ROWS, import_summary, parse_row
from banditkit.store import DailyRow, Experiment, ExperimentNotFound, IdempotencyRecord, Store

MAX_FILE_ERRORS = 200
COLUMNS = ("experiment_id", "date", "variant_name", "impressions", "clicks", "conversions")
_REQUIRED = COLUMNS[:5]
_ID = re.compile(ID_PATTERN)


def template_csv() -> str:
    """The file GET /download-template answers: the header of an upload."""
    return ",".join(COLUMNS) + "\n"


def file_request_hash(data: bytes, mode: models.WriteMode) -> str:
    return hashlib.sha256(b"file-import\n" + mode.encode() + b"\n" + data).hexdigest()


def _bad_file(problems: list[FieldError]) -> InvalidRequest:
    shown = problems[:MAX_FILE_ERRORS]
    more = len(problems) - len(shown)
    detail = f"{len(problems)} problem(s) in the file; nothing was stored"
    return InvalidRequest(shown, detail + (f" ({more} more not listed)" if more else ""))


def read_rows(data: bytes) -> list[tuple[int, dict[str, str]]]:
    """(line number, non-empty cells) of each data row; InvalidRequest for a bad header or
    an unreadable file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidRequest([FieldError("body", "is not UTF-8 text")]) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or ()]
    if (
        any(c not in header for c in _REQUIRED)
        or set(header) - set(COLUMNS)
        or (len(set(header)) != len(header))
    ):
        msg = "header must be " + ",".join(_REQUIRED) + "[,conversions]"
        raise InvalidRequest([FieldError("header", msg)])
    reader.fieldnames = header
    out: list[tuple[int, dict[str, str]]] = []
    problems: list[FieldError] = []
    line = 1
    records = iter(reader)
    while True:
        try:
            record = next(records)
        except StopIteration:
            break
        except csv.Error as err:
            problems.append(FieldError(f"line.{line + 1}", f"unreadable CSV: {err}"))
            break
        line = reader.line_num
        if None in record:
            problems.append(FieldError(f"line.{line}", "more cells than header columns"))
            continue
        cells = {k: v.strip() for k, v in record.items() if v is not None and v.strip() != ""}
        if cells:
            out.append((line, cells))
    if problems:
        raise _bad_file(problems)
    return out


def _parse(line: int, cells: dict[str, str]) -> tuple[models.CsvRow | None, list[FieldError]]:
    row, bad = parse_row(line, cells)
    if row is None:
        return None, bad
    exp_id = row.experiment_id
    if exp_id is None:
        return None, [FieldError(f"line.{line}.experiment_id", "required")]
    if len(exp_id) > ID_MAX_LENGTH or not _ID.match(exp_id):
        msg = "must be 1-64 letters, digits, '_' or '-'"
        return None, [FieldError(f"line.{line}.experiment_id", msg)]
    return row, []


def import_file(
    store: Store,
    data: bytes,
    mode: models.WriteMode = "set",
    idempotency_key: str | None = None,
) -> models.FileImportOut:
    """Check every row of the file, then store each experiment's rows (see the module)."""
    problems: list[FieldError] = []
    experiments: dict[str, Experiment | None] = {}
    rows: dict[str, list[DailyRow]] = {}
    seen: set[tuple[str, dt.date, str]] = set()
    for count, (line, cells) in enumerate(read_rows(data), 1):
        if count > MAX_IMPORT_ROWS:  # as the one-experiment import: found before the rest
            raise PayloadTooLarge(
                f"the file has more than {MAX_IMPORT_ROWS:,} rows; import it in parts"
            )
        row, bad = _parse(line, cells)
        problems.extend(bad)
        if row is None or row.experiment_id is None:
            continue
        exp_id = row.experiment_id
        if exp_id not in experiments:
            try:
                experiments[exp_id] = store.get_experiment(exp_id)
            except ExperimentNotFound:
                experiments[exp_id] = None
        exp = experiments[exp_id]
        if exp is None:
            problems.append(FieldError(f"line.{line}.experiment_id", f"no experiment {exp_id!r}"))
            continue
        if bad_name := undeclared(exp, row.variant_name, f"line.{line}.variant_name"):
            problems.append(bad_name)
        key = (exp_id, row.date, row.variant_name)
        if key in seen:
            problems.append(
                FieldError(
                    f"line.{line}", f"duplicate row for {exp_id} {row.date} {row.variant_name!r}"
                )
            )
        seen.add(key)
        rows.setdefault(exp_id, []).append(
            DailyRow(row.date, row.variant_name, row.impressions, row.clicks, row.conversions)
        )
    if not rows and not problems:
        problems.append(FieldError("body", "has no data rows"))
    if not problems:
        for exp_id, batch in rows.items():
            exp = experiments[exp_id]
            assert exp is not None
            names = list(dict.fromkeys(r.variant_name for r in batch))
            try:
                check_variant_names(exp, names, lambda i: "variant_name")
            except InvalidRequest as err:
                problems.extend(
                    FieldError(f"experiment.{exp_id}.{e.field}", e.message) for e in err.errors
                )
    if problems:
        raise _bad_file(problems)
    request_hash = file_request_hash(data, mode)
    parts: list[models.ImportOut] = []
    replayed = True
    for exp_id, batch in rows.items():
        part = import_summary(exp_id, mode, batch)
        record = None
        if idempotency_key is not None:
            record = IdempotencyRecord(
                f"{exp_id}:{idempotency_key}", request_hash, part.model_dump(mode="json")
            )
        # new variants are recorded with their counts, the cap held in the same transaction
        first = store.write_daily(exp_id, batch, mode, record, max_variants=models.MAX_VARIANTS)
        replayed = replayed and first is not None
        parts.append(part.model_copy(update={"replayed": first is not None}))
    return models.FileImportOut(
        mode=mode,
        rows_imported=sum(p.rows_imported for p in parts),
        experiments=parts,
        total_impressions=sum(p.total_impressions for p in parts),
        total_clicks=sum(p.total_clicks for p in parts),
        total_conversions=sum(p.total_conversions for p in parts),
        replayed=replayed,
    )


def upload_data(store: Store, data: bytes) -> models.UploadOut:
    """The original API's POST /upload-data: the same import (mode `set`), in its shape."""
    out = import_file(store, data, "set")
    return models.UploadOut(
        status="success",
        processed_rows=out.rows_imported,
        total_rows=out.rows_imported,
        errors=[],
        total_errors=0,
        experiment_ids=[p.experiment_id for p in out.experiments],
    )
