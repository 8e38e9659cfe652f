"""The 50-variant cap through the API: held by concurrent writers of two server processes,
and an experiment past it (stored by older code) still takes counts for its variants."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

from banditkit import models
from banditkit.http.app import create_app
from banditkit.store import Store, Variant, open_store
from fastapi.testclient import TestClient

from .conftest import Api, config, day


def events(experiment_id: str, names: list[str], on: int = 0) -> dict[str, Any]:
    return {
        "experiment_id": experiment_id,
        "date": day(on),
        "variants": [{"variant_name": n, "impressions": 10, "clicks": 1} for n in names],
    }


def test_an_experiment_past_the_cap_takes_counts_for_its_variants(api: Api, store: Store) -> None:
    # Given an experiment without declared variants that holds 55 (stored by older code)
    exp = api.create(id="wide")
    stored = store.get_experiment(exp["id"])
    many = tuple(Variant(f"v{i:02d}") for i in range(55))
    store.update_experiment(dataclasses.replace(stored, variants=many), stored.version)
    # Then counts for its own variants are taken
    r = api.client.post("/events", json=events("wide", ["v00", "v54"]))
    assert r.status_code == 200, r.text
    # and a new variant is refused, naming the field, with nothing stored
    before = api.state()
    r = api.client.post("/events", json=events("wide", ["v00", "new"], on=1))
    body = api.problem(r, 422, "variants")
    assert str(models.MAX_VARIANTS) in body["errors"][0]["message"]
    assert api.state() == before


def test_the_cap_holds_for_concurrent_writers_of_two_processes(api: Api, tmp_path: Path) -> None:
    # Given two servers on one database, and an experiment with 40 variants
    api.create(id="race")
    r = api.client.post("/events", json=events("race", [f"v{i:02d}" for i in range(40)]))
    assert r.status_code == 200, r.text
    other_store = open_store(f"sqlite:///{tmp_path}/api.db")
    other = TestClient(create_app(store=other_store, config=config()))
    clients = [api.client, other]
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    # When 8 requests, 4 on each server, add 5 new variants each at once
    def post(i: int) -> None:
        barrier.wait()
        names = [f"t{i}-{j}" for j in range(5)]
        statuses.append(clients[i % 2].post("/events", json=events("race", names)).status_code)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other_store.close()
    # Then exactly two fit; the others are refused and stored nothing
    assert sorted(statuses) == [200] * 2 + [422] * 6
    names = {r.variant_name for r in api.store.read_daily("race")}
    assert len(names) == models.MAX_VARIANTS
    got = api.client.get("/experiments/race").json()
    assert {v["name"] for v in got["variants"]} == names
