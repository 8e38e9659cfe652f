"""DynamoDB specifics: our own limit checks, calls per operation, table definitions, URL."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from banditkit.store import (
    Conflict,
    DailyRow,
    Experiment,
    IdempotencyKeyRequired,
    IdempotencyRecord,
    Snapshot,
    StoreLimitExceeded,
    open_store,
)
from banditkit.store import dynamodb_tables as tables
from banditkit.store.dynamodb import DynamoDBStore, split_writes
from moto import mock_aws

from .conftest import dynamodb_store_in_moto

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
D1 = dt.date(2026, 1, 1)


@pytest.fixture
def store() -> Iterator[DynamoDBStore]:
    with mock_aws():
        made = dynamodb_store_in_moto()
        assert isinstance(made, DynamoDBStore)
        made.create_experiment(Experiment("e", "E", "", "running", (), False, {}, T0, T0))
        yield made


def count_calls(store: DynamoDBStore) -> Counter[str]:
    """Every API call the store's client makes, counted by a botocore event hook."""
    calls: Counter[str] = Counter()

    def on_call(model: Any, **_: Any) -> None:
        calls[model.name] += 1

    store.client.meta.events.register("before-call.dynamodb", on_call)
    return calls


def rows(n: int) -> list[DailyRow]:
    return [DailyRow(D1, f"v{i:03d}", 10, 1) for i in range(n)]


@pytest.mark.parametrize(
    ("n", "mode", "keyed", "transactions"),
    [
        (99, "set", False, 1),  # 1 existence check + 99 rows = 100 items
        (100, "set", False, 2),
        (98, "increment", True, 1),  # 1 check + 98 rows + the idempotency record = 100
        (99, "increment", True, 2),
        (150, "set", True, 2),
    ],
)
def test_a_batch_is_split_at_the_transaction_item_limit(
    store: DynamoDBStore, n: int, mode: str, keyed: bool, transactions: int
) -> None:
    calls = count_calls(store)
    record = IdempotencyRecord("k", "h", {"n": n}) if keyed else None
    assert store.write_daily("e", rows(n), mode, record) is None  # type: ignore[arg-type]
    # the experiment's variants are read once (new names go on META with part 0), and a
    # keyed batch of several parts first looks for its last part's record
    looked = 1 + (1 if keyed and transactions > 1 else 0)
    assert calls == Counter({"TransactWriteItems": transactions, "GetItem": looked})
    assert len(store.read_daily("e")) == n
    keys = store.client.scan(TableName=store.idempotency_table)["Items"]
    expected = ["KEY#k"] + [f"KEY#k #{i}" for i in range(1, transactions)] if keyed else []
    assert sorted(k[tables.SK]["S"] for k in keys) == sorted(expected)
    if keyed:
        # a replay: the last part's record answers (one read); nothing is written
        calls.clear()
        assert store.write_daily("e", rows(n), mode, record) == {"n": n}  # type: ignore[arg-type]
        # (one part: META's variants, the refused transaction, then the first answer)
        replay = {"GetItem": 1} if transactions > 1 else {"TransactWriteItems": 1, "GetItem": 2}
        assert calls == Counter(replay)


def test_split_respects_the_item_and_byte_limits() -> None:
    def put(sk: str, blob: int) -> dict[str, Any]:
        item = {tables.PK: {"S": "EXP#e"}, tables.SK: {"S": sk}, "blob": {"S": "y" * blob}}
        return {"Put": {"Item": item}}

    small = [put(f"DAY#{i}", 10) for i in range(200)]
    assert [len(p) for p in split_writes(small, reserved=2)] == [98, 98, 4]
    assert [len(p) for p in split_writes(small, reserved=1)] == [99, 99, 2]
    # 300 KB items: 4 MB less 400 KB for each reserved entry holds 11 of them
    big = [put(f"DAY#{i}", 300_000) for i in range(25)]
    parts = split_writes(big, reserved=2)
    assert [len(p) for p in parts] == [11, 11, 3]
    assert [p[0] for p in parts] == [big[0], big[11], big[22]]  # consecutive, in order
    assert split_writes([], reserved=1) == [[]]


