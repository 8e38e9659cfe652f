"""Glue for the Lambda handlers in functions/*/app.py: EMF metrics, optional X-Ray, recompute.

Nothing here runs at import: stores and the tracer are built at the first invocation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from fastapi import FastAPI
from mangum import Mangum

from banditkit import service
from banditkit.config import get_config
from banditkit.http.deps import default_store
from banditkit.http.telemetry import SNAPSHOTS_WRITTEN

NAMESPACE = "banditkit"
Handler = Callable[[dict[str, Any], Any], Any]
log = logging.getLogger("banditkit.aws")


TEXT_MIME_TYPES = ["text/", "application/json", "application/problem+json"]


def lambda_app(app: FastAPI) -> Mangum:
    """Mangum over the app: no lifespan, problem+json and CSV answered as text (not base64)."""
    return Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)


class EmfTelemetry:
    """Business counters as CloudWatch EMF metrics through Powertools."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def count(self, name: str, value: int = 1) -> None:
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
                self.inner = tracer.capture_lambda_handler(self.handler)
        return self.inner(event, context)


def remaining_seconds(context: Any) -> Callable[[], float]:
    """Seconds left in the invocation, from the Lambda context."""
    return lambda: float(context.get_remaining_time_in_millis()) / 1000.0


def recompute(context: Any, metrics: Metrics, margin_seconds: float = 10.0) -> dict[str, Any]:
    """The scheduled job: recompute every running experiment before the deadline."""
    store = default_store(get_config())
    result = service.recompute_all(
        store, time_left=remaining_seconds(context), margin_seconds=margin_seconds
    )
    EmfTelemetry(metrics).count(SNAPSHOTS_WRITTEN, result.snapshots_written)
    if result.failed:
        log.warning("recompute: %d experiment(s) failed", result.failed)
    return result.as_dict()
