"""Persistence behind one protocol; `open_store(url)` picks the backend from a URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from banditkit.store.base import (
    MAX_CHANGES,
    MAX_COUNT,
    Change,
    Conflict,
    DailyRow,
    Experiment,
    ExperimentNotFound,
    IdempotencyConflict,
    IdempotencyKeyRequired,
    IdempotencyRecord,
    InvalidCursor,
    InvalidMetrics,
    Leader,
    Page,
    Snapshot,
    Store,
    StoreError,
    StoreLimitExceeded,
    StoreUnavailable,
    TooManyVariants,
    Variant,
)

__all__ = [
    "MAX_CHANGES",
    "MAX_COUNT",
    "Change",
    "Conflict",
    "DailyRow",
    "Experiment",
    "ExperimentNotFound",
    "IdempotencyConflict",
    "IdempotencyKeyRequired",
    "IdempotencyRecord",
    "InvalidCursor",
    "InvalidMetrics",
    "Leader",
    "Page",
    "Snapshot",
    "Store",
    "StoreError",
    "StoreLimitExceeded",
    "StoreUnavailable",
    "TooManyVariants",
    "Variant",
    "open_store",
]


def _query(url: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(url).query).items()}


def open_store(url: str) -> Store:
    """A store for `url`; nothing connects until its first call.

    - `sqlite:///relative/path.db`, `sqlite:////absolute/path.db` (default
      `.data/banditkit.db`); option `?busy_timeout=SECONDS`.
    - `postgresql://user:pass@host:port/db` (also `postgres://`); option `?pool_max=N`.
    - `dynamodb://TABLE?region=...&endpoint_url=...&idempotency_table=...` (default
      TABLE-idempotency); options `retry_mode=standard|adaptive`, `max_attempts=N` (5),
      `read_timeout=SECONDS` (5).
    """
    scheme = urlsplit(url).scheme
    options = _query(url)
    if scheme == "sqlite":
        from banditkit.store.sqlite import DEFAULT_PATH, SQLiteStore

        path = url.split("?", 1)[0].removeprefix("sqlite:").removeprefix("//")
        path = path.removeprefix("/") or DEFAULT_PATH
        return SQLiteStore(path, busy_timeout=float(options.get("busy_timeout", 5.0)))
    if scheme in ("postgresql", "postgres"):
        from banditkit.store.postgres import PostgresStore

        return PostgresStore(url)
    if scheme == "dynamodb":
        from banditkit.store.dynamodb import DynamoDBStore

        table = urlsplit(url).netloc
        if not table:
            raise ValueError("dynamodb URL needs a table name: dynamodb://TABLE?region=...")
        if options.get("retry_mode", "standard") not in ("standard", "adaptive"):
            raise ValueError("retry_mode must be standard or adaptive")  # a typo is no default
        return DynamoDBStore(
            table,
            region=options.get("region"),
            endpoint_url=options.get("endpoint_url"),
            idempotency_table=options.get("idempotency_table"),
            retry_mode="adaptive" if options.get("retry_mode") == "adaptive" else "standard",
            max_attempts=int(options.get("max_attempts", 5)),
            read_timeout=float(options.get("read_timeout", 5.0)),
        )
    raise ValueError(f"unsupported store URL scheme {scheme!r}")
