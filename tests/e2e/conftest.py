"""E2E fixtures: the real local server on a temporary SQLite file, and Debian's Chromium.

Playwright cannot download its own browser here, so it drives /usr/bin/chromium. Without it
the tier is skipped on a workstation and fails in CI (env CI set), where .ci/run installs it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 375, "height": 812}
ADMIN_KEY = "e2e-admin-key-0123456"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (apt-get install chromium)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


def start_server(tmp: Path, extra_env: dict[str, str] | None = None) -> Server:
    """`python -m banditkit.local` on a free 127.0.0.1 port and a fresh SQLite file."""
    port = _free_port()
    # The server's configuration comes from extra_env only, never from the caller's shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDIT_")}
    env.update(extra_env or {})
    log = (tmp / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "banditkit.local",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--store",
            f"sqlite:///{tmp / f'e2e-{port}.db'}",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return Server(url, process, log)
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    stop_server(Server(url, process, log))
    output = (tmp / f"server-{port}.log").read_text(errors="replace")[-3000:]
    pytest.fail(f"banditkit.local did not become healthy on {url}:\n{output}")


def stop_server(server: Server) -> None:
    if server.process is not None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    if server.log is not None:
        server.log.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The local server; BANDIT_E2E_URL points the suite at one already running instead."""
    _require_chromium()
    external = os.environ.get("BANDIT_E2E_URL")
    if external:
        yield Server(external.rstrip("/"))
        return
    srv = start_server(
        tmp_path_factory.mktemp("e2e"),
        {"BANDIT_ENABLE_RESET": "1", "BANDIT_ADMIN_KEY": ADMIN_KEY},
    )
    yield srv
    stop_server(srv)


@pytest.fixture(scope="session")
def api(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@dataclass
class Watch:
    """What a page did that the test did not ask for: foreign requests, console errors."""

    origin: str
    foreign: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)

    def expect_status(self, status: int) -> None:
        """The test provokes an HTTP error with this status; Chromium logs it as a console error."""
        self.allowed_statuses.add(status)

    def on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        m = re.search(r"status of (\d{3})", text)
        if m and int(m.group(1)) in self.allowed_statuses:
            return
        self.console_errors.append(text)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@pytest.fixture
def watch(server: Server) -> Watch:
    return Watch(origin=_origin(server.url))


@pytest.fixture
def page(browser: Any, server: Server, watch: Watch) -> Iterator[Any]:
    """A desktop-sized page. Requests to any other origin are aborted and recorded."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)

    def route(r: Any) -> None:
        url = r.request.url
        watch.requests.append(url)
        if url.startswith(("blob:", "data:")) or _origin(url) == watch.origin:
            r.continue_()
        else:
            watch.foreign.append(url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.on("console", watch.on_console)
    pg.on("pageerror", lambda exc: watch.console_errors.append(f"pageerror: {exc}"))
    yield pg
    context.close()
    assert watch.foreign == [], f"requests left the page's origin: {watch.foreign}"
    assert watch.console_errors == [], f"console errors: {watch.console_errors}"


def settle(pg: Any) -> None:
    """Two animation frames: Chart.js redraws on ResizeObserver before the next paint."""
    pg.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


@pytest.fixture
def shoot() -> Callable[[Any, str], None]:
    """Save desktop (1440 px) and phone (375 px) full-page screenshots of the current view."""

    def take(pg: Any, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        pg.set_viewport_size(DESKTOP)
        settle(pg)
        pg.screenshot(path=str(SCREENSHOTS / f"{name}-desktop.png"), full_page=True)
        pg.set_viewport_size(PHONE)
        settle(pg)
        pg.screenshot(path=str(SCREENSHOTS / f"{name}-phone.png"), full_page=True)
        width = pg.evaluate("document.documentElement.scrollWidth")
        pg.set_viewport_size(DESKTOP)
        assert width <= PHONE["width"], f"{name}: the page scrolls sideways at 375 px ({width} px)"

    return take
