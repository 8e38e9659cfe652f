"""The store contract: every backend answers these the same way."""

from __future__ import annotations

import dataclasses
import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from banditkit.store import (
    MAX_COUNT,
    Conflict,
    DailyRow,
    Experiment,
    ExperimentNotFound,
    IdempotencyConflict,
    IdempotencyKeyRequired,
    IdempotencyRecord,
    InvalidCursor,
    InvalidMetrics,
    Snapshot,
    Store,
    StoreError,
    StoreUnavailable,
    TooManyVariants,
    Variant,
)
from banditkit.store._common import encode_cursor

from .conftest import pg_url

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
D1 = dt.date(2026, 1, 1)
D2 = dt.date(2026, 1, 2)
D3 = dt.date(2026, 1, 3)


def experiment(
    experiment_id: str = "exp-1",
    *,
    name: str = "Homepage hero",
    created_at: dt.datetime = T0,
    status: str = "running",
    variants: tuple[Variant, ...] = (Variant("control", True), Variant("variant_b")),
) -> Experiment:
    return Experiment(
        id=experiment_id,
        name=name,
        description="",
        status=status,  # type: ignore[arg-type]
        variants=variants,
        variants_declared=bool(variants),
        settings={"min_impressions": 500, "window_days": None},
        created_at=created_at,
        updated_at=created_at,
    )


def snapshot(
    fingerprint: str, at: dt.datetime, experiment_id: str = "exp-1", trigger: str = "api"
) -> Snapshot:
    return Snapshot(
        experiment_id=experiment_id,
        computed_at=at,
        trigger=trigger,  # type: ignore[arg-type]
        allocations={"control": 0.25, "variant_b": 0.75},
        p_best={"control": 0.1, "variant_b": 0.9},
        totals={"control": {"impressions": 10, "clicks": 1, "conversions": 0}},
        data_fingerprint=fingerprint,
    )


def counts(
    store: Store, experiment_id: str = "exp-1"
) -> dict[tuple[dt.date, str], tuple[int, ...]]:
    return {
        (r.date, r.variant_name): (r.impressions, r.clicks, r.conversions)
        for r in store.read_daily(experiment_id)
    }


# experiments ---------------------------------------------------------------------------


def test_create_then_get_round_trips_every_field(store: Store) -> None:
    # Given an experiment with a unicode name at the 100-character maximum and unicode variants
    name = ("Überschrift 🚀 « test » 日本語 " * 5)[:100]
    assert len(name) == 100
    variants = (Variant("контроль", True), Variant("变体_b"), Variant("v" * 100))
    created = store.create_experiment(experiment(name=name, variants=variants))
    # Then get returns exactly what was stored
    got = store.get_experiment("exp-1")
    assert got == created
    assert got.name == name
    assert got.variants == variants
    assert got.settings == {"min_impressions": 500, "window_days": None}
    assert got.created_at == T0
    assert got.created_at.tzinfo is not None
    assert got.version == 1


def test_creating_an_existing_id_conflicts(store: Store) -> None:
    store.create_experiment(experiment())
    with pytest.raises(Conflict):
        store.create_experiment(experiment(name="other"))
    assert store.get_experiment("exp-1").name == "Homepage hero"


def test_unknown_experiment(store: Store) -> None:
    with pytest.raises(ExperimentNotFound):
        store.get_experiment("nope")
    with pytest.raises(ExperimentNotFound):
        store.update_experiment(experiment("nope"), expected_version=1)
    with pytest.raises(ExperimentNotFound):
        store.delete_experiment("nope")
    with pytest.raises(ExperimentNotFound):
        store.write_daily("nope", [DailyRow(D1, "a", 1, 0)], "set")
    with pytest.raises(ExperimentNotFound):
        store.write_snapshot(snapshot("f", T0, experiment_id="nope"))
    # reads of an unknown experiment's data are empty (the service checks the experiment)
    assert store.read_daily("nope") == []
    assert store.latest_snapshot("nope") is None
    assert store.list_snapshots("nope").items == []
    # and nothing was created on the way
    assert store.list_experiments().items == []


def test_text_a_backend_cannot_hold_is_a_typed_error(store: Store) -> None:
    # PostgreSQL text cannot hold NUL: a typed StoreError, no driver text, nothing stored
    odd = Experiment(**{**experiment().__dict__, "description": "a\x00b"})
    if store.name != "postgres":
        assert store.create_experiment(odd).description == "a\x00b"
        return
    with pytest.raises(StoreError) as caught:
        store.create_experiment(odd)
    assert str(caught.value) == "postgres refused the request"
    with pytest.raises(ExperimentNotFound):
        store.get_experiment("exp-1")


