"""Glue for the API handlers in functions/*/app.py: the FastAPI app behind Mangum, wrapped
with the Lambda glue all handlers share (`banditkit.aws`).

Nothing here runs at import but building the app: stores, the tracer and the Powertools logger
and metrics are made at the first invocation (importing Powertools costs ~10 ms of a cold
start's import, and its logger reads the POWERTOOLS_* variables).
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI
from mangum import Mangum

from banditkit.aws import NAMESPACE, EmfTelemetry, Handler, Traced, flushed
from banditkit.http.app import create_app

if TYPE_CHECKING:
    from aws_lambda_powertools import Logger, Metrics

TEXT_MIME_TYPES = ["text/", "application/json", "application/problem+json"]


def lambda_app(app: FastAPI) -> Mangum:
    """Mangum over the app: no lifespan, problem+json and CSV answered as text (not base64)."""
    return Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)


class ApiFunction:
    """The handler of one API function (docs/architecture.md): its router behind Mangum, with the
    Powertools logger (correlation id from the API Gateway request), EMF metrics and the
    optional tracer, which are made at the first invocation."""

    def __init__(self, name: str, router: APIRouter) -> None:
        self.name = name
        # The app counts business metrics through self.count, into self.metrics.
        self.api = Traced(lambda_app(create_app([router], telemetry=self)), name)
        self.wrapped: Handler | None = None

    @cached_property
    def logger(self) -> Logger:
        from aws_lambda_powertools import Logger

        return Logger(service=f"banditkit-{self.name}")

    @cached_property
    def metrics(self) -> Metrics:
        from aws_lambda_powertools import Metrics

        return Metrics(namespace=NAMESPACE, service=self.name)

    def count(self, name: str, value: int = 1) -> None:
        EmfTelemetry(self.metrics).count(name, value)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        if self.wrapped is None:
            from aws_lambda_powertools.logging import correlation_paths

            api, metrics = self.api, self.metrics

            @self.logger.inject_lambda_context(
                correlation_id_path=correlation_paths.API_GATEWAY_REST
            )
            def handler(event: dict[str, Any], context: Any) -> Any:
                with flushed(metrics):
                    return api(event, context)

            self.wrapped = handler
        return self.wrapped(event, context)


def api_function(name: str, router: APIRouter) -> ApiFunction:
    """The handler of one API function; its Powertools logger is `.logger`."""
    return ApiFunction(name, router)
