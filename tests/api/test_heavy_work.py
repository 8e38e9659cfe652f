"""Heavy work is bounded: the report of unchanged data is not computed again, and at most
CPU_SLOTS engine computations run at once however many requests ask."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from banditkit import engine, models, service
from banditkit.service import engine_runs
from banditkit.service.cpu import CPU_SLOTS
from banditkit.service.errors import PayloadTooLarge
from banditkit.service.ingest import MAX_IMPORT_ROWS
from banditkit.store.sqlite import SQLiteStore


def make(store: SQLiteStore, experiment_id: str, clicks: int = 30) -> None:
    service.create_experiment(
        store, models.ExperimentCreate.model_validate({"id": experiment_id, "name": "x"})
    )
    post(store, experiment_id, clicks)


def post(store: SQLiteStore, experiment_id: str, clicks: int) -> None:
    body = models.EventsIn.model_validate(
        {
            "experiment_id": experiment_id,
            "date": "2026-01-01",
            "variants": [
                {"variant_name": "control", "impressions": 1000, "clicks": 30},
                {"variant_name": "b", "impressions": 1000, "clicks": clicks},
            ],
        }
    )
    service.ingest_events(store, body)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteStore]:
    backend = SQLiteStore(tmp_path / "h.db")
    yield backend
    backend.close()


def test_the_report_of_unchanged_data_is_computed_once(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    make(store, "e1")
    calls: list[int] = []
    real = engine.report

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "report", counted)
    first = service.report(store, "e1")
    again = service.report(store, "e1")
    assert len(calls) == 1
    assert again.model_dump(exclude={"computed_at"}) == first.model_dump(exclude={"computed_at"})
    # new data is a new report
    post(store, "e1", 45)
    assert service.report(store, "e1").lifts != first.lifts
    assert len(calls) == 2


def test_at_most_cpu_slots_reports_compute_at_once(
    store: SQLiteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = CPU_SLOTS + 4
    for i in range(n):
        make(store, f"e{i}", clicks=30 + i)
    active, most = 0, 0
    lock, release = threading.Lock(), threading.Event()
    real = engine.report

    def held(*args: Any, **kwargs: Any) -> Any:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        release.wait(10)
        with lock:
            active -= 1
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "report", held)
    engine_runs._REPORTS.clear()
    threads = [threading.Thread(target=service.report, args=(store, f"e{i}")) for i in range(n)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while active < CPU_SLOTS and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # room for a third to enter, if the slots did not hold
    assert (active, most) == (CPU_SLOTS, CPU_SLOTS)
    release.set()
    for t in threads:
        t.join()
    assert most == CPU_SLOTS


def test_an_import_past_the_row_cap_is_refused_before_it_is_parsed_whole(
    store: SQLiteStore,
) -> None:
    service.create_experiment(
        store, models.ExperimentCreate.model_validate({"id": "big", "name": "x"})
    )
    lines = ["date,variant_name,impressions,clicks"]
    lines += [f"2020-01-01,v{i},10,1" for i in range(MAX_IMPORT_ROWS + 1)]
    with pytest.raises(PayloadTooLarge) as caught:
        service.import_csv(store, "big", "\n".join(lines).encode())
    assert f"{MAX_IMPORT_ROWS:,}" in str(caught.value)
    assert store.read_daily("big") == []


def test_a_file_of_several_experiments_past_the_row_cap_is_refused_whole(
    store: SQLiteStore,
) -> None:
    make(store, "a")
    lines = ["experiment_id,date,variant_name,impressions,clicks"]
    lines += [f"a,2020-01-01,v{i},10,1" for i in range(MAX_IMPORT_ROWS + 1)]
    with pytest.raises(PayloadTooLarge) as caught:
        service.import_file(store, "\n".join(lines).encode())
    assert f"{MAX_IMPORT_ROWS:,}" in str(caught.value)
    assert {r.variant_name for r in store.read_daily("a")} == {"control", "b"}


def test_a_file_of_several_experiments_reads_the_templates_formula_escape_back(
    store: SQLiteStore,
) -> None:
    # the dashboard's template writes a name starting with = as '=...; both imports read it
    service.create_experiment(
        store, models.ExperimentCreate.model_validate({"id": "f", "name": "x"})
    )
    data = "experiment_id,date,variant_name,impressions,clicks\nf,2020-01-01,'=plus,10,1\n"
    service.import_file(store, data.encode())
    assert [r.variant_name for r in store.read_daily("f")] == ["=plus"]
