"""The FastAPI app factory: the given routers, problem+json errors, body limits, CORS, Allow."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from banditkit import __version__
from banditkit.config import AppConfig, get_config
from banditkit.http import errors, links
from banditkit.http.limits import BodyLimit
from banditkit.http.methods import AllowedMethods
from banditkit.store import Store
from banditkit.telemetry import Telemetry

DESCRIPTION = """\
Thompson-sampling traffic allocation for A/B tests. Post each day's counts per variant
(`POST /events`), read the traffic shares for the next period (`GET /allocation`).

Errors are `application/problem+json` (RFC 9457) with `errors: [{field, message}]`.
When the server has API keys configured, send one in the `x-api-key` header.
"""


class LazyCors:
    """CORS from the configuration, read at the first request (never at import)."""

    def __init__(self, app: ASGIApp, config: Callable[[], AppConfig]) -> None:
        self.app = app
        self.config = config
        self.inner: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.inner is None:
            origins = list(self.config().cors_origins)
            self.inner = self.app
            if origins:  # none by default: the dashboard is served from the API's own origin
                from starlette.middleware.cors import CORSMiddleware

                self.inner = CORSMiddleware(
                    self.app,
                    allow_origins=origins,
                    allow_methods=["GET", "POST", "PATCH", "DELETE"],
                    allow_headers=["content-type", "x-api-key", "idempotency-key"],
                )
        await self.inner(scope, receive, send)


def all_routers() -> list[APIRouter]:
    from banditkit.http.routers import admin, allocation, events, experiments, history

    return [experiments.router, events.router, allocation.router, history.router, admin.router]


def create_app(
    routers: Sequence[APIRouter] | None = None,
    *,
    store: Store | None = None,
    config: AppConfig | None = None,
    telemetry: Telemetry | None = None,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None,
) -> FastAPI:
    """An app serving `routers` (default: all). `store`/`config` default to the environment's,
    resolved at the first request; `telemetry` receives business metrics."""
    app = FastAPI(
        title="banditkit",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        # FastAPI's own pages load Swagger UI and ReDoc from a CDN; the local server serves
        # /docs from packaged assets instead (banditkit.http.docs).
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.config = config
    app.state.telemetry = telemetry
    for router in all_routers() if routers is None else routers:
        # The router's routes as built (its dependencies, tags and responses merged in):
        # include_router would build each of them again, at the app's first request. So
        # app.dependency_overrides does not reach them; pass `store` and `config` instead.
        app.router.routes.extend(router.routes)
    errors.install(app)
    _document(app)
    app.add_middleware(AllowedMethods, router=app.router)
    app.add_middleware(LazyCors, config=lambda: config if config is not None else get_config())
    app.add_middleware(BodyLimit)
    return app


def _document(app: FastAPI) -> None:
    """Make app.openapi() return FastAPI's generated document with the problem schemas the
    routes' error responses refer to (errors.py) and the links between operations (links.py),
    built once."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = links.add_links(errors.add_problem_schemas(build()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
