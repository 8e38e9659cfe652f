"""The recompute marker: what the latest snapshot saw, kept on the experiment itself."""

from __future__ import annotations

import dataclasses

import pytest
from banditkit.store import DailyRow, ExperimentNotFound, Store

from .test_store import D1, experiment


def test_snapshot_state_is_kept_without_bumping_the_version(store: Store) -> None:
    created = store.create_experiment(experiment())
    assert created.snapshot_state == ""
    store.mark_snapshot_state("exp-1", "1:0")
    got = store.get_experiment("exp-1")
    assert (got.snapshot_state, got.version, got.data_version) == ("1:0", 1, 0)
    listed = store.list_experiments(status="running").items
    assert [e.snapshot_state for e in listed] == ["1:0"]  # the planner reads it from the page


def test_an_update_or_a_write_keeps_the_mark(store: Store) -> None:
    exp = store.create_experiment(experiment())
    store.mark_snapshot_state("exp-1", "1:0")
    store.update_experiment(dataclasses.replace(exp, name="renamed"), expected_version=1)
    store.write_daily("exp-1", [DailyRow(D1, "control", 100, 10, 1)], "set")
    got = store.get_experiment("exp-1")
    assert (got.snapshot_state, got.version, got.data_version) == ("1:0", 2, 1)


def test_marking_a_missing_experiment_is_not_found(store: Store) -> None:
    with pytest.raises(ExperimentNotFound):
        store.mark_snapshot_state("nope", "1:0")
