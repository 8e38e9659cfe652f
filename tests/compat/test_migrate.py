"""`banditkit migrate` round-trips generated original databases (SQLite and PostgreSQL
sources, into SQLite, moto DynamoDB and PostgreSQL stores): ids as strings, duplicates
resolved and reported, invalid rows reported and skipped, allocations as history, dry run
first, idempotent."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from banditkit.config import AppConfig
from banditkit.http.app import create_app
from banditkit.migrate import Counts, migrate, read_source
from banditkit.store import DailyRow, Store, open_store
from fastapi.testclient import TestClient

from .original import postgres_database, sqlite_database

D = dt.date.fromisoformat
EXPECTED_ROWS = {
    "1": [
        DailyRow(D("2025-01-01"), "control", 1000, 30, 2),
        DailyRow(D("2025-01-01"), "variant_b", 1000, 40, 3),
        DailyRow(D("2025-01-02"), "control", 1000, 35, 1),  # the last updated of three
        DailyRow(D("2025-01-02"), "variant_b", 1000, 45, 0),
    ],
    "2": [
        DailyRow(D("2025-01-01"), "control", 500, 10, 0),
        DailyRow(D("2025-01-01"), "treatment", 500, 12, 0),
    ],
}


def pg_url() -> str:
    url = os.environ.get("BANDIT_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("BANDIT_TEST_PG_URL is not set: run under scripts/with_postgres.sh")
        pytest.skip("BANDIT_TEST_PG_URL is not set (make test starts a server)")
    return url


@pytest.fixture
def sqlite_source(tmp_path: Path) -> str:
    return str(sqlite_database(tmp_path / "original.db"))


@pytest.fixture
def postgres_source() -> Iterator[str]:
    url = pg_url()
    schema = f"original_{uuid.uuid4().hex[:10]}"
    yield postgres_database(url, schema)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def dynamodb_in_moto() -> Store:
    import boto3
    from banditkit.store import dynamodb_tables
    from banditkit.store.dynamodb import DynamoDBStore

    client = boto3.client("dynamodb", region_name="us-east-1")
    names = {"table": "bandit", "idempotency_table": "bandit-idempotency"}
    for spec in dynamodb_tables.create_table_kwargs(**names):
        client.create_table(**spec)
    return DynamoDBStore(
        names["table"], idempotency_table=names["idempotency_table"], client=client
    )


@pytest.fixture(params=["sqlite", "dynamodb", pytest.param("postgres", marks=pytest.mark.postgres)])
def target(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Store]:
    if request.param == "sqlite":
        store = open_store(f"sqlite:///{tmp_path}/target.db")
        yield store
        store.close()
        return
    if request.param == "dynamodb":
        from moto import mock_aws

        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.setenv(name, "testing")
        with mock_aws():
            dynamo = dynamodb_in_moto()
            yield dynamo
            dynamo.close()
        return
    from banditkit.store.postgres import PostgresStore

    url = pg_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    pg = PostgresStore(url, schema=schema, pool_max=4)
    yield pg
    pg.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def check_round_trip(source_url: str, store: Store) -> None:
    source = read_source(source_url)
    # Given a dry run: the plan, and nothing written
    dry = migrate(source, store)
    assert dry.applied is False
    assert dry.experiments == Counts(read=4, invalid=2, to_write=2)
    assert dry.daily_rows == Counts(read=14, duplicates=3, invalid=4, skipped=1, to_write=6)
    assert dry.allocations == Counts(read=5, invalid=2, skipped=1, to_write=2)
    assert store.list_experiments().items == []
    assert sorted(dry.duplicates) == [
        "experiment 1 2025-01-02 'control': 3 rows, kept id=4 (last updated), dropped id=3, 5",
        "experiment 2 2025-01-02 'control': 2 rows, kept id=12 (last updated), dropped id=11",
    ]
    problems = "\n".join(dry.problems)
    for expected in (
        "experiments id=3: name: ",
        "experiments id=4: status: 'draft'",
        "daily_metrics id=7 (experiment 1, 2025-01-03, 'control'): clicks: "
        "clicks (150) can't exceed impressions (100) for control",
        "daily_metrics id=8 (experiment 1, 2025-01-03, 'variant_b'): impressions: ",
        "daily_metrics id=12 (experiment 2, 2025-01-02, 'control'): clicks: "
        "clicks (600) can't exceed impressions (500) for control",
        "daily_metrics id=14: experiment_id: no experiment 99",
        "allocations id=3 (experiment 1): allocations: not an object",
        "allocations id=4 (experiment 2): allocations: shares sum to 1.200000, not 1",
    ):
        assert expected in problems, expected
    assert len(dry.problems) == 8
    # When applied
    applied = migrate(source, store, apply=True)
    assert applied.daily_rows == dry.daily_rows
    # Then the store holds the experiments under string ids, the resolved rows, the history
    exps = {e.id: e for e in store.list_experiments().items}
    assert sorted(exps) == ["1", "2"]
    assert (exps["1"].name, exps["1"].description, exps["1"].status) == (
        "Homepage CTA",
        "the button",
        "running",
    )
    assert (exps["2"].status, exps["2"].description) == ("paused", "")
    assert [v.name for v in exps["1"].variants] == ["control", "variant_b"]
    assert exps["1"].created_at == dt.datetime(2025, 1, 1, 8, tzinfo=dt.UTC)
    for exp_id, rows in EXPECTED_ROWS.items():
        assert store.read_daily(exp_id) == rows
    snaps = store.list_snapshots("1").items
    assert [(s.computed_at.date().isoformat(), s.allocations) for s in snaps] == [
        ("2025-01-03", {"control": 0.3, "variant_b": 0.7}),
        ("2025-01-02", {"control": 0.5, "variant_b": 0.5}),
    ]
    assert store.list_snapshots("2").items == []
    # And a second run writes nothing
    again = migrate(source, store, apply=True)
    assert again.experiments == Counts(read=4, invalid=2, already=2)
    assert again.daily_rows == Counts(read=14, duplicates=3, invalid=4, skipped=1, already=6)
    assert again.allocations == Counts(read=5, invalid=2, skipped=1, already=2)
    assert len(store.list_snapshots("1").items) == 2
    for exp_id, rows in EXPECTED_ROWS.items():
        assert store.read_daily(exp_id) == rows


def test_a_sqlite_original_round_trips(sqlite_source: str, target: Store) -> None:
    check_round_trip(sqlite_source, target)


@pytest.mark.postgres
def test_a_postgres_original_round_trips(postgres_source: str, target: Store) -> None:
    check_round_trip(postgres_source, target)


def test_the_migrated_data_answers_the_original_clients(sqlite_source: str, tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path}/served.db")
    migrate(read_source(sqlite_source), store, apply=True)
    app = create_app(store=store, config=AppConfig(store_url="sqlite:///unused.db", api_keys=""))
    client = TestClient(app)
    data = client.get("/allocation", params={"experiment_id": 1, "window_days": 7}).json()
    assert data["summary"]["total_impressions"] == 4000
    assert [h["date"] for h in data["history"][1:]] == ["2025-01-03", "2025-01-02"]
    history = client.get("/experiments/1/history", params={"end_date": "2025-01-02"}).json()
    assert [h["allocations"] for h in history["history"]] == [{"control": 0.5, "variant_b": 0.5}]
    store.close()


def test_a_large_database_shows_a_progress_bar(tmp_path: Path) -> None:
    source = read_source(str(sqlite_database(tmp_path / "big.db", extra_daily=12_000)))
    store = open_store(f"sqlite:///{tmp_path}/big-target.db")
    bar = io.StringIO()
    report = migrate(source, store, apply=True, progress=bar)
    assert report.daily_rows.to_write == 12_006
    assert len(store.read_daily("1")) == 12_004
    shown = bar.getvalue()
    assert shown.endswith("] 100% 12006/12006 rows\n")
    assert "\r[" in shown
    quiet = io.StringIO()
    migrate(read_source(str(sqlite_database(tmp_path / "small.db"))), store, progress=quiet)
    assert quiet.getvalue() == ""  # small databases finish before a bar helps
    store.close()


def test_the_command_dry_runs_then_applies(sqlite_source: str, tmp_path: Path) -> None:
    banditkit = Path(sys.executable).with_name("banditkit")
    store_url = f"sqlite:///{tmp_path}/cli.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDIT_")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(banditkit), "migrate", sqlite_source, "--store", store_url, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    dry = run()
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert lines[0].split() == [
        "read",
        "duplicates",
        "invalid",
        "skipped",
        "to",
        "write",
        "already",
        "there",
    ]
    assert lines[2].split() == ["experiments", "4", "0", "2", "0", "2", "0"]
    assert lines[3].split() == ["daily", "rows", "14", "3", "4", "1", "6", "0"]
    assert lines[4].split() == ["allocations", "5", "0", "2", "1", "2", "0"]
    assert "Dry run: nothing was written" in dry.stdout
    applied = json.loads(run("--apply", "--json").stdout)
    assert applied["applied"] is True
    assert applied["daily_rows"]["to_write"] == 6
    again = json.loads(run("--apply", "--json").stdout)
    assert again["daily_rows"]["to_write"] == 0
    assert again["daily_rows"]["already"] == 6
    missing = subprocess.run(
        [str(banditkit), "migrate", str(tmp_path / "absent.db"), "--store", store_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 2
    assert "cannot read" in missing.stderr


def test_one_day_spelt_two_ways_is_one_duplicate_group(tmp_path: Path) -> None:
    import sqlite3

    path = sqlite_database(tmp_path / "spelt.db")
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO daily_metrics (id, experiment_id, variant_name, date, impressions, "
            "clicks, conversions, updated_at) VALUES (?, 1, 'control', ?, ?, 1, 0, ?)",
            [
                (200, "2025-01-05", 10, "2025-01-05 10:00:00"),
                (201, "2025-01-05 00:00:00", 20, "2025-01-05 11:00:00"),
                (202, "not a date", 20, "2025-01-05 11:00:00"),
            ],
        )
    conn.close()
    store = open_store(f"sqlite:///{tmp_path}/spelt-target.db")
    report = migrate(read_source(str(path)), store, apply=True)
    assert report.daily_rows.duplicates == 4
    assert any("id=202" in p and "date" in p for p in report.problems)
    assert [r.impressions for r in store.read_daily("1") if r.date == D("2025-01-05")] == [20]
    store.close()
