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


def test_a_migration_numbered_below_the_applied_ones_still_runs(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database with every migration of this version applied
    first = PostgresStore(pg_url(), schema=schema, pool_max=1)
    first.ping()
    first.close()
    # When a release brings one numbered below the latest applied (two branches merged)
    late = (max(v for v, _ in MIGRATIONS) - 1, "CREATE TABLE merged_late (x integer)")
    assert late[0] not in {v for v, _ in MIGRATIONS}
    monkeypatch.setattr("banditkit.store.postgres.MIGRATIONS", tuple(sorted([*MIGRATIONS, late])))
    again = PostgresStore(pg_url(), schema=schema, pool_max=1)
    again.ping()
    again.close()
    # Then it is applied too, once
    with psycopg.connect(pg_url()) as conn:
        rows = conn.execute(f"SELECT version FROM {schema}.banditkit_migrations").fetchall()
        conn.execute(f"SELECT x FROM {schema}.merged_late")
    assert sorted(r[0] for r in rows) == sorted([*(v for v, _ in MIGRATIONS), late[0]])
