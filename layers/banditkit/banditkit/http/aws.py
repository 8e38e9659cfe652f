"""Glue for the API handlers in functions/*/app.py: the FastAPI app behind Mangum, wrapped
with the Lambda glue all handlers share (`banditkit.aws`).

Nothing here runs at import: stores and the tracer are built at the first invocation.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from fastapi import APIRouter, FastAPI
from mangum import Mangum

from banditkit.aws import NAMESPACE, EmfTelemetry, Handler, Traced, flushed
from banditkit.http.app import create_app

TEXT_MIME_TYPES = ["text/", "application/json", "application/problem+json"]


def lambda_app(app: FastAPI) -> Mangum:
    """Mangum over the app: no lifespan, problem+json and CSV answered as text (not base64)."""
    return Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)


def api_function(name: str, router: APIRouter) -> tuple[Handler, Logger]:
    """The handler of one API function (DESIGN §2): its router behind Mangum, with the
    Powertools logger (correlation id from the API Gateway request), EMF metrics and the
    optional tracer. Returns the handler and its logger."""
    logger = Logger(service=f"banditkit-{name}")
    metrics = Metrics(namespace=NAMESPACE, service=name)
    api = Traced(lambda_app(create_app([router], telemetry=EmfTelemetry(metrics))), name)

    @logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
    def handler(event: dict[str, Any], context: Any) -> Any:
        with flushed(metrics):
            return api(event, context)

    return handler, logger
