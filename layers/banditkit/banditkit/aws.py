"""Glue for the Lambda handlers in functions/*/app.py: EMF metrics, optional X-Ray, and the
scheduled recompute job.

Free of FastAPI and Mangum: the recompute function serves no HTTP, so its cold start does not
load the web stack (the API handlers add it through `banditkit.http.aws`). Nothing here runs at
import: stores and the tracer are built at the first invocation, and Powertools is imported by
whoever makes the Metrics handed in (`banditkit.http.aws` does so at the first invocation).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from banditkit import service
from banditkit.config import get_config
from banditkit.runtime import default_store
from banditkit.telemetry import RECOMPUTE_FAILURES, SNAPSHOTS_WRITTEN

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
    """The scheduled job: recompute every running experiment before the deadline."""
    store = default_store(get_config())
    result = service.recompute_all(
        store, time_left=remaining_seconds(context), margin_seconds=margin_seconds
    )
    EmfTelemetry(metrics).count(SNAPSHOTS_WRITTEN, result.snapshots_written)
    EmfTelemetry(metrics).count(RECOMPUTE_FAILURES, result.failed)  # 0 too: the alarm's baseline
    if result.failed:
        log.warning("recompute: %d experiment(s) failed", result.failed)
    return result.as_dict()
