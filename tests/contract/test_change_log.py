"""The change log and the snapshots' latest data day: every backend keeps them as given."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from banditkit.store import Change, Conflict, DailyRow, Store

from .test_store import T0, experiment, snapshot

D1 = dt.date(2026, 1, 1)


def test_a_new_experiment_has_no_changes(store: Store) -> None:
    store.create_experiment(experiment())
    assert store.get_experiment("exp-1").changes == ()


def test_update_stores_the_changes_with_the_experiment(store: Store) -> None:
    # Given an experiment updated with two changes, one before any data
    created = store.create_experiment(experiment())
    at = T0 + dt.timedelta(hours=1)
    changes = (
        Change(at, "settings", "control_floor 0.1 → 0; window_days none → 14", None),
        Change(at, "variants_added", "added «日本語»", D1),
    )
    updated = dataclasses.replace(created, status="paused", updated_at=at, changes=changes)
    returned = store.update_experiment(updated, expected_version=1)
    # Then the update returns them and a read gives them back, field by field
    got = store.get_experiment("exp-1")
    assert returned.changes == changes
    assert got.changes == changes
    assert got.changes[0].at == at
    assert got.changes[0].at.tzinfo is not None
    assert got.changes[1].latest_day == D1
    assert (got.status, got.version) == ("paused", 2)


def test_a_refused_update_stores_no_change(store: Store) -> None:
    created = store.create_experiment(experiment())
    logged = dataclasses.replace(created, changes=(Change(T0, "paused", "running → paused"),))
    store.update_experiment(dataclasses.replace(created, name="renamed"), expected_version=1)
    # The update from the stale version 1 is refused: neither it nor its change is stored
    with pytest.raises(Conflict):
        store.update_experiment(logged, expected_version=1)
    got = store.get_experiment("exp-1")
    assert got.changes == ()
    assert got.name == "renamed"


def test_listing_returns_the_changes_too(store: Store) -> None:
    created = store.create_experiment(experiment())
    change = Change(T0, "completed", "running → completed", D1)
    store.update_experiment(
        dataclasses.replace(created, status="completed", changes=(change,)), expected_version=1
    )
    assert [e.changes for e in store.list_experiments().items] == [(change,)]


@pytest.mark.parametrize("latest_day", [None, D1])
def test_a_snapshot_keeps_its_latest_data_day(store: Store, latest_day: dt.date | None) -> None:
    store.create_experiment(experiment())
    snap = dataclasses.replace(snapshot("f1", T0), latest_day=latest_day)
    assert store.write_snapshot(snap)
    assert store.latest_snapshot("exp-1") == snap
    assert store.list_snapshots("exp-1").items[0].latest_day == latest_day


def test_latest_day_is_the_greatest_stored_date(store: Store) -> None:
    store.create_experiment(experiment())
    assert store.latest_day("exp-1") is None
    assert store.latest_day("unknown") is None
    # Given rows written out of order, for variants whose names sort either way
    later = D1 + dt.timedelta(days=40)
    store.write_daily("exp-1", [DailyRow(later, "a", 5, 1), DailyRow(D1, "zz", 5, 1)], "set")
    store.write_daily("exp-1", [DailyRow(D1 + dt.timedelta(days=3), "zz", 0, 0)], "set")
    # Then the latest day is the greatest date, as read_daily has it
    assert store.latest_day("exp-1") == later
    assert store.latest_day("exp-1") == max(r.date for r in store.read_daily("exp-1"))
    # and another experiment's days do not count
    store.create_experiment(experiment("exp-2"))
    store.write_daily("exp-2", [DailyRow(later + dt.timedelta(days=1), "a", 1, 0)], "set")
    assert store.latest_day("exp-1") == later
