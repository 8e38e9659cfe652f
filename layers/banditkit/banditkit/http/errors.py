"""Typed errors and validation errors to RFC 9457 problem+json, in one place.

A body never carries a stack trace, SQL, an environment value or the input that was rejected:
only the field path and a message written by us or by pydantic's error catalogue.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.constants import REF_TEMPLATE
from fastapi.responses import JSONResponse
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException

from banditkit.engine import InvalidSettings
from banditkit.models.common import FieldProblem, Problem
from banditkit.models.messages import plain_message
from banditkit.service.errors import FieldError, InvalidRequest, NoVariants, PayloadTooLarge
from banditkit.store import (
    Conflict,
    ExperimentNotFound,
    IdempotencyConflict,
    IdempotencyKeyRequired,
    InvalidCursor,
    InvalidMetrics,
    StoreLimitExceeded,
    StoreUnavailable,
    TooManyVariants,
)

log = logging.getLogger("banditkit.http")

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_BASE = "https://banditkit.dev/problems/"
RETRY_AFTER_SECONDS = 5

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Invalid request",
    500: "Internal error",
    503: "Service unavailable",
}


class ProblemError(Exception):
    """Raised by the HTTP layer itself (auth, limits, content type) to answer a problem."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.errors = tuple(errors)
        self.headers = headers or {}


def problem_response(
    status: int,
    slug: str,
    detail: str,
    errors: Sequence[FieldError] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_BASE + slug,
        title=TITLES.get(status, "Error"),
        status=status,
        detail=detail,
        errors=[FieldProblem(field=e.field, message=e.message) for e in errors],
    )
    return JSONResponse(
        body.model_dump(), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers
    )


