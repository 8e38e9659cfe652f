"""Persistence behind one protocol; `open_store(url)` picks the backend from a URL."""

from banditkit.store.base import (
    Conflict,
    DailyRow,
    Experiment,
    ExperimentNotFound,
    IdempotencyConflict,
    IdempotencyRecord,
    Page,
    Snapshot,
    Store,
    StoreError,
    StoreLimitExceeded,
    StoreUnavailable,
    Variant,
)

__all__ = [
    "Conflict",
    "DailyRow",
    "Experiment",
    "ExperimentNotFound",
    "IdempotencyConflict",
    "IdempotencyRecord",
    "Page",
    "Snapshot",
    "Store",
    "StoreError",
    "StoreLimitExceeded",
    "StoreUnavailable",
    "Variant",
]
