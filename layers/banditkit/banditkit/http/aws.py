"""Glue for the API handlers in functions/*/app.py: the FastAPI app behind Mangum, plus the
Lambda glue all handlers share (`banditkit.aws`, re-exported here).

Nothing here runs at import: stores and the tracer are built at the first invocation.
"""

from __future__ import annotations

from fastapi import FastAPI
from mangum import Mangum

from banditkit.aws import NAMESPACE, EmfTelemetry, Handler, Traced, flushed, recompute

__all__ = [
    "NAMESPACE",
    "TEXT_MIME_TYPES",
    "EmfTelemetry",
    "Handler",
    "Traced",
    "flushed",
    "lambda_app",
    "recompute",
]

TEXT_MIME_TYPES = ["text/", "application/json", "application/problem+json"]


def lambda_app(app: FastAPI) -> Mangum:
    """Mangum over the app: no lifespan, problem+json and CSV answered as text (not base64)."""
    return Mangum(app, lifespan="off", text_mime_types=TEXT_MIME_TYPES)
