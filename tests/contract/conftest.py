"""One store fixture, parametrised over every backend; each test gets a fresh, empty store."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest
from banditkit.store import Store
from banditkit.store.sqlite import SQLiteStore

if TYPE_CHECKING:
    from banditkit.store.dynamodb import DynamoDBStore

BACKENDS = ["sqlite", "postgres", "dynamodb"]


def pg_url() -> str:
    """The test server's URL; the postgres cases fail in CI without one and skip elsewhere."""
    url = os.environ.get("BANDIT_TEST_PG_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("BANDIT_TEST_PG_URL is not set: run under scripts/with_postgres.sh")
        pytest.skip("BANDIT_TEST_PG_URL is not set (make test starts a server)")
    return url


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "bandit.db", busy_timeout=5.0)
    yield store
    store.close()


@pytest.fixture
def postgres_store() -> Iterator[Store]:
    from banditkit.store.postgres import PostgresStore

    url = pg_url()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    store = PostgresStore(url, schema=schema, pool_max=8)
    yield store
    store.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def dynamodb_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    from moto import mock_aws

    serialise_moto(monkeypatch)
    copy_tables_once_per_transaction(monkeypatch)
    with mock_aws():
        # small Query pages, so every read exercises LastEvaluatedKey pagination
        store = dynamodb_store_in_moto(page_size=4)
        yield store
        store.close()


def serialise_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's in-memory backend is not thread-safe (its dicts change under concurrent
    requests). DynamoDB applies each request atomically, so make moto process one request
    at a time: a read-modify-write in our code would still lose updates, ADD will not."""
    from moto.core.models import botocore_stubber

    process = botocore_stubber.process_request
    lock = threading.Lock()

    def one_at_a_time(request: Any) -> Any:
        with lock:
            return process(request)

    monkeypatch.setattr(botocore_stubber, "process_request", one_at_a_time)


def copy_tables_once_per_transaction(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto 5 backs up a whole table once per ITEM of a TransactWriteItems (all before
    the first write), so a 1,000-row import costs rows x table size deep copies. Copy each
    table once per transaction instead: the same rollback state, minutes saved."""
    import copy

    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    real = models.DynamoDBBackend.transact_write_items

    def transact_write_items(backend: Any, transact_items: Any) -> Any:
        copies: dict[int, Table] = {}

        def deepcopy(obj: Any, memo: Any = None) -> Any:
            if isinstance(obj, Table):
                if id(obj) not in copies:
                    copies[id(obj)] = copy.deepcopy(obj)
                return copies[id(obj)]
            return copy.deepcopy(obj, memo)

        shim = type("CopyOncePerTable", (), {"deepcopy": staticmethod(deepcopy)})
        monkeypatch.setattr(models, "copy", shim)  # requests are serialised (serialise_moto)
        try:
            return real(backend, transact_items)
        finally:
            monkeypatch.setattr(models, "copy", copy)

    monkeypatch.setattr(models.DynamoDBBackend, "transact_write_items", transact_write_items)


def dynamodb_store_in_moto(config: Any = None, **kwargs: Any) -> DynamoDBStore:
    """A DynamoDBStore on fresh moto tables built from banditkit.store.dynamodb_tables;
    `config` is the botocore client's, `kwargs` the store's."""
    import boto3
    from banditkit.store import dynamodb_tables
    from banditkit.store.dynamodb import DynamoDBStore

    client = boto3.client("dynamodb", region_name="us-east-1", config=config)
    names = {"table": "bandit", "idempotency_table": "bandit-idempotency"}
    for spec in dynamodb_tables.create_table_kwargs(**names):
        client.create_table(**spec)
    client.update_time_to_live(**dynamodb_tables.update_ttl_kwargs(names["idempotency_table"]))
    return DynamoDBStore(
        names["table"], idempotency_table=names["idempotency_table"], client=client, **kwargs
    )


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest) -> Store:
    backend: Store = request.getfixturevalue(f"{request.param}_store")
    return backend
