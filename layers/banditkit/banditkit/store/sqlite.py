"""SQLite backend: the standard library's sqlite3, one file, WAL, safe under many threads.

Each thread gets its own connection (the local server runs sync endpoints in a threadpool).
Writes open with BEGIN IMMEDIATE, so writers queue on SQLite's lock for at most the busy
timeout and a transaction never fails half-way through on a lock upgrade.
SQL text is built from module constants only (hence the S608 waivers); values are bound.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from banditkit.store._common import (
    EXPERIMENT_FIELDS,
    SNAPSHOT_FIELDS,
    check_rows,
    dumps,
    experiment_fields,
    experiment_from_fields,
    first_response,
    snapshot_from_fields,
    ts,
    with_new_variants,
)
from banditkit.store.base import (
    Conflict,
    DailyRow,
    Experiment,
    ExperimentNotFound,
    IdempotencyRecord,
    InvalidMetrics,
    Snapshot,
    StoreError,
    StoreUnavailable,
    WriteMode,
)
from banditkit.store.sql import Execute, R, SqlStore, backfill_experiments

DEFAULT_PATH = ".data/banditkit.db"

SCHEMA = """
CREATE TABLE IF NOT EXISTS experiments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    variants TEXT NOT NULL,
    variants_declared INTEGER NOT NULL,
    settings TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    data_version INTEGER NOT NULL DEFAULT 0,
    snapshot_state TEXT NOT NULL DEFAULT '',
    shipped_variant TEXT NOT NULL DEFAULT '',
    leader TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS experiments_by_created ON experiments (created_at, id);
