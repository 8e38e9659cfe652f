"""PostgreSQL backend (Aurora PostgreSQL, RDS, self-hosted): psycopg 3 with a connection pool.

- Versioned migrations live in MIGRATIONS and are applied at the first call, inside one
  transaction holding an advisory lock, so concurrent starters apply each one once.
- No extensions, so Aurora PostgreSQL works as is.
- Every call is one transaction on a pooled connection; the pool checks a connection before
  lending it, so connections killed by a server restart are replaced.
- With a `url_source` (credentials from a secret), every new connection asks it for the URL;
  a connection that fails is tried once more with a URL read afresh, so a rotated password
  is picked up by the next connection the pool opens. A transaction the
  server rolled back (deadlock, serialization failure) is retried; a dropped connection is
  retried only for reads and for writes that are safe to repeat (`set` batches, batches
  carrying an idempotency record, snapshots, reset).
SQL text is built from module constants only (hence the S608 waivers); values are bound.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout

from banditkit.store._common import (
    EXPERIMENT_FIELDS,
    SNAPSHOT_FIELDS,
    check_rows,
    experiment_fields,
    experiment_from_fields,
    first_response,
    snapshot_from_fields,
    ts,
    utc,
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
from banditkit.store.sql import Execute, SqlStore, backfill_experiments

R = TypeVar("R")
Conn = psycopg.Connection[tuple[Any, ...]]

MIGRATION_LOCK = 0x62616E646974  # "bandit": pg_advisory_xact_lock key for migrations

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE experiments (
            id text COLLATE "C" PRIMARY KEY,
            name text NOT NULL,
            description text NOT NULL,
            status text NOT NULL,
            variants jsonb NOT NULL,
            variants_declared boolean NOT NULL,
            settings jsonb NOT NULL,
            created_at timestamptz NOT NULL,
            updated_at timestamptz NOT NULL,
            version integer NOT NULL
        );
        CREATE INDEX experiments_by_created ON experiments (created_at, id);
        CREATE INDEX experiments_by_status ON experiments (status, created_at, id);
        CREATE TABLE daily (
            experiment_id text COLLATE "C" NOT NULL
                REFERENCES experiments (id) ON DELETE CASCADE,
            day date NOT NULL,
            variant_name text COLLATE "C" NOT NULL,
            impressions bigint NOT NULL CHECK (impressions >= 0),
            clicks bigint NOT NULL CHECK (clicks >= 0),
            conversions bigint NOT NULL CHECK (conversions >= 0),
            PRIMARY KEY (experiment_id, day, variant_name)
        );
        CREATE TABLE snapshots (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            experiment_id text COLLATE "C" NOT NULL
                REFERENCES experiments (id) ON DELETE CASCADE,
            computed_at timestamptz NOT NULL,
            trigger text NOT NULL,
            allocations jsonb NOT NULL,
            p_best jsonb NOT NULL,
            totals jsonb NOT NULL,
            data_fingerprint text NOT NULL,
            status text NOT NULL
        );
        CREATE INDEX snapshots_by_time ON snapshots (experiment_id, computed_at, id);
        CREATE TABLE idempotency (
            experiment_id text COLLATE "C" NOT NULL
                REFERENCES experiments (id) ON DELETE CASCADE,
            key text COLLATE "C" NOT NULL,
            request_hash text NOT NULL,
            response jsonb NOT NULL,
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (experiment_id, key)
        );
        """,
    ),
    (2, "ALTER TABLE experiments ADD COLUMN data_version bigint NOT NULL DEFAULT 0"),
    (3, "CREATE INDEX idempotency_by_age ON idempotency (experiment_id, created_at)"),
    (4, "ALTER TABLE experiments ADD COLUMN snapshot_state text NOT NULL DEFAULT ''"),
    (
        5,
        "ALTER TABLE experiments ADD COLUMN shipped_variant text NOT NULL DEFAULT '', "
        "ADD COLUMN leader text NOT NULL DEFAULT '', "
        "ADD COLUMN search_text text NOT NULL DEFAULT ''",
    ),
    (
        6,
        "ALTER TABLE experiments ADD COLUMN changes jsonb NOT NULL DEFAULT '[]';"
        "ALTER TABLE snapshots ADD COLUMN latest_day date",
    ),
)
# Python steps run after a migration's SQL, in its transaction.
_BACKFILLS: dict[int, Callable[[Execute], None]] = {5: backfill_experiments}