def test_update_is_optimistic(store: Store) -> None:
    store.create_experiment(experiment())
    later = T0 + dt.timedelta(hours=1)
    first = experiment(name="Renamed", status="paused", created_at=T0)
    first = Experiment(**{**first.__dict__, "updated_at": later})
    updated = store.update_experiment(first, expected_version=1)
    assert (updated.version, updated.name, updated.status) == (2, "Renamed", "paused")
    assert updated.updated_at == later
    assert updated.created_at == T0
    assert store.get_experiment("exp-1") == updated
    # a writer still holding version 1 loses and changes nothing
    with pytest.raises(Conflict):
        store.update_experiment(experiment(name="Stale"), expected_version=1)
    assert store.get_experiment("exp-1") == updated
    assert store.update_experiment(experiment(name="Third"), expected_version=2).version == 3


def test_list_filters_by_status(store: Store) -> None:
    for i, status in enumerate(["running", "paused", "running", "completed"]):
        store.create_experiment(
            experiment(f"e{i}", status=status, created_at=T0 + dt.timedelta(minutes=i))
        )
    assert [e.id for e in store.list_experiments(status="running").items] == ["e0", "e2"]
    assert [e.id for e in store.list_experiments(status="paused").items] == ["e1"]
    assert [e.id for e in store.list_experiments().items] == ["e0", "e1", "e2", "e3"]


