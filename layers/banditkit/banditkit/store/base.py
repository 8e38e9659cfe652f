"""The store protocol every backend implements, its records and its typed errors.

The store knows nothing of HTTP or of the engine's maths: it keeps experiments, daily
counts keyed (experiment, date, variant), allocation snapshots and idempotency records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, Protocol, TypeVar

WriteMode = Literal["set", "increment"]
ExperimentStatus = Literal["running", "paused", "completed"]
Trigger = Literal["api", "schedule"]
ChangeKind = Literal["settings", "variants_added", "paused", "resumed", "completed"]
T = TypeVar("T")


class StoreError(Exception):
    """Base of every store error."""


class ExperimentNotFound(StoreError):
    def __init__(self, experiment_id: str) -> None:
        super().__init__(f"experiment {experiment_id!r} not found")
        self.experiment_id = experiment_id


class Conflict(StoreError):
    """An optimistic-version mismatch, or creating an id that exists."""


class IdempotencyConflict(StoreError):
    """The idempotency key was used before with a different request body."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached or stayed busy past its retries. Nothing was written,
    except the parts already committed of a multi-part DynamoDB batch (see write_daily)."""


class StoreLimitExceeded(StoreError):
    """A request exceeds a backend limit (item size, items per transaction)."""


class IdempotencyKeyRequired(StoreLimitExceeded):
    """An `increment` batch beyond one backend transaction without an idempotency record:
    its parts commit one by one, so only a key makes a retry safe. Nothing was written."""


class InvalidMetrics(StoreError):
    """Rows the store refuses: a negative or non-integer count, a count past MAX_COUNT
    (also when an increment would carry a stored total past it), or one (date, variant)
    twice in a batch. Nothing of the batch was written."""


class TooManyVariants(StoreError):
    """A batch naming variants the experiment does not have yet, beyond its cap. Nothing of
    the batch was written."""

    def __init__(self, experiment_id: str, limit: int) -> None:
        super().__init__(f"experiment {experiment_id!r} has at most {limit} variants")
        self.limit = limit


class InvalidCursor(StoreError):
    """A pagination cursor this store did not issue."""


# Counts are 64-bit signed integers in every backend.
MAX_COUNT = 2**63 - 1


@dataclass(frozen=True)
class Variant:
    name: str
    is_control: bool = False


# The changes an experiment keeps: the latest MAX_CHANGES, older ones dropped.
MAX_CHANGES = 50


@dataclass(frozen=True)
class Change:
    """One change of an experiment's settings, variants or status, kept on the experiment
    and written in the same transaction as the change itself."""

    at: dt.datetime  # timezone-aware UTC
    kind: ChangeKind
    detail: str  # short, for people: "control_floor 0.1 -> 0", "added b, c"
    latest_day: dt.date | None = None  # the latest data day stored when it was made


@dataclass(frozen=True)
class Leader:
    """The variant most likely best in the latest snapshot, and that probability."""

    variant: str
    p_best: float


@dataclass(frozen=True)
class Experiment:
    id: str
    name: str
    description: str
    status: ExperimentStatus
    variants: tuple[Variant, ...]
    # True when variants were declared at creation: events naming others are rejected.
    variants_declared: bool
    settings: dict[str, Any]  # JSON-able engine settings overrides
    created_at: dt.datetime  # timezone-aware UTC
    updated_at: dt.datetime
    version: int = 1  # bumped by update_experiment (optimistic concurrency)
    # Bumped by every write_daily that stores rows (never by a replay): a reader that saw
    # the same (created_at, version, data_version) before has already read the same data.
    data_version: int = 0
    # The state (snapshot_state_of) whose data the latest snapshot was computed from, set by
    # mark_snapshot_state; "" before the first. The scheduled recompute skips an experiment
    # whose state has not moved since, without reading anything else of it.
    snapshot_state: str = ""
    # The variant shipped when the experiment was completed (its /allocation then gives it
    # all traffic); None otherwise. Written by update_experiment.
    shipped_variant: str | None = None
    # Set by write_snapshot from the newest snapshot (leader_of), so a page of experiments
    # shows each one's leader without reading its snapshots; None before a snapshot in which
    # every variant has impressions.
    leader: Leader | None = None
    # The latest MAX_CHANGES changes, oldest first; update_experiment stores them as given.
    changes: tuple[Change, ...] = ()


def snapshot_state_of(experiment: Experiment) -> str:
    """What a snapshot is computed from, as far as the experiment item tells: its settings
    (version) and its data (data_version). Equal states mean equal inputs to the engine."""
    return f"{experiment.version}:{experiment.data_version}"


@dataclass(frozen=True)
class DailyRow:
    date: dt.date
    variant_name: str
    impressions: int
    clicks: int
    conversions: int = 0


@dataclass(frozen=True)
class Snapshot:
    experiment_id: str
    computed_at: dt.datetime  # timezone-aware UTC
    trigger: Trigger
    allocations: dict[str, float]
    p_best: dict[str, float]
    totals: dict[str, dict[str, int]]  # variant -> {"impressions", "clicks", "conversions"}
    data_fingerprint: str
    status: str = "optimizing"
    latest_day: dt.date | None = None  # the latest data day counted; None without data


@dataclass(frozen=True)
class IdempotencyRecord:
    """Stored in the same transaction as the write it guards."""

    key: str
    request_hash: str
    response: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


class Store(Protocol):
    """Persistence for banditkit. Every method is safe to call from several threads."""

    name: str  # "sqlite" | "postgres" | "dynamodb"

    def ping(self) -> None:
        """Raise StoreUnavailable when the backend cannot answer."""

    def close(self) -> None: ...

    # experiments
    def create_experiment(self, experiment: Experiment) -> Experiment:
        """Insert; Conflict if the id exists. An id used before starts empty: nothing of a
        deleted experiment (days, snapshots, idempotency keys) comes back."""

    def get_experiment(self, experiment_id: str) -> Experiment:
        """ExperimentNotFound if absent."""

    def update_experiment(self, experiment: Experiment, expected_version: int) -> Experiment:
        """Replace the experiment if its stored version is expected_version; the stored copy
        gets version expected_version + 1 and is returned (its changes with it, in the same
        transaction). Conflict on a version mismatch,
        ExperimentNotFound if absent."""

    def delete_experiment(self, experiment_id: str) -> None:
        """Delete the experiment with all its days, snapshots and idempotency records.
        ExperimentNotFound if absent. A delete that fails part-way leaves the experiment
        either whole (SQL: one transaction) or gone from every read (DynamoDB: a tombstone
        that the next delete or create of the id sweeps)."""

    def list_experiments(
        self,
        status: ExperimentStatus | None = None,
        limit: int = 50,
        cursor: str | None = None,
        *,
        query: str | None = None,
        newest_first: bool = False,
    ) -> Page[Experiment]:
        """Oldest first (created_at, id), or newest first; with `query`, only experiments
        whose id or name contains it, ignoring case (search_text_of). The cursor is opaque
        and stable across writes (rows created later appear on later pages oldest first and
        never newest first; none repeats); pass the same status, query and order with it.
        InvalidCursor for a cursor this store did not issue; limit is clamped to 1..1000."""

    # daily metrics
    def write_daily(
        self,
        experiment_id: str,
        rows: Sequence[DailyRow],
        mode: WriteMode,
        idempotency: IdempotencyRecord | None = None,
        *,
        max_variants: int | None = None,
    ) -> dict[str, Any] | None:
        """Write the rows: `set` replaces each (date, variant); `increment` adds.

        Variants the experiment does not have yet are appended to its variants (in the
        order of the batch, bumping its version) in the same transaction as their counts;
        with max_variants, TooManyVariants (nothing written) when that would take the
        experiment past it. Counts for variants it has are taken even when it holds more
        than max_variants (on DynamoDB: in the batch's first transaction).

        With an idempotency record: if its key is new, the rows and the record are written
        together and None is returned; if the key exists with the same request_hash,
        nothing is written and the first response is returned; with another hash,
        IdempotencyConflict. ExperimentNotFound if the experiment is absent.
        Keys are scoped per experiment and expire after the store's idempotency_ttl
        (24 h by default): a key used again later is a new request. InvalidMetrics
        (nothing written) for a negative or non-int count, one (date, variant) twice, or a
        total that would pass MAX_COUNT.
        StoreLimitExceeded (nothing written) when one row is beyond a backend limit.
        Every transaction that stores rows adds 1 to the experiment's data_version.

        SQLite and PostgreSQL write the whole batch in one transaction: all rows or none.
        DynamoDB writes a batch above one transaction (98 rows with an idempotency record,
        99 without) as a sequence of transactions, each atomic on its own, so a failure
        half-way leaves the first parts written. What still holds there:
        - every row is validated (and every item checked against DynamoDB's limits)
          before the first part is written;
        - with an idempotency record each part carries its own record (the request's key
          plus the part's index, a hash of the request hash and the part), so a retry with
          the same key skips the parts already written and writes the rest: rows are never
          counted twice and a retry converges; the same key with another body is an
          IdempotencyConflict on the first part; None is returned when this call wrote
          the first part, else the first response (also when this call wrote the parts
          a failed attempt left out: the answer is the one that attempt would have had);
        - `set` without a key is safe to retry (each part replaces its days);
        - `increment` without a key beyond one transaction is refused with
          IdempotencyKeyRequired, nothing written;
        - a stored total pushed past MAX_COUNT by a later part (InvalidMetrics) leaves the
          earlier parts written."""

    def read_daily(
        self, experiment_id: str, start: dt.date | None = None, end: dt.date | None = None
    ) -> list[DailyRow]:
        """Rows with start <= date <= end, ordered by (date, variant_name); empty for an
        unknown experiment (callers check the experiment first)."""

    def latest_day(self, experiment_id: str) -> dt.date | None:
        """The latest date with a stored row (the greatest date of read_daily), None without
        rows or for an unknown experiment; one indexed lookup, whatever the rows held."""

    # snapshots
    def mark_snapshot_state(self, experiment_id: str, state: str) -> None:
        """Record the state the latest snapshot was computed from (Experiment.snapshot_state),
        without bumping the experiment's version. ExperimentNotFound if it is gone."""
        ...

    def write_snapshot(self, snapshot: Snapshot) -> bool:
        """Store unless the latest snapshot has the same data_fingerprint (checked atomically:
        concurrent writers of one fingerprint store one row). True when stored. A snapshot
        stored as the newest sets the experiment's leader (leader_of) in the same write.
        An older snapshot written late is compared with the latest too, and kept in its
        place in the history. ExperimentNotFound if the experiment is absent."""

    def latest_snapshot(self, experiment_id: str) -> Snapshot | None:
        """The first of list_snapshots: the newest by computed_at, and among snapshots of
        one instant the greatest data_fingerprint (whatever the order they were written)."""

    def list_snapshots(
        self,
        experiment_id: str,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> Page[Snapshot]:
        """Newest first (computed_at, then data_fingerprint, descending); start <=
        computed_at <= end; empty for an unknown experiment."""

    def reset(self) -> None:
        """Delete everything."""
