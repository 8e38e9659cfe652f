"""Store throughput per backend, and DynamoDB calls per ingest and per allocation read.

    scripts/with_postgres.sh .venv/bin/python bench/store.py [--batches 200] [--reads 100]

Ingest = one POST /events worth of work: a 5-variant batch for one day, `set` or
`increment` (the latter with an idempotency record). Read = what an allocation needs:
the experiment plus 30 days x 5 variants; on DynamoDB also what GET /allocation calls, with
new data and again with the same data. Import = a CSV import's store write: 30 days x
5 variants = 150 rows in `set` mode (on DynamoDB two transactions: 99 + 51 rows). SQLite
on a temporary file is the baseline;
PostgreSQL runs against BANDIT_TEST_PG_URL (skipped when unset); DynamoDB under moto
(in-process, so its figures measure moto, not the service: the call counts are the point).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from banditkit import service
from banditkit.store import DailyRow, Experiment, IdempotencyRecord, Store

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
D0 = dt.date(2026, 1, 1)
VARIANTS = [f"variant_{i}" for i in range(5)]
DAYS = 30


@contextmanager
def sqlite_store() -> Iterator[Store]:
    from banditkit.store.sqlite import SQLiteStore

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(f"{tmp}/bench.db")
        yield store
        store.close()


@contextmanager
def postgres_store(url: str) -> Iterator[Store]:
    import psycopg
    from banditkit.store.postgres import PostgresStore

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    store = PostgresStore(url, schema=schema)
    try:
        yield store
    finally:
        store.close()
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@contextmanager
def dynamodb_store(calls: Counter[str]) -> Iterator[Store]:
    import boto3
    from banditkit.store import dynamodb_tables
    from banditkit.store.dynamodb import DynamoDBStore, client_config
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1", config=client_config())
        for spec in dynamodb_tables.create_table_kwargs("bench", "bench-idem"):
            client.create_table(**spec)

        def on_call(model: Any, **_: Any) -> None:
            calls[model.name] += 1

        client.meta.events.register("before-call.dynamodb", on_call)
        yield DynamoDBStore("bench", idempotency_table="bench-idem", client=client)


def batch(day: int, size: int = 1) -> list[DailyRow]:
    return [
        DailyRow(D0 + dt.timedelta(days=day % DAYS), v, 1000 * size, 40 * size, 4 * size)
        for v in VARIANTS
    ]


def import_rows(days: int = DAYS, start: int = 0) -> list[DailyRow]:
    return [
        DailyRow(D0 + dt.timedelta(days=start + d), v, 1000 + d, 40, 4)
        for d in range(days)
        for v in VARIANTS
    ]


def rate(n: int, work: Callable[[int], object]) -> float:
    started = time.perf_counter()
    for i in range(n):
        work(i)
    return n / (time.perf_counter() - started)


def measure(store: Store, batches: int, reads: int, imports: int) -> dict[str, float]:
    exp = f"bench-{uuid.uuid4().hex[:8]}"
    store.ping()  # connect, migrate: not part of the figures
    store.create_experiment(Experiment(exp, "bench", "", "running", (), False, {}, T0, T0))
    out = {
        "set": rate(batches, lambda i: store.write_daily(exp, batch(i), "set")),
        "increment": rate(
            batches,
            lambda i: store.write_daily(
                exp, batch(i), "increment", IdempotencyRecord(f"k{i}", "h", {"i": i})
            ),
        ),
    }

    def read(_: int) -> None:
        store.get_experiment(exp)
        assert len(store.read_daily(exp)) == DAYS * len(VARIANTS)

    out["read"] = rate(reads, read)
    rows = import_rows()
    out["import"] = rate(imports, lambda _: store.write_daily(exp, rows, "set"))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--reads", type=int, default=100)
    parser.add_argument("--imports", type=int, default=20)
    args = parser.parse_args()

    results: dict[str, dict[str, float]] = {}
    with sqlite_store() as store:
        results["sqlite"] = measure(store, args.batches, args.reads, args.imports)
    url = os.environ.get("BANDIT_TEST_PG_URL")
    if url:
        with postgres_store(url) as store:
            results["postgres"] = measure(store, args.batches, args.reads, args.imports)
    else:
        print("postgres: skipped (BANDIT_TEST_PG_URL unset; run under scripts/with_postgres.sh)")
    calls: Counter[str] = Counter()
    with dynamodb_store(calls) as store:
        results["dynamodb (moto)"] = measure(
            store, max(30, args.batches // 4), args.reads // 4, max(3, args.imports // 4)
        )
        # calls per operation, counted with a botocore event hook
        exp = "calls"
        store.create_experiment(Experiment(exp, "c", "", "running", (), False, {}, T0, T0))
        for day in range(DAYS):
            store.write_daily(exp, batch(day), "increment", IdempotencyRecord(f"c{day}", "h"))
        calls.clear()
        store.write_daily(exp, batch(0), "increment", IdempotencyRecord("one", "h"))
        per_ingest = dict(calls)
        calls.clear()
        store.get_experiment(exp)
        store.read_daily(exp)
        per_read = dict(calls)
        # GET /allocation through the service: new data, then the same data again
        calls.clear()
        service.allocate(store, exp)
        per_allocation = dict(calls)
        calls.clear()
        service.allocate(store, exp)
        per_repeat = dict(calls)
        # CSV imports: 150 rows set (no key); 300 rows increment with a key, then its replay
        calls.clear()
        store.write_daily(exp, import_rows(), "set")
        per_import = dict(calls)
        calls.clear()
        big, key = import_rows(60, start=100), IdempotencyRecord("imp", "h", {"n": 300})
        store.write_daily(exp, big, "increment", key)
        per_keyed = dict(calls)
        calls.clear()
        replay = store.write_daily(exp, big, "increment", key)
        per_replay = dict(calls)
        assert replay == {"n": 300}

    base = results["sqlite"]
    print(
        f"\nstore throughput, single thread ({len(VARIANTS)}-variant batches; read = {DAYS} days)"
    )
    header = [
        "backend",
        "ingest set/s",
        "ingest incr/s",
        "read/s",
        "import 150 rows/s",
        "x sqlite (set/incr/read/import)",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for name, r in results.items():
        ratios = "/".join(f"{r[k] / base[k]:.3g}" for k in ("set", "increment", "read", "import"))
        print(
            f"| {name} | {r['set']:.0f} | {r['increment']:.0f} | {r['read']:.0f} "
            f"| {r['import']:.1f} | {ratios} |"
        )
    print("(dynamodb runs in-process under moto: its rates measure moto, not DynamoDB)")
    print(
        "\nDynamoDB calls (target: one transaction per ingest and per import part of "
        "<= 99 rows, 98 with a key; one paginated Query per read)"
    )
    print("| operation | calls |")
    print("|---|---|")
    print(f"| ingest (5 variants, increment + idempotency key) | {per_ingest} |")
    print(f"| allocation read (experiment + {DAYS} days x 5 variants) | {per_read} |")
    print(f"| GET /allocation after new data (reads, snapshot written) | {per_allocation} |")
    print(f"| GET /allocation again, data unchanged (service read cache) | {per_repeat} |")
    print(f"| CSV import, 150 rows, set, no key | {per_import} |")
    print(f"| CSV import, 300 rows, increment + idempotency key | {per_keyed} |")
    print(f"| the same import retried (a replay: its last part is stored) | {per_replay} |")
    ok = (
        per_ingest == {"TransactWriteItems": 1}
        and per_read.get("Query") == 1
        and per_repeat == {"GetItem": 1}
        and per_import == {"TransactWriteItems": 2}
        and per_keyed == {"GetItem": 1, "TransactWriteItems": 4}
        and per_replay == {"GetItem": 1}
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
