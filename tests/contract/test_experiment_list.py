"""Listing experiments for people: newest first, searched by id or name, each with its
leader (kept on the experiment by write_snapshot) and the variant it shipped."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from banditkit.store import Leader, Snapshot, Store

from .test_store import T0, experiment


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def pages(store: Store, **kwargs: object) -> list[str]:
    """Every id the listing gives, read two at a time."""
    seen: list[str] = []
    cursor = None
    while True:
        page = store.list_experiments(limit=2, cursor=cursor, **kwargs)  # type: ignore[arg-type]
        seen += [e.id for e in page.items]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


def test_newest_first_pages_through_every_experiment_once(store: Store) -> None:
    # Given five experiments, two sharing one creation instant (the id breaks the tie)
    for eid, minute in [("a", 0), ("b", 1), ("c", 1), ("d", 2), ("e", 3)]:
        store.create_experiment(experiment(eid, created_at=at(minute)))
    # Then newest first reverses the oldest-first order, across pages
    assert pages(store, newest_first=True) == ["e", "d", "c", "b", "a"]
    assert pages(store) == ["a", "b", "c", "d", "e"]
    # and rows created while paging newest first never appear (they sort before the cursor)
    first = store.list_experiments(limit=2, newest_first=True)
    store.create_experiment(experiment("late", created_at=at(60)))
    rest = store.list_experiments(limit=10, cursor=first.next_cursor, newest_first=True)
    assert [e.id for e in rest.items] == ["c", "b", "a"]


def test_a_query_finds_id_or_name_ignoring_case_across_pages(store: Store) -> None:
    names = {
        "hero-1": "Homepage hero",
        "cta-2": "Checkout CTA",
        "hero-3": "Pricing",  # found by its id
        "str-4": "Straße banner",
        "pct-5": "50% off",
        "x-6": "Été HERO",
    }
    for i, (eid, name) in enumerate(names.items()):
        store.create_experiment(experiment(eid, name=name, created_at=at(i)))
    assert pages(store, query="HERO") == ["hero-1", "hero-3", "x-6"]
    assert pages(store, query="hero", newest_first=True) == ["x-6", "hero-3", "hero-1"]
    assert pages(store, query="strasse") == ["str-4"]  # casefolded, as Python folds it
    assert pages(store, query="été") == ["x-6"]
    # LIKE's wildcards are plain characters in a query
    assert pages(store, query="0%") == ["pct-5"]
    assert pages(store, query="_") == []
    assert pages(store, query="%") == ["pct-5"]
    # with a status: both must hold
    store.update_experiment(
        dataclasses.replace(store.get_experiment("hero-3"), status="paused"), expected_version=1
    )
    assert pages(store, query="hero", status="running") == ["hero-1", "x-6"]
    assert pages(store, query="hero", status="paused") == ["hero-3"]


def test_a_rename_is_found_by_its_new_name(store: Store) -> None:
    exp = store.create_experiment(experiment("e1", name="Old name"))
    store.update_experiment(dataclasses.replace(exp, name="Fresh title"), expected_version=1)
    assert pages(store, query="fresh") == ["e1"]
    assert pages(store, query="old") == []


def snap(fingerprint: str, minute: int, p_best: dict[str, float], impressions: int) -> Snapshot:
    return Snapshot(
        experiment_id="exp-1",
        computed_at=at(minute),
        trigger="api",
        allocations={n: 1 / len(p_best) for n in p_best},
        p_best=p_best,
        totals={n: {"impressions": impressions, "clicks": 0, "conversions": 0} for n in p_best},
        data_fingerprint=fingerprint,
    )


def test_the_newest_snapshot_names_the_leader_on_the_listed_experiment(store: Store) -> None:
    store.create_experiment(experiment())
    assert store.get_experiment("exp-1").leader is None
    # a snapshot before every variant has impressions names no leader (P(best) is the prior)
    store.write_snapshot(snap("f0", 0, {"control": 0.5, "variant_b": 0.5}, 0))
    assert store.get_experiment("exp-1").leader is None
    store.write_snapshot(snap("f1", 10, {"control": 0.2, "variant_b": 0.8}, 100))
    assert store.get_experiment("exp-1").leader == Leader("variant_b", 0.8)
    # an older snapshot written late leaves the newest's leader in place
    store.write_snapshot(snap("f2", 5, {"control": 0.9, "variant_b": 0.1}, 100))
    assert store.get_experiment("exp-1").leader == Leader("variant_b", 0.8)
    store.write_snapshot(snap("f3", 20, {"control": 0.7, "variant_b": 0.3}, 200))
    listed = store.list_experiments().items
    assert [e.leader for e in listed] == [Leader("control", 0.7)]
    # an update of the experiment keeps it
    exp = store.get_experiment("exp-1")
    store.update_experiment(dataclasses.replace(exp, name="renamed"), expected_version=1)
    assert store.get_experiment("exp-1").leader == Leader("control", 0.7)


def test_the_shipped_variant_is_kept_and_can_be_cleared(store: Store) -> None:
    exp = store.create_experiment(experiment())
    assert exp.shipped_variant is None
    done = store.update_experiment(
        dataclasses.replace(exp, status="completed", shipped_variant="variant_b"),
        expected_version=1,
    )
    assert done.shipped_variant == "variant_b"
    assert store.get_experiment("exp-1").shipped_variant == "variant_b"
    assert [e.shipped_variant for e in store.list_experiments(status="completed").items] == [
        "variant_b"
    ]
    reopened = store.update_experiment(
        dataclasses.replace(done, status="running", shipped_variant=None), expected_version=2
    )
    assert reopened.shipped_variant is None
    assert store.get_experiment("exp-1").shipped_variant is None


@pytest.mark.parametrize("newest_first", [False, True])
def test_a_cursor_resumes_a_filtered_listing(store: Store, newest_first: bool) -> None:
    for i in range(7):
        name = "match" if i % 2 == 0 else "other"
        store.create_experiment(experiment(f"e{i}", name=name, created_at=at(i)))
    expected = ["e0", "e2", "e4", "e6"]
    got = pages(store, query="MATCH", newest_first=newest_first)
    assert got == (expected[::-1] if newest_first else expected)