def test_a_bad_item_in_a_later_part_stores_nothing(store: DynamoDBStore) -> None:
    batch = [*rows(150), DailyRow(D1, "v" * 1100, 1, 0)]
    calls = count_calls(store)
    with pytest.raises(StoreLimitExceeded):
        store.write_daily("e", batch, "increment", IdempotencyRecord("k", "h"))
    assert calls["TransactWriteItems"] == 0
    assert store.read_daily("e") == []


def test_increment_beyond_one_transaction_needs_a_key(store: DynamoDBStore) -> None:
    calls = count_calls(store)
    with pytest.raises(IdempotencyKeyRequired) as caught:
        store.write_daily("e", rows(100), "increment")
    assert isinstance(caught.value, StoreLimitExceeded)
    assert "Idempotency-Key" in str(caught.value)
    assert calls["TransactWriteItems"] == 0
    assert store.read_daily("e") == []
    assert store.write_daily("e", rows(99), "increment") is None  # one transaction: fine


def test_item_size_limit_is_ours(store: DynamoDBStore) -> None:
    big = "x" * (400 * 1024)
    with pytest.raises(StoreLimitExceeded):
        store.create_experiment(Experiment("big", big, "", "running", (), False, {}, T0, T0))
    snap = Snapshot("e", T0, "api", {f"v{i}": 0.1 for i in range(50_000)}, {}, {}, "f")
    with pytest.raises(StoreLimitExceeded):
        store.write_snapshot(snap)
    assert store.list_snapshots("e").items == []
    assert [e.id for e in store.list_experiments().items] == ["e"]


def test_key_size_limits_are_ours(store: DynamoDBStore) -> None:
    with pytest.raises(StoreLimitExceeded):
        store.write_daily("e", rows(1), "increment", IdempotencyRecord("k" * 1100, "h"))
    with pytest.raises(StoreLimitExceeded):
        store.write_daily("e", [DailyRow(D1, "v" * 1100, 1, 0)], "set")
    assert store.read_daily("e") == []


def test_one_read_and_one_transaction_per_ingest_and_one_query_per_read(
    store: DynamoDBStore,
) -> None:
    calls = count_calls(store)
    days = [D1 + dt.timedelta(days=d) for d in range(30)]
    for day in days:
        store.write_daily(
            "e",
            [DailyRow(day, f"v{v}", 1000, 50) for v in range(5)],
            "increment",
            IdempotencyRecord(f"k{day}", "h"),
        )
    assert calls == Counter({"TransactWriteItems": 30, "GetItem": 30})
    calls.clear()
    assert len(store.read_daily("e")) == 150
    assert calls == Counter({"Query": 1})


def test_reads_follow_pagination(store: DynamoDBStore) -> None:
    store.write_daily("e", rows(30), "set")
    store.page_size = 7
    calls = count_calls(store)
    got = store.read_daily("e")
    assert [r.variant_name for r in got] == [f"v{i:03d}" for i in range(30)]
    assert calls["Query"] == 5  # 7 + 7 + 7 + 7 + 2
    calls.clear()
    store.delete_experiment("e")
    # the sweep: one transaction per 99 keys, each checking META is still a tombstone
    assert calls["TransactWriteItems"] == 1
    assert store.read_daily("e") == []


def test_table_definitions_are_one_source() -> None:
    kwargs = tables.create_table_kwargs("main", "idem")
    properties = tables.cloudformation_properties()
    assert [k["TableName"] for k in kwargs] == ["main", "idem"]
    for made, resource in zip(kwargs, properties.values(), strict=True):
        for field in ("AttributeDefinitions", "KeySchema", "BillingMode"):
            assert made[field] == resource[field]
    assert kwargs[0]["GlobalSecondaryIndexes"] == properties["table"]["GlobalSecondaryIndexes"]
    assert properties["idempotency_table"]["TimeToLiveSpecification"] == {
        "AttributeName": tables.TTL_ATTRIBUTE,
        "Enabled": True,
    }
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        for spec in kwargs:
            client.create_table(**spec)
        client.update_time_to_live(**tables.update_ttl_kwargs("idem"))
        described = client.describe_table(TableName="main")["Table"]
        assert described["GlobalSecondaryIndexes"][0]["IndexName"] == tables.STATUS_INDEX
        ttl = client.describe_time_to_live(TableName="idem")["TimeToLiveDescription"]
        assert ttl["AttributeName"] == tables.TTL_ATTRIBUTE


