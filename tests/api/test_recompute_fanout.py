"""The scheduled recompute on AWS: the planner pages the running experiments and queues the
changed ones (moto SQS), the worker drains the queue (SQS events), and an unchanged experiment
costs no call of its own."""

# ruff: noqa: F811 (the fixtures imported from test_lambda are parameters here)

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from banditkit import service
from banditkit.aws import _sqs, plan_and_enqueue
from banditkit.config import get_config
from banditkit.store import Store

from .test_lambda import (  # noqa: F401 (fixtures)
    Context,
    _seed,
    apigw_event,
    call,
    fns,
    lambda_store,
    load,
    scheduled_event,
)

# Mangum asks asyncio for the current loop at construction; Python 3.12+ warns when none is set.
pytestmark = pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")


@pytest.fixture
def queue(lambda_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto SQS queue the planner sends to (inside lambda_store's mock_aws)."""
    url: str = boto3.client("sqs", region_name="us-east-1").create_queue(
        QueueName="banditkit-recompute"
    )["QueueUrl"]
    monkeypatch.setenv("BANDIT_RECOMPUTE_QUEUE_URL", url)
    get_config.cache_clear()
    _sqs.cache_clear()
    yield url
    _sqs.cache_clear()
    get_config.cache_clear()


def drain(url: str) -> list[dict[str, Any]]:
    """Every queued message, as the SQS event source hands them to the worker."""
    sqs = boto3.client("sqs", region_name="us-east-1")
    records = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return records
        for m in got:
            records.append({"messageId": m["MessageId"], "body": m["Body"]})
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_the_planner_queues_only_changed_experiments_and_the_worker_snapshots_them(
    fns, lambda_store, queue
) -> None:
    _seed(fns, ["e1", "e2", "e3"])
    out = fns["recompute"].handler(scheduled_event(), Context())
    assert out == {"seen": 3, "queued": 3, "skipped": 0, "complete": True}
    worker = load("recompute_worker")
    records = drain(queue)
    assert sorted(r["body"] for r in records) == ["e1", "e2", "e3"]
    answer = worker.handler({"Records": records}, Context())
    assert answer == {"batchItemFailures": []}
    assert all(lambda_store.latest_snapshot(e).trigger == "schedule" for e in ("e1", "e2", "e3"))
    # nothing changed: the next run pages and queues nothing
    again = fns["recompute"].handler(scheduled_event(), Context())
    assert again == {"seen": 3, "queued": 0, "skipped": 3, "complete": True}
    assert drain(queue) == []
    # new data for e2 only: only e2 is queued
    status, _ = call(
        fns,
        "events",
        apigw_event(
            "POST",
            "/events",
            body={
                "experiment_id": "e2",
                "date": "2025-01-02",
                "variants": [{"variant_name": "b", "impressions": 100, "clicks": 9}],
            },
        ),
    )
    assert status == 200
    third = fns["recompute"].handler(scheduled_event(), Context())
    assert (third["queued"], third["skipped"]) == (1, 2)
    assert [r["body"] for r in drain(queue)] == ["e2"]


def test_a_failing_experiment_goes_back_to_the_queue_and_the_rest_are_done(
    fns, lambda_store, queue
) -> None:
    _seed(fns, ["e1", "e2"])
    broken = lambda_store.get_experiment("e2")
    lambda_store.update_experiment(
        dataclasses.replace(broken, settings={"alpha_prior": -1}), broken.version
    )
    fns["recompute"].handler(scheduled_event(), Context())
    records = drain(queue)
    answer = load("recompute_worker").handler({"Records": records}, Context())
    failed = [r["messageId"] for r in records if r["body"] == "e2"]
    assert answer == {"batchItemFailures": [{"itemIdentifier": failed[0]}]}
    assert lambda_store.latest_snapshot("e1") is not None
    assert lambda_store.latest_snapshot("e2") is None


def test_a_deleted_or_paused_experiment_in_the_queue_is_skipped(fns, lambda_store, queue) -> None:
    _seed(fns, ["e1", "e2"])
    fns["recompute"].handler(scheduled_event(), Context())
    records = drain(queue)
    lambda_store.delete_experiment("e1")
    exp = lambda_store.get_experiment("e2")
    lambda_store.update_experiment(dataclasses.replace(exp, status="paused"), exp.version)
    answer = load("recompute_worker").handler({"Records": records}, Context())
    assert answer == {"batchItemFailures": []}
    assert lambda_store.latest_snapshot("e2") is None


def test_an_unchanged_experiment_costs_a_share_of_one_page_read(fns, lambda_store, queue) -> None:
    """What the planner calls per experiment: 250 unchanged experiments in pages of 100 are
    3 Query calls on DynamoDB and nothing else (the target is at most one read each)."""
    ids = [f"e{i:03d}" for i in range(250)]
    for eid in ids:
        lambda_store.create_experiment(_experiment(eid))
        lambda_store.mark_snapshot_state(eid, "1:0")  # as if snapshotted at this state
    calls: Counter[str] = Counter()
    client = lambda_store.client  # type: ignore[attr-defined]
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: calls.update([model.name])
    )
    sent: list[list[str]] = []

    class Sqs:
        def send_message_batch(self, **call: Any) -> Any:
            entries: list[dict[str, str]] = call["Entries"]
            sent.append([e["MessageBody"] for e in entries])
            return {"Successful": entries, "Failed": []}

    out = plan_and_enqueue(lambda_store, Sqs(), queue, time_left=lambda: 100.0, margin=1.0)
    assert out == {"seen": 250, "queued": 0, "skipped": 250, "complete": True}
    assert calls == Counter({"Query": 3})
    assert sent == []


def test_the_planner_stops_paging_at_its_deadline(fns, lambda_store, queue) -> None:
    for i in range(5):
        lambda_store.create_experiment(_experiment(f"e{i}"))
    clock = iter([100.0, 0.0])
    sent: list[str] = []

    class Sqs:
        def send_message_batch(self, **call: Any) -> Any:
            entries: list[dict[str, str]] = call["Entries"]
            sent.extend(e["MessageBody"] for e in entries)
            return {"Failed": []}

    out = plan_and_enqueue(
        lambda_store, Sqs(), queue, time_left=lambda: next(clock), margin=1.0, page_size=2
    )
    assert out == {"seen": 4, "queued": 4, "skipped": 0, "complete": False}
    assert len(sent) == 4


def test_a_refused_message_is_sent_again(lambda_store: Store) -> None:
    from banditkit.aws import _send

    attempts: list[list[str]] = []

    class Sqs:
        def send_message_batch(self, **call: Any) -> Any:
            entries: list[dict[str, str]] = call["Entries"]
            attempts.append([e["MessageBody"] for e in entries])
            failed = [{"Id": e["Id"]} for e in entries if e["MessageBody"] == "b"]
            return {"Failed": failed if len(attempts) == 1 else []}

    _send(Sqs(), "url", ["a", "b", "c"])
    assert attempts == [["a", "b", "c"], ["b"]]


def _experiment(eid: str) -> Any:
    import datetime as dt

    from banditkit.store import Experiment, Variant

    at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return Experiment(eid, eid, "", "running", (Variant("a"), Variant("b")), True, {}, at, at)


def test_recompute_all_counts_unchanged_from_the_plan(fns, lambda_store) -> None:
    _seed(fns, ["e1", "e2"])
    first = service.recompute_all(lambda_store)
    assert (first.recomputed, first.unchanged) == (2, 0)
    second = service.recompute_all(lambda_store)
    assert (second.considered, second.recomputed, second.unchanged) == (2, 0, 2)
