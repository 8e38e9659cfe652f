"""DynamoDB faults injected at moto's request boundary: throttling, transaction conflicts,
timeouts before and after the server applied a write. Retried per the configured policy;
StoreUnavailable when retries run out; never a partial or double write."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from banditkit.store import (
    DailyRow,
    Experiment,
    IdempotencyRecord,
    Snapshot,
    StoreError,
    StoreUnavailable,
)
from banditkit.store.dynamodb import DynamoDBStore, client_config
from botocore.exceptions import ReadTimeoutError
from moto import mock_aws

from .conftest import copy_tables_once_per_transaction, dynamodb_store_in_moto, serialise_moto

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
D1 = dt.date(2026, 1, 1)
ATTEMPTS = 3
ROWS = [DailyRow(D1, "a", 10, 1), DailyRow(D1, "b", 20, 2)]
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
SNAP = Snapshot("e", T0, "api", {"a": 0.5, "b": 0.5}, {"a": 0.5, "b": 0.5}, {}, "fp")


class FaultyServer:
    """Wraps moto's request handling: each request for `operation` takes the next fault of
    `plan` (None = serve normally); `forever` repeats the last fault.

    It also keeps DynamoDB's promise for TransactWriteItems that moto ignores: a
    ClientRequestToken that committed is not applied again (the same parameters answer 200
    without a change, others IdempotentParameterMismatchException). `tokens` lists the
    token of every TransactWriteItems request seen."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from moto.core.models import botocore_stubber

        self.plan: list[str | None] = []
        self.forever = False
        self.operation = "TransactWriteItems"
        self.seen = 0
        self.delays: list[float] = []
        self.tokens: list[str | None] = []
        committed: dict[str, bytes] = {}  # token -> the request body that committed
        moto_serve = botocore_stubber.process_request

        def serve(request: Any) -> Any:
            target = request.headers.get("X-Amz-Target", b"")
            target = target.decode() if isinstance(target, bytes) else target
            if not target.endswith(".TransactWriteItems"):
                return moto_serve(request)
            token = json.loads(request.body).get("ClientRequestToken")
            if token in committed:
                if committed[token] != request.body:
                    return error(400, "IdempotentParameterMismatchException")
                return 200, {"Content-Type": "application/x-amz-json-1.0"}, "{}"
            response = moto_serve(request)
            if token is not None and response[0] == 200:
                committed[token] = request.body
            return response

        def process(request: Any) -> Any:
            target = request.headers.get("X-Amz-Target", b"")
            target = target.decode() if isinstance(target, bytes) else target
            if not target.endswith("." + self.operation):
                return serve(request)
            self.seen += 1
            if self.operation == "TransactWriteItems":
                self.tokens.append(json.loads(request.body).get("ClientRequestToken"))
            fault = self.plan.pop(0) if self.plan else None
            if self.forever and not self.plan:
                self.plan.append(fault)
            if fault is None:
                return serve(request)
            if fault == "throttle":
                return error(400, "ThrottlingException", message="Rate exceeded")
            if fault == "conflict":
                items = len(json.loads(request.body)["TransactItems"])
                reasons = [{"Code": "None"}] * (items - 1) + [
                    {"Code": "TransactionConflict", "Message": "conflict"}
                ]
                return error(400, "TransactionCanceledException", CancellationReasons=reasons)
            if fault == "in-progress":  # the same token's transaction is still running
                return error(400, "TransactionInProgressException")
            if fault == "validation":
                return error(400, "ValidationException", message="secret driver detail")
            if fault == "timeout-after":
                serve(request)  # the server applies the write, the answer never arrives
            raise ReadTimeoutError(endpoint_url=request.url)

        monkeypatch.setattr(botocore_stubber, "process_request", process)

        # botocore's backoff is computed as configured but not slept, to keep the suite quick
        from botocore.retries.standard import ExponentialBackoff

        real_delay = ExponentialBackoff.delay_amount

        def delay_amount(backoff: ExponentialBackoff, context: Any) -> float:
            self.delays.append(real_delay(backoff, context))
            return 0.0

        monkeypatch.setattr(ExponentialBackoff, "delay_amount", delay_amount)


def error(status: int, code: str, **fields: Any) -> tuple[int, dict[str, str], str]:
    body = json.dumps({"__type": ERROR_PREFIX + code, "message": code, **fields})
    return status, {"Content-Type": "application/x-amz-json-1.0"}, body