@pytest.mark.parametrize("status", [None, "running"])
def test_list_pagination_is_stable_while_rows_are_inserted(
    store: Store, status: str | None
) -> None:
    # Given seven experiments, two sharing one creation instant (the id breaks the tie)
    stamps = [0, 1, 1, 2, 3, 4, 5]
    originals = [f"e{i}" for i in range(7)]
    for eid, minute in zip(originals, stamps, strict=True):
        store.create_experiment(experiment(eid, created_at=T0 + dt.timedelta(minutes=minute)))
    # When we page by three and insert before and after the cursor between pages
    seen: list[str] = []
    cursor = None
    inserted = 0
    while True:
        page = store.list_experiments(status=status, limit=3, cursor=cursor)  # type: ignore[arg-type]
        seen += [e.id for e in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        inserted += 1
        store.create_experiment(
            experiment(f"early{inserted}", created_at=T0 - dt.timedelta(minutes=inserted))
        )
        store.create_experiment(
            experiment(f"late{inserted}", created_at=T0 + dt.timedelta(hours=inserted))
        )
    # Then every original appears once, in order; late rows appear after them; early ones never
    assert seen[:7] == originals
    assert len(seen) == len(set(seen))
    assert all(s.startswith("late") for s in seen[7:])
    assert seen[7:] == sorted(seen[7:], key=lambda s: int(s.removeprefix("late")))


def test_bad_cursor_is_refused(store: Store) -> None:
    with pytest.raises(InvalidCursor):
        store.list_experiments(cursor="not-a-cursor")
    with pytest.raises(InvalidCursor):
        store.list_snapshots("exp-1", cursor="bm9wZQ")
    # well-formed cursors whose parts are not what this store wrote
    for instant in ("2026-01-01", "yesterday", "2026-01-01T00:00:00+05:00"):
        with pytest.raises(InvalidCursor):
            store.list_experiments(cursor=encode_cursor(instant, "exp-1"))
        with pytest.raises(InvalidCursor):
            store.list_snapshots("exp-1", cursor=encode_cursor(instant, 1))


# daily metrics -------------------------------------------------------------------------


def test_set_replaces_and_increment_adds(store: Store) -> None:
    store.create_experiment(experiment())
    store.write_daily("exp-1", [DailyRow(D1, "control", 100, 10, 1)], "set")
    store.write_daily(
        "exp-1", [DailyRow(D1, "control", 80, 8, 0), DailyRow(D1, "variant_b", 5, 1, 0)], "set"
    )
    assert counts(store) == {(D1, "control"): (80, 8, 0), (D1, "variant_b"): (5, 1, 0)}
    store.write_daily(
        "exp-1", [DailyRow(D1, "control", 20, 2, 1), DailyRow(D2, "control", 7, 0, 0)], "increment"
    )
    assert counts(store) == {
        (D1, "control"): (100, 10, 1),
        (D1, "variant_b"): (5, 1, 0),
        (D2, "control"): (7, 0, 0),
    }


def test_read_daily_range_is_inclusive_and_ordered(store: Store) -> None:
    store.create_experiment(experiment())
    rows = [DailyRow(d, v, 10, 1) for d in (D3, D1, D2) for v in ("b", "a", "ä")]
    store.write_daily("exp-1", rows, "set")
    got = store.read_daily("exp-1", start=D2, end=D3)
    assert [(r.date, r.variant_name) for r in got] == [
        (D2, "a"),
        (D2, "b"),
        (D2, "ä"),
        (D3, "a"),
        (D3, "b"),
        (D3, "ä"),
    ]
    assert [r.date for r in store.read_daily("exp-1", end=D1)] == [D1] * 3
    assert len(store.read_daily("exp-1", start=D1)) == 9


@pytest.mark.parametrize(
    "bad",
    [
        DailyRow(D1, "variant_b", -1, 0),
        DailyRow(D1, "variant_b", 1, 0, MAX_COUNT + 1),
        DailyRow(D1, "variant_b", True, 0),  # type: ignore[arg-type]
        DailyRow(D1, "control", 1, 0),  # (D1, control) twice in one batch
        DailyRow(D1, "nul\x00name", 1, 0),  # PostgreSQL text cannot hold NUL
    ],
    ids=["negative", "too-large", "not-int", "duplicate", "nul-in-name"],
)
@pytest.mark.parametrize("mode", ["set", "increment"])
def test_one_invalid_row_writes_nothing(store: Store, bad: DailyRow, mode: str) -> None:
    store.create_experiment(experiment())
    store.write_daily("exp-1", [DailyRow(D1, "control", 10, 1)], "set")
    batch = [DailyRow(D1, "control", 5, 5), DailyRow(D2, "control", 3, 0), bad]
    with pytest.raises(InvalidMetrics):
        store.write_daily("exp-1", batch, mode)  # type: ignore[arg-type]
    assert counts(store) == {(D1, "control"): (10, 1, 0)}


def test_a_row_the_database_refuses_rolls_back_the_whole_batch(store: Store) -> None:
    # Given a stored total near the 64-bit limit, which only the database can check
    store.create_experiment(experiment())
    store.write_daily("exp-1", [DailyRow(D1, "variant_b", MAX_COUNT - 5, 0)], "set")
    # When one increment in the batch would carry it past the limit
    batch = [DailyRow(D1, "control", 5, 1), DailyRow(D1, "variant_b", 10, 0)]
    with pytest.raises(InvalidMetrics):
        store.write_daily("exp-1", batch, "increment", IdempotencyRecord("k1", "h1", {"n": 1}))
    # Then the valid row and the idempotency record were not stored either
    assert counts(store) == {(D1, "variant_b"): (MAX_COUNT - 5, 0, 0)}
    assert store.write_daily("exp-1", batch[:1], "increment", IdempotencyRecord("k1", "h2")) is None
    assert counts(store)[(D1, "control")] == (5, 1, 0)


def test_idempotent_replay_returns_first_answer_and_changes_nothing(store: Store) -> None:
    store.create_experiment(experiment())
    store.create_experiment(experiment("exp-2"))
    rows = [DailyRow(D1, "control", 10, 1), DailyRow(D1, "variant_b", 20, 4)]
    first = IdempotencyRecord("key-1", "hash-a", {"total_impressions": 30, "mode": "increment"})
    assert store.write_daily("exp-1", rows, "increment", first) is None
    # the same key and body: the first answer, nothing added
    replay = IdempotencyRecord("key-1", "hash-a", {"total_impressions": 999})
    assert store.write_daily("exp-1", rows, "increment", replay) == {
        "total_impressions": 30,
        "mode": "increment",
    }
    assert counts(store) == {(D1, "control"): (10, 1, 0), (D1, "variant_b"): (20, 4, 0)}
    # the same key with another body: a conflict, nothing added
    with pytest.raises(IdempotencyConflict):
        store.write_daily("exp-1", rows[:1], "increment", IdempotencyRecord("key-1", "hash-b", {}))
    assert counts(store) == {(D1, "control"): (10, 1, 0), (D1, "variant_b"): (20, 4, 0)}
    # keys are scoped per experiment
    assert store.write_daily("exp-2", rows, "increment", IdempotencyRecord("key-1", "x")) is None
    assert counts(store, "exp-2") == counts(store)


def test_data_version_moves_with_every_stored_write_and_only_then(store: Store) -> None:
    # Readers cache what they read under (created_at, version, data_version): the number
    # must change whenever the rows may have, and should not change otherwise.
    store.create_experiment(experiment())
    assert store.get_experiment("exp-1").data_version == 0
    rows = [DailyRow(D1, "control", 10, 1)]
    store.write_daily("exp-1", rows, "set")
    assert store.get_experiment("exp-1").data_version == 1
    record = IdempotencyRecord("key-1", "hash-a", {"ok": True})
    store.write_daily("exp-1", rows, "increment", record)
    assert store.get_experiment("exp-1").data_version == 2
    # a replay stores nothing and leaves the version; so does a refused batch
    store.write_daily("exp-1", rows, "increment", record)
    with pytest.raises(InvalidMetrics):
        store.write_daily("exp-1", [DailyRow(D1, "control", -1, 0)], "set")
    store.read_daily("exp-1")
    assert store.get_experiment("exp-1").data_version == 2
    # editing the experiment bumps `version`, not data_version, and keeps it
    exp = store.get_experiment("exp-1")
    updated = store.update_experiment(dataclasses.replace(exp, name="renamed"), exp.version)
    assert (updated.version, updated.data_version) == (2, 2)
    assert store.get_experiment("exp-1") == updated
    with pytest.raises(ExperimentNotFound):
        store.write_daily("nope", rows, "set")


def test_an_idempotency_key_is_free_again_once_its_record_expires(store: Store) -> None:
    # Given a TTL that has every record expire 5 s before it is written (the default, 24 h,
    # makes the replays of the tests above)
    store.idempotency_ttl = dt.timedelta(seconds=-5)  # type: ignore[attr-defined]
    store.create_experiment(experiment())
    rows = [DailyRow(D1, "control", 10, 1)]
    first = IdempotencyRecord("key-1", "hash-a", {"first": True})
    assert store.write_daily("exp-1", rows, "increment", first) is None
    # Then the key used again is a new request: counted again, free to carry another body
    again = IdempotencyRecord("key-1", "hash-b", {"second": True})
    assert store.write_daily("exp-1", rows, "increment", again) is None
    assert counts(store) == {(D1, "control"): (20, 2, 0)}


def run_threads(n: int, work: Callable[[int], None]) -> None:
    errors: list[BaseException] = []
    barrier = threading.Barrier(n)

    def run(i: int) -> None:
        try:
            barrier.wait()
            work(i)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_concurrent_increments_are_exact(store: Store) -> None:
    # 32 threads x 50 increments of one (date, variant) row, plus one row per thread
    store.create_experiment(experiment())

    def work(i: int) -> None:
        for _ in range(50):
            store.write_daily(
                "exp-1",
                [DailyRow(D1, "control", 3, 2, 1), DailyRow(D1, f"t{i:02d}", 1, 0)],
                "increment",
            )

    run_threads(32, work)
    got = counts(store)
    assert got[(D1, "control")] == (32 * 50 * 3, 32 * 50 * 2, 32 * 50)
    assert all(got[(D1, f"t{i:02d}")] == (50, 0, 0) for i in range(32))


def test_concurrent_replays_of_one_key_count_once(store: Store) -> None:
    store.create_experiment(experiment())
    rows = [DailyRow(D1, "control", 1, 1)]
    answers: list[object] = []

    def work(i: int) -> None:
        answers.append(
            store.write_daily("exp-1", rows, "increment", IdempotencyRecord("k", "h", {"ok": 1}))
        )

    run_threads(8, work)
    assert counts(store) == {(D1, "control"): (1, 1, 0)}
    assert sorted(answers, key=repr) == [None] + [{"ok": 1}] * 7


# the variant cap ---------------------------------------------------------------------------


def names_of(store: Store, experiment_id: str = "exp-1") -> list[str]:
    return [v.name for v in store.get_experiment(experiment_id).variants]


def test_new_variants_are_recorded_with_their_counts(store: Store) -> None:
    store.create_experiment(experiment(variants=()))
    version = store.get_experiment("exp-1").version
    rows = [DailyRow(D1, "b", 1, 0), DailyRow(D1, "a", 1, 0)]
    assert store.write_daily("exp-1", rows, "increment", max_variants=3) is None
    assert names_of(store) == ["b", "a"]  # in the order of the batch
    assert store.get_experiment("exp-1").version == version + 1
    store.write_daily("exp-1", [DailyRow(D2, "a", 1, 0)], "set", max_variants=3)
    assert store.get_experiment("exp-1").version == version + 1  # nothing new: unchanged
    with pytest.raises(TooManyVariants) as caught:
        store.write_daily(
            "exp-1", [DailyRow(D2, "c", 1, 0), DailyRow(D2, "d", 1, 0)], "set", max_variants=3
        )
    assert caught.value.limit == 3
    assert names_of(store) == ["b", "a"]
    assert {r.variant_name for r in store.read_daily("exp-1")} == {"a", "b"}


def test_the_variant_cap_holds_under_concurrent_writers(store: Store) -> None:
    # Given an experiment with 40 of its 50 variants
    store.create_experiment(experiment(variants=()))
    seed = [DailyRow(D1, f"v{i:02d}", 1, 0) for i in range(40)]
    store.write_daily("exp-1", seed, "increment", max_variants=50)
    refused: list[int] = []

    # When 8 writers each add 5 new variants at once
    def work(i: int) -> None:
        rows = [DailyRow(D1, f"t{i}-{j}", 1, 0) for j in range(5)]
        try:
            store.write_daily("exp-1", rows, "increment", max_variants=50)
        except TooManyVariants:
            refused.append(i)

    run_threads(8, work)
    # Then two of them fit and six are refused, with nothing of theirs stored
    assert len(refused) == 6
    stored = {r.variant_name for r in store.read_daily("exp-1")}
    assert len(stored) == 50
    assert sorted(names_of(store)) == sorted(stored)
    # and the full experiment still takes counts for its variants, none for a new one
    store.write_daily("exp-1", [DailyRow(D2, "v00", 5, 1)], "increment", max_variants=50)
    with pytest.raises(TooManyVariants):
        store.write_daily("exp-1", [DailyRow(D2, "new", 5, 1)], "increment", max_variants=50)
    assert counts(store)[(D2, "v00")] == (5, 1, 0)


def test_an_experiment_past_the_cap_still_takes_its_variants(store: Store) -> None:
    # Given an experiment that holds more variants than the cap (stored by older code)
    many = tuple(Variant(f"v{i:02d}") for i in range(55))
    store.create_experiment(dataclasses.replace(experiment(variants=many), variants_declared=False))
    rows = [DailyRow(D1, v.name, 1, 0) for v in many]
    assert store.write_daily("exp-1", rows, "set", max_variants=50) is None
    assert len(store.read_daily("exp-1")) == 55
    with pytest.raises(TooManyVariants):
        store.write_daily("exp-1", [DailyRow(D1, "v55", 1, 0)], "set", max_variants=50)


# batches beyond one DynamoDB transaction (98 rows with a key, 99 without) ----------------


def grid(days: int, variants: int = 5, impressions: int = 100) -> list[DailyRow]:
    """days x variants rows in read order; counts differ per row so a lost or doubled row
    shows in the totals."""
    return [
        DailyRow(D1 + dt.timedelta(days=d), f"v{v}", impressions + d, d % 7 + v, v)
        for d in range(days)
        for v in range(variants)
    ]


@pytest.mark.parametrize("days", [30, 200], ids=["150-rows", "1000-rows"])
def test_a_large_set_import_stores_every_row(store: Store, days: int) -> None:
    store.create_experiment(experiment())
    rows = grid(days)
    assert store.write_daily("exp-1", rows, "set") is None
    assert store.read_daily("exp-1") == rows
    # a retry (or a corrected file) replaces the days: nothing is added
    again = grid(days, impressions=500)
    assert store.write_daily("exp-1", again, "set") is None
    assert store.read_daily("exp-1") == again


def test_a_large_keyed_increment_counts_once_when_retried(store: Store) -> None:
    store.create_experiment(experiment())
    store.write_daily("exp-1", [DailyRow(D1, "v0", 1000, 10)], "set")
    rows = grid(60)  # 300 rows: four DynamoDB transactions
    first = IdempotencyRecord("import-1", "hash-a", {"rows_imported": 300})
    assert store.write_daily("exp-1", rows, "increment", first) is None
    expected = {(r.date, r.variant_name): (r.impressions, r.clicks, r.conversions) for r in rows}
    expected[(D1, "v0")] = (1000 + 100, 10 + 0, 0)
    assert counts(store) == expected
    # the same key and body: the first answer, nothing added
    replay = IdempotencyRecord("import-1", "hash-a", {"rows_imported": -1})
    assert store.write_daily("exp-1", rows, "increment", replay) == {"rows_imported": 300}
    assert counts(store) == expected
    # the same key with another body, large or small: a conflict, nothing added
    with pytest.raises(IdempotencyConflict):
        store.write_daily("exp-1", grid(61), "increment", IdempotencyRecord("import-1", "b"))
    with pytest.raises(IdempotencyConflict):
        store.write_daily("exp-1", rows[:2], "increment", IdempotencyRecord("import-1", "c"))
    assert counts(store) == expected


def test_a_small_keyed_write_then_a_large_body_with_its_key_conflicts(store: Store) -> None:
    store.create_experiment(experiment())
    small = [DailyRow(D1, "v0", 1, 1)]
    assert store.write_daily("exp-1", small, "increment", IdempotencyRecord("k", "a")) is None
    with pytest.raises(IdempotencyConflict):
        store.write_daily("exp-1", grid(60), "increment", IdempotencyRecord("k", "b"))
    assert counts(store) == {(D1, "v0"): (1, 1, 0)}


def test_concurrent_replays_of_a_large_keyed_increment_count_once(store: Store) -> None:
    store.create_experiment(experiment())
    rows = grid(40)  # 200 rows: three DynamoDB transactions
    answers: list[object] = []

    def work(i: int) -> None:
        record = IdempotencyRecord("k", "h", {"ok": 1})
        answers.append(store.write_daily("exp-1", rows, "increment", record))

    run_threads(4, work)
    assert store.read_daily("exp-1") == rows
    assert sorted(answers, key=repr) == [None] + [{"ok": 1}] * 3


def test_a_large_increment_without_a_key(store: Store) -> None:
    store.create_experiment(experiment())
    rows = grid(20)  # 100 rows: beyond one DynamoDB transaction
    if store.name == "dynamodb":
        # its parts would commit one by one and a retry could count twice: refused
        with pytest.raises(IdempotencyKeyRequired):
            store.write_daily("exp-1", rows, "increment")
        assert store.read_daily("exp-1") == []
    else:
        # SQLite and PostgreSQL write it in one transaction
        assert store.write_daily("exp-1", rows, "increment") is None
        assert store.read_daily("exp-1") == rows


def test_one_invalid_row_at_the_end_of_a_large_batch_writes_nothing(store: Store) -> None:
    store.create_experiment(experiment())
    rows = [*grid(60), DailyRow(D1, "bad", -1, 0)]
    with pytest.raises(InvalidMetrics):
        store.write_daily("exp-1", rows, "increment", IdempotencyRecord("k", "h"))
    assert store.read_daily("exp-1") == []
    # the key was not used up
    assert store.write_daily("exp-1", rows[:-1], "increment", IdempotencyRecord("k", "h")) is None


# snapshots -----------------------------------------------------------------------------


def test_snapshot_written_only_when_fingerprint_changes(store: Store) -> None:
    store.create_experiment(experiment())
    minute = dt.timedelta(minutes=1)
    assert store.write_snapshot(snapshot("fa", T0)) is True
    assert store.write_snapshot(snapshot("fa", T0 + minute, trigger="schedule")) is False
    assert store.write_snapshot(snapshot("fb", T0 + 2 * minute)) is True
    assert store.write_snapshot(snapshot("fa", T0 + 3 * minute)) is True
    items = store.list_snapshots("exp-1").items
    assert [(s.data_fingerprint, s.computed_at) for s in items] == [
        ("fa", T0 + 3 * minute),
        ("fb", T0 + 2 * minute),
        ("fa", T0),
    ]
    assert items[0] == snapshot("fa", T0 + 3 * minute)
    assert store.latest_snapshot("exp-1") == items[0]


def test_the_latest_snapshot_is_the_newest_by_time_then_fingerprint(store: Store) -> None:
    # Given snapshots written out of order, and some at one instant
    store.create_experiment(experiment())
    at = [T0 + dt.timedelta(minutes=m) for m in range(4)]
    assert store.write_snapshot(snapshot("fa", at[2])) is True
    # an older snapshot is compared with the newest, not with the last written
    assert store.write_snapshot(snapshot("fb", at[1])) is True
    assert store.write_snapshot(snapshot("fa", at[0])) is False
    latest = store.latest_snapshot("exp-1")
    assert latest is not None
    assert (latest.data_fingerprint, latest.computed_at) == ("fa", at[2])
    # at one instant the greatest fingerprint is the newest, whatever the write order
    assert store.write_snapshot(snapshot("fc", at[3])) is True
    assert store.write_snapshot(snapshot("fd", at[3])) is True
    assert store.write_snapshot(snapshot("fb", at[3])) is True
    assert store.write_snapshot(snapshot("fd", at[3])) is False
    items = store.list_snapshots("exp-1").items
    assert [(s.data_fingerprint, s.computed_at) for s in items] == [
        ("fd", at[3]),
        ("fc", at[3]),
        ("fb", at[3]),
        ("fa", at[2]),
        ("fb", at[1]),
    ]
    assert store.latest_snapshot("exp-1") == items[0]
    # and pages follow the same order
    pages, page = [], store.list_snapshots("exp-1", limit=2)
    pages += page.items
    while page.next_cursor is not None:
        page = store.list_snapshots("exp-1", limit=2, cursor=page.next_cursor)
        pages += page.items
    assert pages == items


def test_concurrent_writers_of_one_fingerprint_store_one_row(store: Store) -> None:
    store.create_experiment(experiment())
    stored: list[bool] = []

    def work(i: int) -> None:
        stored.append(store.write_snapshot(snapshot("same", T0 + dt.timedelta(seconds=i))))

    run_threads(8, work)
    assert sorted(stored) == [False] * 7 + [True]
    assert len(store.list_snapshots("exp-1").items) == 1


def test_snapshots_newest_first_with_range_and_pages(store: Store) -> None:
    store.create_experiment(experiment())
    at = [T0 + dt.timedelta(hours=h) for h in range(10)]
    for i, moment in enumerate(at):
        assert store.write_snapshot(snapshot(f"f{i}", moment))
    page = store.list_snapshots("exp-1", start=at[2], end=at[8], limit=3)
    got = [s.computed_at for s in page.items]
    while page.next_cursor is not None:
        # a newer snapshot arriving mid-way never shifts the pages
        store.write_snapshot(snapshot(f"new{len(got)}", at[-1] + dt.timedelta(hours=len(got))))
        page = store.list_snapshots(
            "exp-1", start=at[2], end=at[8], limit=3, cursor=page.next_cursor
        )
        got += [s.computed_at for s in page.items]
    assert got == list(reversed(at[2:9]))


# deletion ------------------------------------------------------------------------------


def test_delete_removes_everything_of_one_experiment(store: Store) -> None:
    for eid in ("exp-1", "exp-2"):
        store.create_experiment(experiment(eid))
        store.write_daily(
            eid, [DailyRow(D1, "control", 1, 0)], "increment", IdempotencyRecord("k", "h1")
        )
        store.write_snapshot(snapshot("f", T0, experiment_id=eid))
    store.delete_experiment("exp-1")
    with pytest.raises(ExperimentNotFound):
        store.get_experiment("exp-1")
    assert store.read_daily("exp-1") == []
    assert store.list_snapshots("exp-1").items == []
    assert [e.id for e in store.list_experiments().items] == ["exp-2"]
    # the idempotency records went too: a new experiment with that id may reuse the key
    store.create_experiment(experiment("exp-1"))
    assert (
        store.write_daily(
            "exp-1", [DailyRow(D1, "control", 5, 0)], "set", IdempotencyRecord("k", "h2")
        )
        is None
    )
    assert counts(store, "exp-1") == {(D1, "control"): (5, 0, 0)}
    # the other experiment is untouched
    assert counts(store, "exp-2") == {(D1, "control"): (1, 0, 0)}
    assert len(store.list_snapshots("exp-2").items) == 1
    with pytest.raises(IdempotencyConflict):
        store.write_daily("exp-2", [], "set", IdempotencyRecord("k", "other"))


@contextmanager
def deletes_interrupted(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make delete_experiment fail part-way: SQL stores fail deleting the snapshots (a trigger
    raising in the delete's transaction); DynamoDB deletes a few items, then the sweep fails."""
    if store.name == "dynamodb":
        sweep = store._sweep_part  # type: ignore[attr-defined]

        def partly(*args: Any) -> None:
            table, keys, *rest = args
            sweep(table, keys[:3], *rest)
            raise StoreUnavailable("the sweep was interrupted")

        monkeypatch.setattr(store, "_sweep_part", partly)
        yield
        monkeypatch.setattr(store, "_sweep_part", sweep)
        return
    create, drop = {
        "sqlite": (
            [
                "CREATE TRIGGER interrupt BEFORE DELETE ON snapshots "
                "BEGIN SELECT RAISE(ABORT, 'interrupted'); END"
            ],
            ["DROP TRIGGER interrupt"],
        ),
        "postgres": (
            [
                "CREATE FUNCTION interrupt() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'interrupted'; END $$",
                "CREATE TRIGGER interrupt BEFORE DELETE ON snapshots "
                "FOR EACH ROW EXECUTE FUNCTION interrupt()",
            ],
            ["DROP TRIGGER interrupt ON snapshots", "DROP FUNCTION interrupt()"],
        ),
    }[store.name]
    if store.name == "sqlite":
        conn: Any = sqlite3.connect(store.path, isolation_level=None)  # type: ignore[attr-defined]
    else:
        conn = psycopg.connect(pg_url(), autocommit=True)
        conn.execute(f"SET search_path = {store.schema}")  # type: ignore[attr-defined]
    try:
        for sql in create:
            conn.execute(sql)
        yield
        for sql in drop:
            conn.execute(sql)
    finally:
        conn.close()


def test_a_recreated_id_starts_empty_after_an_interrupted_delete(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an experiment with days, snapshots and an idempotency key
    store.create_experiment(experiment())
    rows = grid(10)
    store.write_daily("exp-1", rows, "increment", IdempotencyRecord("k", "h1"))
    for i in range(3):
        store.write_snapshot(snapshot(f"f{i}", T0 + dt.timedelta(minutes=i)))
    # When its delete fails part-way
    with deletes_interrupted(store, monkeypatch), pytest.raises(StoreError):
        store.delete_experiment("exp-1")
    # Then either nothing was deleted (one transaction) ...
    try:
        whole = store.get_experiment("exp-1")
    except ExperimentNotFound:
        whole = None
        # ... or the experiment is gone from every listing
        assert store.list_experiments().items == []
    if whole is not None:
        assert store.read_daily("exp-1") == rows
        assert len(store.list_snapshots("exp-1").items) == 3
        store.delete_experiment("exp-1")
    # and the same id made again starts empty: no days, snapshots or keys of the old one
    store.create_experiment(experiment(created_at=T0 + dt.timedelta(days=1)))
    assert store.read_daily("exp-1") == []
    assert store.list_snapshots("exp-1").items == []
    assert store.latest_snapshot("exp-1") is None
    assert store.write_snapshot(snapshot("f2", T0 + dt.timedelta(days=1))) is True
    fresh = [DailyRow(D1, "control", 1, 0)]
    assert store.write_daily("exp-1", fresh, "increment", IdempotencyRecord("k", "h2")) is None
    assert counts(store) == {(D1, "control"): (1, 0, 0)}


def test_delete_of_many_rows(store: Store) -> None:
    store.create_experiment(experiment())
    days = [D1 + dt.timedelta(days=i) for i in range(40)]
    for day in days:
        store.write_daily("exp-1", [DailyRow(day, f"v{j}", 1, 0) for j in range(5)], "set")
    assert len(store.read_daily("exp-1")) == 200
    store.delete_experiment("exp-1")
    assert store.read_daily("exp-1") == []


def test_reset_deletes_everything(store: Store) -> None:
    for eid in ("exp-1", "exp-2"):
        store.create_experiment(experiment(eid))
        store.write_daily(eid, [DailyRow(D1, "control", 1, 0)], "set", IdempotencyRecord("k", "h"))
        store.write_snapshot(snapshot("f", T0, experiment_id=eid))
    store.reset()
    assert store.list_experiments().items == []
    assert store.read_daily("exp-1") == []
    assert store.list_snapshots("exp-2").items == []
    # the store keeps working after a reset, idempotency keys included
    store.create_experiment(experiment())
    assert (
        store.write_daily("exp-1", [DailyRow(D1, "c", 1, 0)], "set", IdempotencyRecord("k", "x"))
        is None
    )
    store.ping()