def field_path(loc: Sequence[int | str]) -> str:
    """('body', 'variants', 0, 'clicks') -> 'variants.0.clicks'; ('query', 'limit') -> 'limit'."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        where, parts = parts[0], parts[1:]
        if where == "header" and parts:
            return parts[0].title()
    return ".".join(parts) or "body"


def _validation_errors(raw: Sequence[Any]) -> tuple[int, str, str, list[FieldError]]:
    errors: list[FieldError] = []
    malformed = False
    for e in raw:
        kind = e.get("type", "")
        if kind == "json_invalid":
            malformed = True
            errors.append(FieldError("body", "malformed JSON: " + str(e.get("msg", ""))))
            continue
        msg = plain_message(e)
        if kind == "missing" and tuple(e.get("loc", ())) == ("body",):
            msg = "a JSON body is required"
        errors.append(FieldError(field_path(e.get("loc", ())), msg))
    if malformed:
        return 400, "malformed-json", "the body is not valid JSON", errors
    return 422, "validation-error", "the request is invalid; see errors", errors


# Typed errors whose answer does not depend on the instance: (status, slug, detail, errors).
FIXED_PROBLEMS: dict[type[Exception], tuple[int, str, str, list[FieldError]]] = {
    IdempotencyConflict: (
        409,
        "idempotency-conflict",
        "this Idempotency-Key was used with a different request body",
        [FieldError("Idempotency-Key", "reused with a different body")],
    ),
    Conflict: (409, "conflict", "the resource exists or changed concurrently; retry", []),
    InvalidCursor: (
        400,
        "invalid-cursor",
        "the cursor was not issued by this API",
        [FieldError("cursor", "not a cursor from a previous page")],
    ),
    InvalidMetrics: (
        422,
        "invalid-metrics",
        "the counts cannot be stored",
        [FieldError("variants", "a count would leave the stored range")],
    ),
    StoreLimitExceeded: (
        413,
        "too-large",
        "the request exceeds a storage limit; send it in smaller parts",
        [],
    ),
}


async def _fixed_problem(request: Request, exc: Exception) -> JSONResponse:
    cls = next(c for c in type(exc).__mro__ if c in FIXED_PROBLEMS)
    return problem_response(*FIXED_PROBLEMS[cls])


def install(app: FastAPI) -> None:
    """Register the exception handlers on an app (http/app.py adds the problem schemas to its
    OpenAPI document, with add_problem_schemas)."""
    for cls in FIXED_PROBLEMS:
        app.add_exception_handler(cls, _fixed_problem)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, slug, detail, errors = _validation_errors(exc.errors())
        return problem_response(status, slug, detail, errors)

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc.status, exc.slug, exc.detail, exc.errors, exc.headers)

    @app.exception_handler(InvalidRequest)
    async def _invalid(request: Request, exc: InvalidRequest) -> JSONResponse:
        return problem_response(422, "validation-error", exc.detail, exc.errors)

    @app.exception_handler(InvalidSettings)
    async def _settings(request: Request, exc: InvalidSettings) -> JSONResponse:
        errors = [FieldError(f"settings.{exc.field}", exc.message)]
        return problem_response(
            422, "invalid-settings", f"settings.{exc.field}: {exc.message}", errors
        )

    @app.exception_handler(ExperimentNotFound)
    async def _not_found(request: Request, exc: ExperimentNotFound) -> JSONResponse:
        return problem_response(
            404,
            "experiment-not-found",
            f"experiment {exc.experiment_id!r} not found",
            [FieldError("experiment_id", "no such experiment")],
        )

    @app.exception_handler(NoVariants)
    async def _no_variants(request: Request, exc: NoVariants) -> JSONResponse:
        return problem_response(
            409,
            "no-variants",
            str(exc),
            [FieldError("experiment_id", "the experiment has no variants")],
        )

    @app.exception_handler(PayloadTooLarge)
    async def _too_large(request: Request, exc: PayloadTooLarge) -> JSONResponse:
        return problem_response(413, "too-large", str(exc), exc.errors)

    @app.exception_handler(TooManyVariants)
    async def _too_many_variants(request: Request, exc: TooManyVariants) -> JSONResponse:
        message = f"an experiment has at most {exc.limit} variants"
        return problem_response(
            422,
            "validation-error",
            f"{message}; nothing was stored",
            [FieldError("variants", message)],
        )

    @app.exception_handler(IdempotencyKeyRequired)
    async def _key_required(request: Request, exc: IdempotencyKeyRequired) -> JSONResponse:
        return problem_response(
            413,
            "too-large",
            f"{exc}; nothing was stored",
            [FieldError("Idempotency-Key", "required for an increment of this size")],
        )

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(request: Request, exc: StoreUnavailable) -> JSONResponse:
        log.warning("store unavailable: %s", type(exc).__name__)
        return problem_response(
            503,
            "store-unavailable",
            "the store is unavailable and the request did not complete; retry it (with the same "
            "Idempotency-Key, if it had one)",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        status = exc.status_code
        slug = {400: "malformed-body", 404: "not-found", 405: "method-not-allowed"}.get(
            status, "http-error"
        )
        detail = {
            400: "the request body could not be parsed",
            404: "no such resource",
            405: "method not allowed",
        }.get(status, TITLES.get(status, "error"))
        errors = [FieldError("body", "could not be parsed")] if status == 400 else []
        return problem_response(status, slug, detail, errors, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal-error", "an unexpected error occurred")


PROBLEM_REF = "#/components/schemas/Problem"


def _problem_doc(description: str) -> dict[str, Any]:
    # No "model": Problem here. FastAPI would build a validator of Problem for each status of
    # each route (about 35 per handler, at import and again at the first request) only to
    # name its schema; add_problem_schemas() adds the schema to the document once. The
    # content is the media type actually sent plus the application/json entry FastAPI wrote
    # with the model.
    return {
        "description": description,
        "content": {
            PROBLEM_MEDIA_TYPE: {"schema": {"$ref": PROBLEM_REF}},
            "application/json": {"schema": {"$ref": PROBLEM_REF}},
        },
    }


def problem_schemas() -> dict[str, Any]:
    """The JSON schemas of Problem and FieldProblem, as components of an OpenAPI document."""
    _, top = models_json_schema([(Problem, "serialization")], ref_template=REF_TEMPLATE)
    return dict(top.get("$defs", {}))


def add_problem_schemas(spec: dict[str, Any]) -> dict[str, Any]:
    """Add the schemas that responses() refers to to an OpenAPI document in place, and
    return it."""
    components = spec.setdefault("components", {})
    schemas = {**problem_schemas(), **components.get("schemas", {})}
    components["schemas"] = dict(sorted(schemas.items()))
    return spec


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the problem responses a route may answer."""
    text = {
        400: "Malformed JSON or request",
        401: "Missing x-api-key",
        403: "Wrong x-api-key",
        404: "Not found",
        409: "Conflict",
        413: "Request too large",
        422: "Invalid request; `errors` names each field",
        503: "Store unavailable (Retry-After)",
    }
    return {s: _problem_doc(text[s]) for s in statuses}