def test_url_and_lazy_client_with_explicit_retries() -> None:
    store = open_store(
        "dynamodb://bandit?region=eu-west-1&endpoint_url=http://127.0.0.1:9&idempotency_table=idem"
    )
    assert isinstance(store, DynamoDBStore)
    assert (store.table, store.idempotency_table, store.region) == ("bandit", "idem", "eu-west-1")
    assert store._client is None  # nothing is built before the first call
    retries = store.client.meta.config.retries
    assert retries == {"mode": "standard", "total_max_attempts": 5}
    assert store.client.meta.endpoint_url == "http://127.0.0.1:9"
    other = open_store(
        "dynamodb://t?region=us-east-1&retry_mode=adaptive&max_attempts=8&read_timeout=3"
    )
    assert isinstance(other, DynamoDBStore)
    assert other.idempotency_table == "t-idempotency"
    assert other.client.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 8}
    assert other.client.meta.config.read_timeout == 3.0


def test_an_expired_key_is_free_again_for_a_batch_of_parts(store: DynamoDBStore) -> None:
    # Given a keyed 150-row increment whose records are past their TTL (not yet swept)
    record = IdempotencyRecord("k", "h", {"n": 150})
    assert store.write_daily("e", rows(150), "increment", record) is None
    for item in store.client.scan(TableName=store.idempotency_table)["Items"]:
        store.client.update_item(
            TableName=store.idempotency_table,
            Key={tables.PK: item[tables.PK], tables.SK: item[tables.SK]},
            UpdateExpression="SET #ttl = :past",
            ExpressionAttributeNames={"#ttl": tables.TTL_ATTRIBUTE},
            ExpressionAttributeValues={":past": {"N": "1"}},
        )
    # When the key comes again, it is a new request, as with a single transaction
    assert store.write_daily("e", rows(150), "increment", record) is None
    assert {r.impressions for r in store.read_daily("e")} == {20}


def snap(fingerprint: str, minute: int) -> Snapshot:
    at = T0 + dt.timedelta(minutes=minute)
    return Snapshot("e", at, "api", {"a": 1.0}, {"a": 1.0}, {}, fingerprint)


def test_a_meta_item_from_before_newest_snapshot_finds_the_newest_among_snapshots(
    store: DynamoDBStore,
) -> None:
    # Given an experiment whose META knows only the last fingerprint written (older code)
    assert store.write_snapshot(snap("fb", 2))
    assert store.write_snapshot(snap("fa", 1))
    meta = {tables.PK: {"S": "EXP#e"}, tables.SK: {"S": "META"}}
    store.client.update_item(
        TableName=store.table,
        Key=meta,
        UpdateExpression="SET latest_fingerprint = :fa REMOVE newest_snapshot",
        ExpressionAttributeValues={":fa": {"S": "fa"}},
    )
    # Then the newest by time (fb) is the one compared, and META learns its name again
    assert store.write_snapshot(snap("fb", 3)) is False
    assert store.write_snapshot(snap("fa", 3)) is True
    item = store.client.get_item(TableName=store.table, Key=meta)["Item"]
    assert item["latest_fingerprint"] == {"S": "fa"}
    assert item["newest_snapshot"]["S"].startswith("ALLOC#2026-01-01T00:03:00.000000Z#fa#")


def test_a_late_sweep_of_a_deleted_experiment_spares_the_one_made_again(
    store: DynamoDBStore,
) -> None:
    # Given "e" deleted (a tombstone swept) and then made again, with new counts
    store.write_daily("e", rows(3), "set")
    store.delete_experiment("e")
    store.create_experiment(Experiment("e", "E2", "", "running", (), False, {}, T0, T0))
    store.write_daily("e", rows(2), "set")
    # When a sweep of the old experiment arrives late (a slow deleter or creator)
    with pytest.raises(Conflict):
        store._sweep({"S": "EXP#e"})
    # Then the new experiment keeps everything
    assert store.get_experiment("e").name == "E2"
    assert store.read_daily("e") == rows(2)
