"""Cut-off uploads against the real local server: a client that sends part of a body and
closes the socket (a body shorter than its Content-Length, or a chunked body without its
final chunk) stores nothing, on every route that takes a body. Raw sockets, no browser."""

from __future__ import annotations

import datetime as dt
import json
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from .conftest import Server, start_server, stop_server

EXP = "cut"
HEADER = b"date,variant_name,impressions,clicks,conversions\n"


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = start_server(tmp_path_factory.mktemp("cut"))
    yield srv
    stop_server(srv)


@pytest.fixture
def api(local: Server) -> Iterator[httpx.Client]:
    with local.client() as client:
        client.delete(f"/experiments/{EXP}")
        r = client.post("/experiments", json={"id": EXP, "name": "cut", "variants": ["a", "b"]})
        assert r.status_code == 201, r.text
        yield client


def send(server: Server, request: bytes, *, close: bool) -> bytes:
    """Send `request` on a fresh connection (then close our side if `close`), and return
    whatever the server answers before it closes its side."""
    parts = urlsplit(server.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        if close:
            sock.shutdown(socket.SHUT_WR)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def head(method: str, path: str, content_type: str, extra: str) -> bytes:
    return (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
        f"{extra}\r\n"
    ).encode()


def csv_rows(days: int) -> bytes:
    """`days` days of rows for variants a and b, each `...,1000,75,12`."""
    start = dt.date(2025, 1, 1)
    return HEADER + b"".join(
        f"{start + dt.timedelta(days=i)},{name},1000,75,12\n".encode()
        for i in range(days)
        for name in "ab"
    )


def cut_at(content_type: str, body: bytes) -> int:
    """Where to cut so that the part sent still parses: a CSV inside a row's last cell (its
    conversions `12` read as `1`), a JSON body inside its trailing whitespace."""
    if content_type == "text/csv":
        return body.index(b",12\n", len(body) // 2) + 2
    return body.index(b"}   ") + 2


Stored = tuple[list[object], dict[str, object]]


def stored(api: httpx.Client) -> Stored:
    """The experiment's daily rows, and the fields a cut-off PATCH or create could change."""
    days = api.get(f"/experiments/{EXP}/metrics").json()["days"]
    exp = api.get(f"/experiments/{EXP}").json()
    return days, {k: exp[k] for k in ("name", "description", "variants", "settings")}


def assert_nothing_stored(api: httpx.Client, before: Stored) -> None:
    # The app runs in worker threads; give a wrongly started write time to land.
    time.sleep(0.3)
    assert stored(api) == before
    assert [e["id"] for e in api.get("/experiments").json()["items"]] == [EXP]


def cut_cases() -> list[tuple[str, str, str, bytes]]:
    """(method, path, content type, complete body) for every route that takes a body."""
    day = {
        "experiment_id": EXP,
        "date": "2025-01-02",
        "mode": "increment",
        "variants": [{"variant_name": "a", "impressions": 1000, "clicks": 75}],
    }
    return [
        ("POST", f"/experiments/{EXP}/import?mode=increment", "text/csv", csv_rows(100)),
        ("POST", "/events", "application/json", padded(day)),
        ("POST", "/experiments", "application/json", padded({"id": "other", "name": "x"})),
        ("PATCH", f"/experiments/{EXP}", "application/json", padded({"name": "changed"})),
    ]


def padded(body: dict[str, object]) -> bytes:
    """JSON followed by whitespace (pretty-printers end with some): any cut inside it leaves
    a complete document."""
    return json.dumps(body).encode() + b" " * 64 + b"\n"


@pytest.mark.parametrize("case", cut_cases(), ids=lambda c: f"{c[0]} {c[1]}")
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_cut_off_body_stores_nothing(
    local: Server, api: httpx.Client, case: tuple[str, str, str, bytes], framing: str
) -> None:
    method, path, content_type, body = case
    before = stored(api)
    # Given a body cut where the part sent still parses
    cut = cut_at(content_type, body)
    if framing == "content-length":
        request = head(method, path, content_type, f"Content-Length: {len(body)}\r\n")
        request += body[:cut]
    else:
        request = head(method, path, content_type, "Transfer-Encoding: chunked\r\n")
        request += f"{cut:x}\r\n".encode() + body[:cut] + b"\r\n"  # no final 0-length chunk
    # When the client closes the socket before the rest
    answer = send(local, request, close=True)
    # Then nothing is stored, and no success is claimed
    assert not answer.startswith((b"HTTP/1.1 200", b"HTTP/1.1 201")), answer[:200]
    assert_nothing_stored(api, before)


def test_the_whole_body_is_stored(local: Server, api: httpx.Client) -> None:
    """The control: the same raw request, complete, is imported."""
    body = csv_rows(100)
    request = head(
        "POST",
        f"/experiments/{EXP}/import?mode=increment",
        "text/csv",
        f"Content-Length: {len(body)}\r\nConnection: close\r\n",
    )
    answer = send(local, request + body, close=False)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
    days = api.get(f"/experiments/{EXP}/metrics").json()["days"]
    # 100 days x 2 variants x 1000
    assert sum(v["impressions"] for d in days for v in d["variants"]) == 200 * 1000