@contextmanager
def faulty_dynamodb(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[DynamoDBStore, FaultyServer]]:
    """A DynamoDBStore on fresh moto tables behind a FaultyServer (tests/api uses it too)."""
    serialise_moto(monkeypatch)
    server = FaultyServer(monkeypatch)
    copy_tables_once_per_transaction(monkeypatch)
    with mock_aws():
        store = dynamodb_store_in_moto(
            config=client_config(retry_mode="standard", max_attempts=ATTEMPTS),
            max_attempts=ATTEMPTS,
            backoff_base=0.001,
        )
        yield store, server


@pytest.fixture
def faulty(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DynamoDBStore, FaultyServer]]:
    with faulty_dynamodb(monkeypatch) as (store, server):
        store.create_experiment(Experiment("e", "E", "", "running", (), False, {}, T0, T0))
        yield store, server


def totals(store: DynamoDBStore) -> dict[str, tuple[int, int]]:
    return {r.variant_name: (r.impressions, r.clicks) for r in store.read_daily("e")}


def test_throttling_is_retried_with_backoff_then_succeeds(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    store, server = faulty
    server.plan = ["throttle", "throttle"]
    assert store.write_daily("e", ROWS, "increment") is None
    assert server.seen == ATTEMPTS
    assert len(server.delays) == 2
    assert all(0 <= d <= 2**i for i, d in enumerate(server.delays))
    assert totals(store) == {"a": (10, 1), "b": (20, 2)}


@pytest.mark.parametrize("fault", ["throttle", "timeout-before", "conflict"])
def test_when_retries_run_out_nothing_is_stored(
    faulty: tuple[DynamoDBStore, FaultyServer], fault: str
) -> None:
    store, server = faulty
    server.plan, server.forever = [fault], True
    with pytest.raises(StoreUnavailable) as caught:
        store.write_daily("e", ROWS, "increment", IdempotencyRecord("k", "h", {"n": 2}))
    assert server.seen == ATTEMPTS
    assert "Exception" not in str(caught.value)  # a short reason, no driver text
    server.plan, server.forever = [], False
    assert totals(store) == {}
    # the client's retry with the same key then goes through once
    assert store.write_daily("e", ROWS, "increment", IdempotencyRecord("k", "h")) is None
    assert totals(store) == {"a": (10, 1), "b": (20, 2)}


def test_transaction_conflicts_are_retried_by_the_store(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    store, server = faulty
    server.plan = ["conflict", "conflict"]
    assert store.write_daily("e", ROWS, "increment") is None
    assert server.seen == 3
    assert server.delays == []  # botocore does not retry cancellations; the store does
    assert totals(store) == {"a": (10, 1), "b": (20, 2)}


def test_timeout_before_the_server_saw_the_write_is_retried(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    store, server = faulty
    server.plan = ["timeout-before"]
    assert store.write_daily("e", ROWS, "increment") is None
    assert server.seen == 2
    assert totals(store) == {"a": (10, 1), "b": (20, 2)}


def test_timeout_after_the_server_applied_the_write_counts_once(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    # Given the first attempt commits but its answer is lost
    store, server = faulty
    server.plan = ["timeout-after"]
    first = IdempotencyRecord("k", "h", {"total_impressions": 30})
    # When botocore retries the same transaction, its token stops the second application
    # and the call answers as the one that wrote (None)
    assert store.write_daily("e", ROWS, "increment", first) is None
    assert server.seen == 2
    # and the idempotency record was stored with it: the client's retry is a replay
    again = IdempotencyRecord("k", "h", {})
    assert store.write_daily("e", ROWS, "increment", again) == {"total_impressions": 30}
    assert totals(store) == {"a": (10, 1), "b": (20, 2)}


def test_a_keyless_increment_whose_answer_was_lost_counts_once(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    # Given no Idempotency-Key, a first attempt that commits and loses its answer
    store, server = faulty
    server.plan = ["timeout-after"]
    # When botocore retries, the transaction's token makes DynamoDB skip the second one
    assert store.write_daily("e", ROWS, "increment") is None
    assert server.seen == 2
    assert totals(store) == {"a": (10, 1), "b": (20, 2)}
    assert server.tokens[0] is not None
    assert server.tokens == [server.tokens[0]] * 2


def test_a_keyless_increment_still_in_progress_past_the_retries_counts_once(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    # Given a first attempt that commits late: botocore's retries all hear "in progress"
    store, server = faulty
    server.plan = ["timeout-after"] + ["in-progress"] * (ATTEMPTS - 1)
    # When the store asks again with the same token, DynamoDB answers the committed one
    assert store.write_daily("e", ROWS, "increment") is None
    assert server.seen == ATTEMPTS + 1
    assert totals(store) == {"a": (10, 1), "b": (20, 2)}
    assert len(set(server.tokens)) == 1


def test_every_write_carries_its_own_token(faulty: tuple[DynamoDBStore, FaultyServer]) -> None:
    # two identical keyless increments are two requests: both count
    store, server = faulty
    store.write_daily("e", ROWS, "increment")
    store.write_daily("e", ROWS, "increment")
    store.write_daily("e", BIG, "set")  # five parts, a token each
    store.write_snapshot(SNAP)
    assert totals(store)["b"] == (40, 4)
    assert None not in server.tokens
    assert len(server.tokens) == len(set(server.tokens)) == 2 + PARTS + 1
    assert all(1 <= len(t or "") <= 36 for t in server.tokens)


def test_throttled_reads_become_store_unavailable(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    store, server = faulty
    store.write_daily("e", ROWS, "set")
    server.operation, server.seen = "Query", 0
    server.plan, server.forever = ["throttle"], True
    with pytest.raises(StoreUnavailable):
        store.read_daily("e")
    assert server.seen == ATTEMPTS


def test_a_refused_request_is_a_store_error_without_driver_text(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    store, server = faulty
    server.plan = ["validation"]
    with pytest.raises(StoreError) as caught:
        store.write_daily("e", ROWS, "increment")
    assert not isinstance(caught.value, StoreUnavailable)
    assert "secret" not in str(caught.value)
    assert server.seen == 1  # not retried
    assert totals(store) == {}


# a batch beyond one transaction: 450 rows with a key are 5 parts of 98, 98, 98, 98, 58

BIG = [
    DailyRow(D1 + dt.timedelta(days=d), f"v{v}", 100 + d, v + 1)
    for d in range(90)
    for v in range(5)
]
PARTS = 5


def seeded(store: DynamoDBStore) -> dict[tuple[dt.date, str], tuple[int, int]]:
    """Stores a prior total on every row of BIG; returns the totals after BIG counted once."""
    store.write_daily("e", [DailyRow(r.date, r.variant_name, 7, 1) for r in BIG], "set")
    return {(r.date, r.variant_name): (7 + r.impressions, 1 + r.clicks) for r in BIG}


def day_totals(store: DynamoDBStore) -> dict[tuple[dt.date, str], tuple[int, int]]:
    return {(r.date, r.variant_name): (r.impressions, r.clicks) for r in store.read_daily("e")}


@pytest.mark.parametrize("k", [0, 3])
def test_a_retry_after_a_failure_at_part_k_counts_every_row_once(
    faulty: tuple[DynamoDBStore, FaultyServer], k: int
) -> None:
    # Given a 5-part keyed increment whose part k stays throttled past the retries
    store, server = faulty
    once = seeded(store)
    server.seen = 0
    server.plan, server.forever = [None] * k + ["throttle"], True
    answer = {"rows_imported": len(BIG)}
    with pytest.raises(StoreUnavailable):
        store.write_daily("e", BIG, "increment", IdempotencyRecord("imp", "h", answer))
    assert server.seen == k + ATTEMPTS
    # Then the first k parts (98 rows each) are counted, the rest not yet
    got = day_totals(store)
    counted = [r for r in BIG if got[(r.date, r.variant_name)] != (7, 1)]
    assert counted == BIG[: 98 * k]
    # When the client retries with the same key and body
    server.plan, server.forever, server.seen = [], False, 0
    retried = store.write_daily("e", BIG, "increment", IdempotencyRecord("imp", "h", answer))
    # Then every row is counted exactly once; the answer is the first one if part 0 was in
    assert day_totals(store) == once
    assert retried == (answer if k > 0 else None)
    assert server.seen == PARTS
    # and a further retry changes nothing
    again = store.write_daily("e", BIG, "increment", IdempotencyRecord("imp", "h", {}))
    assert again == answer
    assert day_totals(store) == once


def test_a_part_applied_whose_answer_was_lost_counts_once(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    store, server = faulty
    once = seeded(store)
    server.seen = 0
    # part 2 commits, its answer is lost and botocore sends it again: the part's record
    # stops the second application and the store goes on with part 3
    server.plan = [None, None, "timeout-after"]
    assert store.write_daily("e", BIG, "increment", IdempotencyRecord("imp", "h")) is None
    assert server.seen == PARTS + 1
    assert day_totals(store) == once


def test_a_retried_set_without_a_key_converges(
    faulty: tuple[DynamoDBStore, FaultyServer],
) -> None:
    store, server = faulty
    server.plan, server.forever = [None, None, "throttle"], True
    with pytest.raises(StoreUnavailable):
        store.write_daily("e", BIG, "set")
    assert len(store.read_daily("e")) == 2 * 99  # without a key parts hold 99 rows
    server.plan, server.forever = [], False
    assert store.write_daily("e", BIG, "set") is None
    assert store.read_daily("e") == BIG
