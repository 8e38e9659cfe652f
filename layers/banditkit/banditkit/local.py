"""The local server: every router, the dashboard, /docs and the recompute job on a timer.

    python -m banditkit.local --host 127.0.0.1 --port 8000 --store sqlite:///.data/banditkit.db

Without API keys (BANDIT_API_KEYS) it refuses to listen anywhere but loopback.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banditkit import service
from banditkit.config import AppConfig, ConfigError, load_config
from banditkit.http.app import create_app
from banditkit.http.docs import install_docs
from banditkit.store import Store, open_store

log = logging.getLogger("banditkit.local")

WORKER_THREADS = 4
SWITCH_INTERVAL = 0.001
# What one client can hold of the local server: connections beyond MAX_CONNECTIONS (open
# at once, idle ones included) are answered 503; an idle kept-alive connection closes after
# KEEP_ALIVE seconds; a request's headers and body must arrive within the deadlines of
# local_timeouts.py (10 s and 30 s), else its connection is closed.
MAX_CONNECTIONS = 200
KEEP_ALIVE = 5.0

DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PLACEHOLDER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>banditkit</title></head>
<body><h1>banditkit</h1>
<p>The dashboard is not installed in this checkout (no <code>frontend/index.html</code>).</p>
<p>The API is running: see <a href="/docs">/docs</a> and <a href="/health">/health</a>.</p>
</body></html>
"""


def default_frontend() -> Path:
    """`frontend/` of the working directory, else of the repository holding this package."""
    here = Path("frontend")
    if here.is_dir():
        return here
    return Path(__file__).resolve().parents[3] / "frontend"


class DashboardHeaders:
    """Security headers on the dashboard's and the docs' responses: CSP without inline
    script, nosniff, no frames."""

    def __init__(self, app: ASGIApp, prefixes: tuple[str, ...] = ("/dashboard", "/docs")) -> None:
        self.app = app
        self.prefixes = prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefixes):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", DASHBOARD_CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class RecomputeTimer:
    """Runs service.recompute_all every `seconds` in a daemon thread (requests never wait)."""

    def __init__(self, store: Store, seconds: float) -> None:
        self.store = store
        self.seconds = seconds
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None
        self.runs = 0

    def run_once(self) -> service.RecomputeResult:
        result = service.recompute_all(self.store, time_left=self._time_left)
        self.runs += 1
        if result.failed:
            log.warning("recompute: %d experiment(s) failed", result.failed)
        return result

    def _time_left(self) -> float:
        return 0.0 if self.stop_event.is_set() else float("inf")

    def _loop(self) -> None:
        while not self.stop_event.wait(self.seconds):
            try:
                self.run_once()
            except Exception:  # the timer outlives a store outage
                log.exception("recompute run failed")

    def start(self) -> None:
        self.thread = threading.Thread(target=self._loop, name="recompute", daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


def build_app(
    config: AppConfig,
    store: Store,
    *,
    frontend: Path | None = None,
    recompute_seconds: float | None = None,
    worker_threads: int = WORKER_THREADS,
) -> FastAPI:
    """All routers, the dashboard at /dashboard/, / -> /dashboard/, the recompute timer."""
    timer = RecomputeTimer(store, recompute_seconds or config.recompute_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Store and engine work is short and mostly CPU: a few threads queue requests in
        # order, where dozens would fight over the GIL and stretch the tail latency.
        anyio.to_thread.current_default_thread_limiter().total_tokens = worker_threads
        timer.start()
        try:
            yield
        finally:
            timer.stop()

    app = create_app(store=store, config=config, lifespan=lifespan)
    app.state.recompute_timer = timer
    folder = frontend if frontend is not None else default_frontend()

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse("/dashboard/")

    install_docs(app)

    if (folder / "index.html").is_file():
        app.mount("/dashboard", StaticFiles(directory=folder, html=True), name="dashboard")
    else:

        @app.api_route(
            "/dashboard/",
            methods=["GET", "HEAD"],
            include_in_schema=False,
            response_class=HTMLResponse,
        )
        def placeholder() -> str:
            return PLACEHOLDER

    app.add_middleware(DashboardHeaders)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_args(argv: Sequence[str] | None, config: AppConfig) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m banditkit.local", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (8000)")
    parser.add_argument("--store", default=config.store_url, help=f"store URL ({config.store_url})")
    parser.add_argument("--frontend", type=Path, default=None, help="dashboard folder")
    parser.add_argument("--log-level", default="info", help="uvicorn log level")
    parser.add_argument(
        "--threads", type=int, default=WORKER_THREADS, help=f"worker threads ({WORKER_THREADS})"
    )
    return parser.parse_args(argv)


def server_limits(
    *,
    max_connections: int = MAX_CONNECTIONS,
    keep_alive: float = KEEP_ALIVE,
    header_timeout: float | None = None,
    body_timeout: float | None = None,
) -> dict[str, Any]:
    """uvicorn's options that bound what a client can hold: the connection cap, the idle
    keep-alive and the request read deadlines (local_timeouts.py)."""
    from banditkit import local_timeouts

    return {
        "http": local_timeouts.timed_protocol(
            header_timeout or local_timeouts.HEADER_TIMEOUT,
            body_timeout or local_timeouts.BODY_TIMEOUT,
        ),
        "limit_concurrency": max_connections,
        "timeout_keep_alive": keep_alive,
    }


def main(argv: Sequence[str] | None = None, serve: Callable[..., None] | None = None) -> int:
    try:
        config = load_config()
    except ConfigError as err:
        print(f"banditkit: {err}", file=sys.stderr)
        return 2
    args = parse_args(argv, config)
    if not is_loopback(args.host) and not config.auth_required:
        print(
            f"banditkit: refusing to listen on {args.host} without API keys; "
            "set BANDIT_API_KEYS or use --host 127.0.0.1",
            file=sys.stderr,
        )
        return 2
    config = config.model_copy(update={"store_url": args.store})
    store = open_store(args.store)
    app = build_app(config, store, frontend=args.frontend, worker_threads=args.threads)
    if serve is None:
        import uvicorn

        # Hand the GIL between the event loop and the workers sooner than every 5 ms: a
        # request crosses threads twice, and each wait lands in the tail latency.
        sys.setswitchinterval(SWITCH_INTERVAL)

        serve = uvicorn.run
    print(f"banditkit: http://{args.host}:{args.port}/dashboard/  (API docs at /docs)")
    try:
        serve(app, host=args.host, port=args.port, log_level=args.log_level, **server_limits())
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
