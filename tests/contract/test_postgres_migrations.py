"""PostgreSQL: migrations are versioned and concurrent starters apply each one once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from banditkit.store.postgres import MIGRATIONS, PostgresStore

from .conftest import pg_url


@pytest.fixture
def schema() -> Iterator[str]:
    name = f"m_{uuid.uuid4().hex[:12]}"
    yield name
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")


def test_concurrent_starters_migrate_once(schema: str) -> None:
    url = pg_url()
    stores = [PostgresStore(url, schema=schema, pool_max=2) for _ in range(6)]
    barrier = threading.Barrier(len(stores))
    errors: list[BaseException] = []

    def start(store: PostgresStore) -> None:
        try:
            barrier.wait()
            store.ping()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert errors == []
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"SELECT version FROM {schema}.banditkit_migrations").fetchall()
    assert [r[0] for r in rows] == [v for v, _ in MIGRATIONS]


def test_url_options_and_lazy_pool(schema: str) -> None:
    store = PostgresStore(f"{pg_url()}?pool_max=3&schema={schema}")
    assert store.schema == schema
    assert store._pool is None  # nothing connects before the first call
    store.ping()
    assert store._pool is not None
    store.close()
    with pytest.raises(ValueError, match="identifier"):
        PostgresStore(pg_url(), schema="Robert'); DROP TABLE x;--")


def test_migration_5_fills_search_text_and_leader_of_stored_experiments(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from banditkit.store import Leader, postgres

    # Given a database at version 4 with an experiment and two snapshots
    monkeypatch.setattr(postgres, "MIGRATIONS", MIGRATIONS[:4])
    old = PostgresStore(pg_url(), schema=schema)
    old.ping()
    old.close()
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        conn.execute(f"SET search_path = {schema}")
        conn.execute(
            "INSERT INTO experiments (id, name, description, status, variants, "
            "variants_declared, settings, created_at, updated_at, version) VALUES "
            "('exp-1', 'Straße Hero', '', 'running', '[]', false, '{}', now(), now(), 1)"
        )
        for minute, best in ((0, '{"a": 0.9, "b": 0.1}'), (5, '{"a": 0.3, "b": 0.7}')):
            conn.execute(
                "INSERT INTO snapshots (experiment_id, computed_at, trigger, allocations, "
                "p_best, totals, data_fingerprint, status) VALUES ('exp-1', "
                "'2026-01-01T00:00:00Z'::timestamptz + %s * interval '1 minute', 'api', '{}', "
                '%s, \'{"a": {"impressions": 5}, "b": {"impressions": 5}}\', %s, \'x\')',
                (minute, best, f"f{minute}"),
            )
    # When a release with migration 5 starts
    monkeypatch.setattr(postgres, "MIGRATIONS", MIGRATIONS)
    store = PostgresStore(pg_url(), schema=schema)
    # Then the experiment is found by a search and names its newest snapshot's leader
    found = store.list_experiments(query="STRASSE").items
    store.close()
    assert [(e.id, e.leader, e.shipped_variant) for e in found] == [
        ("exp-1", Leader("b", 0.7), None)
    ]


def test_a_migration_numbered_below_the_applied_ones_still_runs(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database with every migration but 5 applied (two branches took 5 and 6)
    without_5 = tuple(m for m in MIGRATIONS if m[0] != 5)
    monkeypatch.setattr("banditkit.store.postgres.MIGRATIONS", without_5)
    first = PostgresStore(pg_url(), schema=schema, pool_max=1)
    first.ping()
    first.close()
    # When the merged release brings 5, numbered below the latest applied
    monkeypatch.setattr("banditkit.store.postgres.MIGRATIONS", MIGRATIONS)
    again = PostgresStore(pg_url(), schema=schema, pool_max=1)
    again.ping()
    again.close()
    # Then it is applied too, once, and its columns exist
    with psycopg.connect(pg_url()) as conn:
        rows = conn.execute(f"SELECT version FROM {schema}.banditkit_migrations").fetchall()
        conn.execute(f"SELECT shipped_variant, changes FROM {schema}.experiments")
    assert sorted(r[0] for r in rows) == sorted(v for v, _ in MIGRATIONS)