CREATE INDEX IF NOT EXISTS experiments_by_status ON experiments (status, created_at, id);
CREATE TABLE IF NOT EXISTS daily (
    experiment_id TEXT NOT NULL,
    day TEXT NOT NULL,
    variant_name TEXT NOT NULL,
    impressions INTEGER NOT NULL CHECK (typeof(impressions) = 'integer' AND impressions >= 0),
    clicks INTEGER NOT NULL CHECK (typeof(clicks) = 'integer' AND clicks >= 0),
    conversions INTEGER NOT NULL CHECK (typeof(conversions) = 'integer' AND conversions >= 0),
    PRIMARY KEY (experiment_id, day, variant_name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    experiment_id TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    trigger TEXT NOT NULL,
    allocations TEXT NOT NULL,
    p_best TEXT NOT NULL,
    totals TEXT NOT NULL,
    data_fingerprint TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_by_time ON snapshots (experiment_id, computed_at, id);
CREATE TABLE IF NOT EXISTS idempotency (
    experiment_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (experiment_id, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idempotency_by_age ON idempotency (experiment_id, created_at);
"""

_EXPERIMENT_COLUMNS = ", ".join(EXPERIMENT_FIELDS)
_SNAPSHOT_COLUMNS = ", ".join(SNAPSHOT_FIELDS)

_UPSERT = {
    "set": (
        "INSERT INTO daily VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (experiment_id, day, variant_name) DO UPDATE SET "
        "impressions = excluded.impressions, clicks = excluded.clicks, "
        "conversions = excluded.conversions"
    ),
    "increment": (
        "INSERT INTO daily VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (experiment_id, day, variant_name) DO UPDATE SET "
        "impressions = impressions + excluded.impressions, "
        "clicks = clicks + excluded.clicks, "
        "conversions = conversions + excluded.conversions"
    ),
}


_BUMP_DATA_VERSION = (
    "UPDATE experiments SET data_version = data_version + 1 WHERE id = ? RETURNING variants"
)
_ADD_VARIANTS = "UPDATE experiments SET variants = ?, version = version + 1 WHERE id = ?"
# Columns added after the first release: (table, column, definition) for older files.
_ADDED_COLUMNS = (
    ("experiments", "data_version", "INTEGER NOT NULL DEFAULT 0"),
    ("experiments", "snapshot_state", "TEXT NOT NULL DEFAULT ''"),
    ("experiments", "shipped_variant", "TEXT NOT NULL DEFAULT ''"),
    ("experiments", "leader", "TEXT NOT NULL DEFAULT ''"),
    ("experiments", "search_text", "TEXT NOT NULL DEFAULT ''"),
    ("experiments", "changes", "TEXT NOT NULL DEFAULT '[]'"),
    ("snapshots", "latest_day", "TEXT"),
)


def _add_columns(conn: sqlite3.Connection) -> None:
    added = set()
    for table, column, definition in _ADDED_COLUMNS:
        present = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in present:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            added.add(column)
    if "search_text" in added:
        backfill_experiments(lambda sql, params: conn.execute(sql.replace("%s", "?"), params))


def _unavailable(exc: sqlite3.Error) -> StoreUnavailable:
    busy = getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return StoreUnavailable("sqlite database is busy" if busy else "sqlite database unavailable")


class SQLiteStore(SqlStore):
    """The Store protocol on one SQLite file. Nothing is opened until the first call."""

    name = "sqlite"

    def __init__(
        self,
        path: str | Path = DEFAULT_PATH,
        *,
        busy_timeout: float = 5.0,
        idempotency_ttl: dt.timedelta = dt.timedelta(hours=24),
    ) -> None:
        self.path = str(path)
        self.busy_timeout = busy_timeout
        self.idempotency_ttl = idempotency_ttl
        self._local = threading.local()
        self._lock = threading.Lock()
        # Writers of this process queue here, waking as soon as the previous one commits;
        # SQLite's own busy handler (for other processes) polls with sleeps of 1-100 ms.
        self._write_lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._schema_ready = False

    # connections -----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            if self.path != ":memory:" and not self.path.startswith("file:"):
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,  # close() may run on another thread
                uri=self.path.startswith("file:"),
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
            with self._lock:
                if not self._schema_ready:
                    conn.execute("PRAGMA journal_mode = WAL")
                    try:
                        conn.executescript(f"BEGIN IMMEDIATE;\n{SCHEMA}")
                        _add_columns(conn)
                        conn.execute("COMMIT")
                    except BaseException:
                        if conn.in_transaction:
                            conn.execute("ROLLBACK")
                        raise
                    self._schema_ready = True
                self._connections.append(conn)
        except sqlite3.Error as exc:
            if conn is not None:
                conn.close()
            raise _unavailable(exc) from None
        self._local.conn = conn
        return conn

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        try:
            yield conn
        except sqlite3.OperationalError as exc:
            raise _unavailable(exc) from None
        except sqlite3.Error as exc:
            raise StoreError("sqlite refused the request") from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding the write lock: committed on success, else rolled back."""
        conn = self._connect()
        if not self._write_lock.acquire(timeout=self.busy_timeout):
            raise StoreUnavailable("sqlite database is busy")
        try:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise _unavailable(exc) from None
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException as exc:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise _unavailable(exc) from None
                if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
                    raise StoreError("sqlite refused the request") from exc
                raise  # IntegrityError: the caller names it (Conflict, InvalidMetrics)
        finally:
            self._write_lock.release()

    def ping(self) -> None:
        with self._read() as conn:
            conn.execute("SELECT 1").fetchone()

    def close(self) -> None:
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
            self._local = threading.local()

    # the shared side (SqlStore) ----------------------------------------------------------

    EXPERIMENT_COLUMNS = _EXPERIMENT_COLUMNS
    SNAPSHOT_COLUMNS = _SNAPSHOT_COLUMNS

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with self._read() as conn:
            return conn.execute(sql.replace("%s", "?"), params).fetchall()

    def _transact(self, work: Callable[[Execute], R], *, repeatable: bool) -> R:
        with self._write() as conn:
            return work(lambda sql, params: conn.execute(sql.replace("%s", "?"), params))

    def _instant(self, moment: dt.datetime) -> str:
        return ts(moment)

    def _day(self, day: dt.date) -> str:
        return day.isoformat()

    def _experiment(self, row: tuple[Any, ...]) -> Experiment:
        return experiment_from_fields(dict(zip(EXPERIMENT_FIELDS, row, strict=True)))

    def _snapshot(self, row: tuple[Any, ...]) -> Snapshot:
        return snapshot_from_fields(dict(zip(SNAPSHOT_FIELDS, row, strict=True)))

    def _daily(self, row: tuple[Any, ...]) -> DailyRow:
        day, variant, impressions, clicks, conversions = row
        return DailyRow(dt.date.fromisoformat(day), variant, impressions, clicks, conversions)

    # experiments -----------------------------------------------------------------------

    def create_experiment(self, experiment: Experiment) -> Experiment:
        f = experiment_fields(experiment)
        try:
            with self._write() as conn:
                conn.execute(
                    f"INSERT INTO experiments ({_EXPERIMENT_COLUMNS}) "  # noqa: S608
                    f"VALUES ({', '.join('?' * len(f))})",
                    tuple(f.values()),
                )
        except sqlite3.IntegrityError:
            raise Conflict(f"experiment {experiment.id!r} exists") from None
        return experiment_from_fields(f)

    def delete_experiment(self, experiment_id: str) -> None:
        """One transaction: a delete that fails part-way leaves the experiment whole."""
        try:
            with self._write() as conn:
                deleted = conn.execute("DELETE FROM experiments WHERE id = ?", (experiment_id,))
                if deleted.rowcount == 0:
                    raise ExperimentNotFound(experiment_id)
                for table in ("daily", "snapshots", "idempotency"):
                    conn.execute(f"DELETE FROM {table} WHERE experiment_id = ?", (experiment_id,))  # noqa: S608
        except sqlite3.IntegrityError as exc:
            raise StoreError("sqlite refused the delete") from exc

    # daily metrics ---------------------------------------------------------------------

    def write_daily(
        self,
        experiment_id: str,
        rows: Sequence[DailyRow],
        mode: WriteMode,
        idempotency: IdempotencyRecord | None = None,
        *,
        max_variants: int | None = None,
    ) -> dict[str, Any] | None:
        check_rows(rows)
        try:
            with self._write() as conn:
                if idempotency is not None:
                    # expired keys of this experiment go first: a key used again is new
                    expired = ts(dt.datetime.now(dt.UTC) - self.idempotency_ttl)
                    conn.execute(
                        "DELETE FROM idempotency WHERE experiment_id = ? AND created_at < ?",
                        (experiment_id, expired),
                    )
                    prior = conn.execute(
                        "SELECT request_hash, response FROM idempotency "
                        "WHERE experiment_id = ? AND key = ?",
                        (experiment_id, idempotency.key),
                    ).fetchone()
                    if prior is not None:
                        return first_response(idempotency, prior)
                    conn.execute(
                        "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
                        (
                            experiment_id,
                            idempotency.key,
                            idempotency.request_hash,
                            dumps(idempotency.response),
                            ts(dt.datetime.now(dt.UTC)),
                        ),
                    )
                conn.executemany(
                    _UPSERT[mode],
                    [
                        (
                            experiment_id,
                            r.date.isoformat(),
                            r.variant_name,
                            r.impressions,
                            r.clicks,
                            r.conversions,
                        )
                        for r in rows
                    ],
                )
                # last: the existence check (a missing experiment rolls all of it back)
                found = conn.execute(_BUMP_DATA_VERSION, (experiment_id,)).fetchone()
                if found is None:
                    raise ExperimentNotFound(experiment_id)
                variants = with_new_variants(experiment_id, found[0], rows, max_variants)
                if variants is not None:
                    conn.execute(_ADD_VARIANTS, (variants, experiment_id))
        except sqlite3.IntegrityError:
            raise InvalidMetrics("a count would leave the 64-bit integer range") from None
        return None

    # snapshots -------------------------------------------------------------------------

    def reset(self) -> None:
        with self._write() as conn:
            for table in ("experiments", "daily", "snapshots", "idempotency"):
                conn.execute(f"DELETE FROM {table}")  # noqa: S608
