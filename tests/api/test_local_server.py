"""The local server on 127.0.0.1 (real uvicorn): a half-sent request is closed after its
read deadline, connections past the cap are answered 503, a whole request is served."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from banditkit.http.app import create_app
from banditkit.local import server_limits
from banditkit.store import open_store

from .conftest import config

DEADLINE = 0.5  # the test server's header and body deadlines, seconds
WAIT = 10.0  # how long a test waits for the server to close a connection


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    store = open_store(f"sqlite:///{tmp_path}/l.db")
    app = create_app(store=store, config=config())
    limits = server_limits(max_connections=4, header_timeout=DEADLINE, body_timeout=DEADLINE)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", **limits)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    assert server.started
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(WAIT)
    store.close()


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    sock.settimeout(WAIT)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything until the server closes the connection (socket.timeout if it does not)."""
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def test_half_sent_headers_are_closed_after_the_deadline(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        assert read_all(sock) == b""  # closed, no answer (a timeout here fails the test)


def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    with connect(port) as sock:
        assert read_all(sock) == b""


def test_a_half_sent_body_is_closed_after_the_deadline(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(
            b"POST /experiments HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name": '
        )
        assert b" 201 " not in read_all(sock)


def test_a_whole_request_is_served(port: int) -> None:
    with connect(port) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert read_all(sock).startswith(b"HTTP/1.1 200 ")


def test_connections_past_the_cap_are_answered_503(port: int) -> None:
    held = [connect(port) for _ in range(4)]
    try:
        with connect(port) as sock:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert read_all(sock).startswith(b"HTTP/1.1 503 ")
    finally:
        for sock in held:
            sock.close()