_EXPERIMENT_COLUMNS = (  # jsonb read back as its text, as experiment_from_fields expects
    "id, name, description, status, variants::text, variants_declared, "
    "settings::text, created_at, updated_at, version, data_version, snapshot_state, "
    "shipped_variant, leader, search_text, changes::text"
)
_SNAPSHOT_COLUMNS = (
    "experiment_id, computed_at, trigger, allocations::text, p_best::text, "
    "totals::text, data_fingerprint, status, latest_day"
)
_UPSERT = {
    "set": (
        "INSERT INTO daily VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (experiment_id, day, variant_name) DO UPDATE SET "
        "impressions = excluded.impressions, clicks = excluded.clicks, "
        "conversions = excluded.conversions"
    ),
    "increment": (
        "INSERT INTO daily AS d VALUES (%s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (experiment_id, day, variant_name) DO UPDATE SET "
        "impressions = d.impressions + excluded.impressions, "
        "clicks = d.clicks + excluded.clicks, "
        "conversions = d.conversions + excluded.conversions"
    ),
}
# Errors after which the server has rolled the transaction back, so running it again is safe.
_ROLLED_BACK = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)
# Errors that mean "busy or unreachable" rather than "bad request".
_UNAVAILABLE = (
    pg_errors.LockNotAvailable,
    pg_errors.QueryCanceled,
    pg_errors.AdminShutdown,
    pg_errors.CannotConnectNow,
    pg_errors.TooManyConnections,
)
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _conninfo(url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL of `url` without banditkit's own options, and those options."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    options: dict[str, str] = {n: query.pop(n) for n in ("pool_max", "schema") if n in query}
    scheme = "postgresql" if parts.scheme == "postgres" else parts.scheme
    return urlunsplit(parts._replace(scheme=scheme, query=urlencode(query))), options


class PostgresStore(SqlStore):
    """The Store protocol on PostgreSQL. The pool opens, and migrations run, at the first call."""

    name = "postgres"

    def __init__(
        self,
        url: str,
        *,
        url_source: Callable[[bool], str] | None = None,
        schema: str | None = None,
        pool_min: int = 1,
        pool_max: int = 10,
        pool_timeout: float = 5.0,
        connect_timeout: int = 5,
        lock_timeout_ms: int = 5000,
        attempts: int = 3,
        idempotency_ttl: dt.timedelta = dt.timedelta(hours=24),
    ) -> None:
        self._conninfo, ours = _conninfo(url)
        pool_max = int(ours.get("pool_max", pool_max))
        schema = ours.get("schema", schema)
        if schema is not None and not _IDENTIFIER.fullmatch(schema):
            raise ValueError("schema must be a lower-case SQL identifier")
        self._url_source = url_source
        self.schema = schema
        self._pool_args = {"min_size": pool_min, "max_size": pool_max, "timeout": pool_timeout}
        options = f"-c lock_timeout={int(lock_timeout_ms)}"
        if schema is not None:
            options += f" -c search_path={schema}"
        self._connect_kwargs: dict[str, Any] = {
            "connect_timeout": connect_timeout,
            "options": options,
        }
        self.attempts = attempts
        self.idempotency_ttl = idempotency_ttl
        self._pool: ConnectionPool[Conn] | None = None
        self._lock = threading.Lock()

    # connections -----------------------------------------------------------------------

    def _current_conninfo(self, fresh: bool = False) -> str:
        if self._url_source is None:
            return self._conninfo
        return _conninfo(self._url_source(fresh))[0]

    def _connection_class(self) -> type[Conn]:
        """psycopg's Connection, or one whose connect reads the URL source (see module doc)."""
        if self._url_source is None:
            return psycopg.Connection
        current = self._current_conninfo

        class SecretConnection(psycopg.Connection[tuple[Any, ...]]):
            @classmethod
            def connect(cls, conninfo: str = "", **kwargs: Any) -> SecretConnection:
                used = current()
                try:
                    return super().connect(used, **kwargs)
                except psycopg.OperationalError:
                    fresh = current(fresh=True)  # rotated? the secret as it is now
                    if fresh == used:
                        raise
                    return super().connect(fresh, **kwargs)

        return SecretConnection

    def _get_pool(self) -> ConnectionPool[Conn]:
        if self._pool is not None:
            return self._pool
        with self._lock:
            if self._pool is None:
                pool: ConnectionPool[Conn] = ConnectionPool(
                    self._conninfo,
                    connection_class=self._connection_class(),
                    kwargs=self._connect_kwargs,
                    open=False,
                    check=ConnectionPool.check_connection,
                    name="banditkit",
                    **self._pool_args,  # type: ignore[arg-type]
                )
                pool.open(wait=False)
                try:
                    with pool.connection() as conn:
                        self._migrate(conn)
                except BaseException:
                    pool.close()
                    raise
                self._pool = pool
        return self._pool

    def _migrate(self, conn: Conn) -> None:
        """Apply the migrations this database lacks; concurrent starters wait on the lock."""
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        if self.schema is not None:
            conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS banditkit_migrations "
            "(version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        # each version not applied yet, also one numbered below the latest applied (branches
        # that took numbers in parallel can merge in either order)
        rows = conn.execute("SELECT version FROM banditkit_migrations").fetchall()
        applied = {int(r[0]) for r in rows}
        for version, sql in MIGRATIONS:
            if version not in applied:
                conn.execute(sql)
                if version in _BACKFILLS:
                    _BACKFILLS[version](conn.execute)
                conn.execute("INSERT INTO banditkit_migrations (version) VALUES (%s)", (version,))

    def _run(self, work: Callable[[Conn], R], *, repeatable: bool) -> R:
        """Run `work` in one transaction, retrying what is safe to retry (see module doc)."""
        for attempt in range(1, self.attempts + 1):
            try:
                pool = self._get_pool()
                with pool.connection() as conn:  # commits on success, rolls back on error
                    return work(conn)
            except _ROLLED_BACK:
                if attempt == self.attempts:
                    raise StoreUnavailable("postgres stayed contended") from None
            except _UNAVAILABLE:
                raise StoreUnavailable("postgres is busy or restarting") from None
            except (psycopg.OperationalError, PoolTimeout):
                if not repeatable or attempt == self.attempts:
                    raise StoreUnavailable("postgres is unreachable") from None
            except psycopg.Error as exc:  # kept as the cause for logs, out of the message
                raise StoreError("postgres refused the request") from exc
            time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def ping(self) -> None:
        self._run(lambda conn: conn.execute("SELECT 1"), repeatable=True)

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.close()
                self._pool = None

    # the shared side (SqlStore) ----------------------------------------------------------

    EXPERIMENT_COLUMNS = _EXPERIMENT_COLUMNS
    SNAPSHOT_COLUMNS = _SNAPSHOT_COLUMNS
    LOCK_EXPERIMENT = " FOR NO KEY UPDATE"

    def _fetch(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return self._run(lambda conn: conn.execute(sql, params).fetchall(), repeatable=True)

    def _transact(self, work: Callable[[Execute], R], *, repeatable: bool) -> R:
        return self._run(lambda conn: work(conn.execute), repeatable=repeatable)

    def _instant(self, moment: dt.datetime) -> dt.datetime:
        return utc(moment)

    def _day(self, day: dt.date) -> dt.date:
        return day

    def _snapshot(self, row: tuple[Any, ...]) -> Snapshot:
        fields = dict(zip(SNAPSHOT_FIELDS, row, strict=True))
        fields["computed_at"] = ts(fields["computed_at"])
        return snapshot_from_fields(fields)

    def _daily(self, row: tuple[Any, ...]) -> DailyRow:
        day, variant, impressions, clicks, conversions = row
        return DailyRow(day, variant, int(impressions), int(clicks), int(conversions))

    def _experiment(self, row: tuple[Any, ...]) -> Experiment:
        fields = dict(zip(EXPERIMENT_FIELDS, row, strict=True))
        fields["created_at"] = ts(fields["created_at"])
        fields["updated_at"] = ts(fields["updated_at"])
        return experiment_from_fields(fields)

    # experiments -----------------------------------------------------------------------

    def create_experiment(self, experiment: Experiment) -> Experiment:
        f = experiment_fields(experiment)

        def work(conn: Conn) -> None:
            try:
                conn.execute(
                    f"INSERT INTO experiments ({', '.join(f)}) "  # noqa: S608
                    f"VALUES ({', '.join(['%s'] * len(f))})",
                    tuple(f.values()),  # text: PostgreSQL casts it to jsonb and timestamptz
                )
            except pg_errors.UniqueViolation:
                raise Conflict(f"experiment {experiment.id!r} exists") from None

        self._run(work, repeatable=False)
        return experiment_from_fields(f)

    def delete_experiment(self, experiment_id: str) -> None:
        def work(conn: Conn) -> None:
            # days, snapshots and idempotency records go by ON DELETE CASCADE
            cur = conn.execute("DELETE FROM experiments WHERE id = %s", (experiment_id,))
            if cur.rowcount == 0:
                raise ExperimentNotFound(experiment_id)

        self._run(work, repeatable=False)

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
        # one lock order for every writer, so concurrent batches cannot deadlock
        ordered = sorted(rows, key=lambda r: (r.date, r.variant_name))
        params = [
            (experiment_id, r.date, r.variant_name, r.impressions, r.clicks, r.conversions)
            for r in ordered
        ]

        def work(conn: Conn) -> dict[str, Any] | None:
            try:
                if idempotency is not None:
                    # expired keys of this experiment go first: a key used again is new
                    conn.execute(
                        "DELETE FROM idempotency "
                        "WHERE experiment_id = %s AND created_at < now() - %s",
                        (experiment_id, self.idempotency_ttl),
                    )
                    inserted = conn.execute(
                        "INSERT INTO idempotency (experiment_id, key, request_hash, response) "
                        "VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
                        (
                            experiment_id,
                            idempotency.key,
                            idempotency.request_hash,
                            Jsonb(idempotency.response),
                        ),
                    ).fetchone()
                    if inserted is None:  # the key exists (committed): replay or conflict
                        prior = conn.execute(
                            "SELECT request_hash, response FROM idempotency "
                            "WHERE experiment_id = %s AND key = %s",
                            (experiment_id, idempotency.key),
                        ).fetchone()
                        return first_response(idempotency, prior)
                # one round trip: the upserts and the bump go out together (pipeline mode)
                with conn.pipeline(), conn.cursor() as cur:
                    if params:
                        cur.executemany(_UPSERT[mode], params)
                    # last, so the experiment's row lock is held only until the commit (and
                    # is always the last lock taken: no deadlock with the row locks above)
                    cur.execute(
                        "UPDATE experiments SET data_version = data_version + 1 "
                        "WHERE id = %s RETURNING variants::text",
                        (experiment_id,),
                    )
                    bumped = cur.fetchone()
                if bumped is None:
                    raise ExperimentNotFound(experiment_id)
                # under the experiment's row lock: concurrent writers see each other's names
                variants = with_new_variants(experiment_id, bumped[0], rows, max_variants)
                if variants is not None:
                    conn.execute(
                        "UPDATE experiments SET variants = %s, version = version + 1 WHERE id = %s",
                        (variants, experiment_id),
                    )
            except pg_errors.ForeignKeyViolation:
                raise ExperimentNotFound(experiment_id) from None
            except (pg_errors.NumericValueOutOfRange, pg_errors.CheckViolation):
                raise InvalidMetrics("a count would leave the 64-bit integer range") from None
            return None

        repeatable = mode == "set" or idempotency is not None
        return self._run(work, repeatable=repeatable)

    # snapshots -------------------------------------------------------------------------

    def reset(self) -> None:
        self._run(
            lambda conn: conn.execute("TRUNCATE experiments, daily, snapshots, idempotency"),
            repeatable=True,
        )
