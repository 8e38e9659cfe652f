"""Conditional GETs: the four polled reads carry an ETag and answer If-None-Match with 304
without computing; any change to what they show (data, settings, a snapshot) changes it."""

from __future__ import annotations

from typing import Any

import pytest
from banditkit import service
from fastapi.testclient import TestClient

ROUTES = {
    "allocation": ("/allocation", {"experiment_id": "exp_1"}),
    "report": ("/experiments/exp_1/report", None),
    "experiment": ("/experiments/exp_1", None),
    "history": ("/experiments/exp_1/history", None),
}


@pytest.fixture
def seeded(api: Any) -> Any:
    api.create(id="exp_1", variants=["control", "b"])
    api.post_days("exp_1", days=5, rates={"control": 0.03, "b": 0.05})
    return api


def get(client: TestClient, route: str, tag: str | None = None) -> Any:
    path, params = ROUTES[route]
    headers = {"If-None-Match": tag} if tag else {}
    return client.get(path, params=params, headers=headers)


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_repeated_read_is_304_without_computing(
    route: str, seeded: Any, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = get(client, route)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert tag.startswith('W/"')
    assert first.headers["cache-control"] == "private, no-cache"
    assert get(client, route).headers["etag"] == tag  # stable while nothing changes

    # nothing is computed for a 304: every use case the routes call would fail
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("computed for a 304")

    for name in ("allocate", "report", "get_experiment", "history"):
        monkeypatch.setattr(service, name, boom)
    for header in (tag, tag.removeprefix("W/"), f'"other", {tag}', "*"):
        r = get(client, route, header)
        assert r.status_code == 304, (header, r.text)
        assert r.content == b""
        assert r.headers["etag"] == tag


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_new_data_changes_the_etag(route: str, seeded: Any, client: TestClient) -> None:
    tag = get(client, route).headers["etag"]
    seeded.post_days("exp_1", days=1, start=5, rates={"control": 0.03, "b": 0.05})
    r = get(client, route, tag)
    assert r.status_code == 200
    assert r.headers["etag"] != tag


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_a_settings_change_changes_the_etag(route: str, seeded: Any, client: TestClient) -> None:
    tag = get(client, route).headers["etag"]
    assert client.patch("/experiments/exp_1", json={"name": "renamed"}).status_code == 200
    assert get(client, route, tag).status_code == 200


def test_a_snapshot_written_by_the_recompute_changes_the_history_etag(
    seeded: Any, client: TestClient
) -> None:
    # Given a history read right after new data, before any snapshot of it exists
    seeded.post_days("exp_1", days=1, start=5, rates={"control": 0.03, "b": 0.05})
    tag = get(client, "history").headers["etag"]
    # When the scheduled job snapshots the new data
    assert service.recompute_all(seeded.store).snapshots_written == 1
    # Then the history the client holds is stale
    r = get(client, "history", tag)
    assert r.status_code == 200
    assert r.headers["etag"] != tag


def test_the_etag_of_an_allocation_that_wrote_a_snapshot_is_the_state_after_it(
    seeded: Any, client: TestClient
) -> None:
    first = get(client, "allocation")  # writes the snapshot of the current data
    assert get(client, "allocation", first.headers["etag"]).status_code == 304


def test_an_unknown_experiment_is_404_not_304(client: TestClient) -> None:
    r = client.get("/allocation", params={"experiment_id": "nope"}, headers={"If-None-Match": "*"})
    assert r.status_code == 404
