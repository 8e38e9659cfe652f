"""Glue for the Lambda handlers in functions/*/app.py: EMF metrics, optional X-Ray, and the
scheduled recompute (a planner on the schedule, workers on its SQS queue).

Free of FastAPI and Mangum: the recompute function serves no HTTP, so its cold start does not
load the web stack (the API handlers add it through `banditkit.http.aws`). Nothing here runs at
import: stores and the tracer are built at the first invocation, and Powertools is imported by
whoever makes the Metrics handed in (`banditkit.http.aws` does so at the first invocation).
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from banditkit import service
from banditkit.config import get_config
from banditkit.runtime import default_store
from banditkit.store import Store
from banditkit.telemetry import (
    RECOMPUTE_FAILURES,
    RECOMPUTE_INCOMPLETE,
    RECOMPUTE_QUEUED,
    RECOMPUTE_SECONDS,
    RECOMPUTE_SEEN,
    RECOMPUTE_SKIPPED,
    RECOMPUTE_UNCHANGED,
    RECOMPUTED,
    SNAPSHOTS_WRITTEN,
)

if TYPE_CHECKING:
    from aws_lambda_powertools import Metrics

NAMESPACE = "banditkit"
Handler = Callable[[dict[str, Any], Any], Any]
log = logging.getLogger("banditkit.aws")


class EmfTelemetry:
    """Business counters as CloudWatch EMF metrics through Powertools."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def count(self, name: str, value: int = 1) -> None:
        from aws_lambda_powertools.metrics import MetricUnit  # loaded with `metrics` already

        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


@contextmanager
def flushed(metrics: Metrics) -> Iterator[None]:
    """Publish the invocation's metrics at its end (only when there are some)."""
    try:
        yield
    finally:
        if metrics.provider.metric_set:
            metrics.flush_metrics()


class Traced:
    """Wraps a handler with the Powertools tracer only when BANDIT_TRACING is on, deciding at
    the first call, so a cold start without tracing never imports the X-Ray SDK."""

    def __init__(self, handler: Handler, service_name: str) -> None:
        self.handler = handler
        self.service_name = service_name
        self.inner: Handler | None = None

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        if self.inner is None:
            self.inner = self.handler
            if get_config().tracing:
                from aws_lambda_powertools import Tracer

                tracer = Tracer(service=self.service_name)
                handler = self.handler

                # The tracer names its segment after the function's __name__, which a
                # Mangum instance lacks: give it a plain function.
                def traced(event: dict[str, Any], context: Any) -> Any:
                    return handler(event, context)

                self.inner = tracer.capture_lambda_handler(traced)
        return self.inner(event, context)


def remaining_seconds(context: Any) -> Callable[[], float]:
    """Seconds left in the invocation, from the Lambda context."""
    return lambda: float(context.get_remaining_time_in_millis()) / 1000.0


def recompute(context: Any, metrics: Metrics, margin_seconds: float = 10.0) -> dict[str, Any]:
    """The scheduled job. With BANDIT_RECOMPUTE_QUEUE_URL it is the planner: it pages the
    running experiments and sends the changed ones to the queue the workers drain; without,
    it recomputes them itself until the deadline."""
    config = get_config()
    store = default_store(config)
    telemetry = EmfTelemetry(metrics)
    started = time.monotonic()
    time_left = remaining_seconds(context)
    if config.recompute_queue_url:
        out = plan_and_enqueue(
            store, _sqs(), config.recompute_queue_url, time_left=time_left, margin=margin_seconds
        )
        telemetry.count(RECOMPUTE_SEEN, out["seen"])
        telemetry.count(RECOMPUTE_QUEUED, out["queued"])
        telemetry.count(RECOMPUTE_SKIPPED, out["skipped"])
        telemetry.count(RECOMPUTE_INCOMPLETE, int(not out["complete"]))
    else:
        result = service.recompute_all(store, time_left=time_left, margin_seconds=margin_seconds)
        seen = result.considered + result.remaining
        telemetry.count(RECOMPUTE_SEEN, seen)
        telemetry.count(RECOMPUTE_QUEUED, result.planned)  # planned, and worked on in-process
        telemetry.count(RECOMPUTE_SKIPPED, seen - result.planned)
        _count_outcomes(telemetry, result)
        telemetry.count(RECOMPUTE_INCOMPLETE, int(result.stopped_early))
        out = result.as_dict()
    _seconds(metrics, time.monotonic() - started)
    return out


def recompute_worker(event: dict[str, Any], context: Any, metrics: Metrics) -> dict[str, Any]:
    """A batch of the planner's messages (one experiment id each): recompute each; the ids
    that failed go back to the queue (ReportBatchItemFailures) and, after the queue's
    maxReceiveCount, to its dead-letter queue."""
    store = default_store(get_config())
    started = time.monotonic()
    result = service.RecomputeResult()
    failures = []
    for record in event.get("Records", []):
        experiment_id = str(record.get("body", ""))
        work = functools.partial(service.recompute_one, store, experiment_id)
        if not result.add(experiment_id, work):
            failures.append({"itemIdentifier": record["messageId"]})
    _count_outcomes(EmfTelemetry(metrics), result)
    _seconds(metrics, time.monotonic() - started)
    return {"batchItemFailures": failures}


SEND_BATCH = 10  # SendMessageBatch's limit
SEND_ATTEMPTS = 3


def plan_and_enqueue(
    store: Store,
    sqs: Any,
    queue_url: str,
    *,
    time_left: Callable[[], float],
    margin: float,
    page_size: int = 100,
) -> dict[str, Any]:
    """Page the running experiments and send each changed id to the queue, page by page
    (so the first changes are being worked on while the walk goes on). Stops before the
    deadline; the next run walks again from the start, so nothing changed is lost."""
    seen = queued = skipped = 0
    complete = True
    for plan in service.plan_pages(store, page_size):
        seen += len(plan.changed) + plan.unchanged
        skipped += plan.unchanged
        ids = [e.id for e in plan.changed]
        for start in range(0, len(ids), SEND_BATCH):
            _send(sqs, queue_url, ids[start : start + SEND_BATCH])
        queued += len(ids)
        if plan.next_cursor and time_left() < margin:
            complete = False
            log.warning("recompute: the plan stopped at the deadline after %d experiments", seen)
            break
    return {"seen": seen, "queued": queued, "skipped": skipped, "complete": complete}


def _send(sqs: Any, queue_url: str, ids: list[str]) -> None:
    entries = [{"Id": str(i), "MessageBody": eid} for i, eid in enumerate(ids)]
    for _ in range(SEND_ATTEMPTS):
        failed = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries).get("Failed", [])
        if not failed:
            return
        retry = {f["Id"] for f in failed}
        entries = [e for e in entries if e["Id"] in retry]
    raise RuntimeError(f"the recompute queue refused {len(entries)} message(s)")


@functools.lru_cache(maxsize=1)
def _sqs() -> Any:
    import boto3

    return boto3.client("sqs")


def _count_outcomes(telemetry: EmfTelemetry, result: service.RecomputeResult) -> None:
    telemetry.count(RECOMPUTED, result.recomputed)
    telemetry.count(RECOMPUTE_UNCHANGED, result.unchanged)
    telemetry.count(RECOMPUTE_FAILURES, result.failed)
    telemetry.count(SNAPSHOTS_WRITTEN, result.snapshots_written)
    if result.failed:
        log.warning("recompute: %d experiment(s) failed", result.failed)


def _seconds(metrics: Metrics, value: float) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    metrics.add_metric(name=RECOMPUTE_SECONDS, unit=MetricUnit.Seconds, value=value)
