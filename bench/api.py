"""API load on loopback: the local server (uvicorn, SQLite) under concurrent clients.

    .venv/bin/python bench/api.py [--seconds 10] [--concurrency 8 32]
    BENCH_SERVER_ARGS="--threads 2" .venv/bin/python bench/api.py   # server options

Starts `python -m banditkit.local` on a free port with a fresh SQLite file, seeds one
experiment with 30 days x 3 variants, then drives GET /health, GET /allocation, the same
with the ETag of the last answer (a dashboard's poll of unchanged data: 304) and
POST /events, each at every concurrency for --seconds, over that many keep-alive
connections from one asyncio client. Prints req/s, p50, p99 and errors, with ratios
against /health measured in the same run and against the reference service (allocation
167-180 req/s at c=8 with p99 ~90 ms, stalling at c>=16; events 520-550 req/s). Bounded:
the whole run takes about 4 x len(concurrency) x seconds plus start-up. Not part of
`make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_ALLOCATION_RPS = 167.0  # low end of the replaced service at c=8
REFERENCE_EVENTS_RPS = 520.0


@dataclass
class Result:
    name: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def request(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any = None
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"content-type": "application/json"} if data is not None else {}
    conn.request(method, path, body=data, headers=headers)
    response = conn.getresponse()
    return response.status, response.read()


def wait_ready(port: int, server: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited during start-up")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            status, _ = request(conn, "GET", "/health")
            conn.close()
            if status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


@contextmanager
def serve(
    store_url: str, env: dict[str, str], *args: str
) -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """`python -m banditkit.local` on a free loopback port with `env` added to this
    environment, until the block ends: yields (port, server). bench/load.py uses it too."""
    port = free_port()
    command = [sys.executable, "-m", "banditkit.local", "--port", str(port), "--store", store_url]
    server = subprocess.Popen(
        [*command, "--log-level", "warning", *args],
        cwd=ROOT,
        env={**os.environ, "BANDIT_API_KEYS": "", **env},
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_ready(port, server)
        yield port, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def seed(port: int) -> tuple[str, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    ids = []
    for name in ("allocation", "events"):
        status, raw = request(
            conn,
            "POST",
            "/experiments",
            {"name": name, "variants": ["control", "variant_b", "variant_c"]},
        )
        assert status == 201, raw
        ids.append(json.loads(raw)["id"])
    start = dt.date(2025, 1, 1)
    for i in range(30):
        status, raw = request(
            conn,
            "POST",
            "/events",
            {
                "experiment_id": ids[0],
                "date": (start + dt.timedelta(days=i)).isoformat(),
                "variants": [
                    {"variant_name": "control", "impressions": 10000, "clicks": 300 + i},
                    {"variant_name": "variant_b", "impressions": 10000, "clicks": 340 + i},
                    {"variant_name": "variant_c", "impressions": 10000, "clicks": 320 + i},
                ],
            },
        )
        assert status == 200, raw
    conn.close()
    return ids[0], ids[1]


def raw_request(method: str, path: str, body: Any = None, headers: str = "") -> bytes:
    """One HTTP/1.1 request as bytes (bench/load.py uses it too)."""
    data = json.dumps(body).encode() if body is not None else b""
    head = f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\n{headers}"
    if body is not None:
        head += f"content-type: application/json\r\ncontent-length: {len(data)}\r\n"
    return (head + "\r\n").encode() + data


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> int:
    writer.write(raw)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


def load(
    port: int,
    name: str,
    concurrency: int,
    seconds: float,
    make: Callable[[int, int], tuple[Any, ...]],
) -> Result:
    """`concurrency` keep-alive connections driven by one asyncio loop: a light client, so
    the shared CPUs go to the server being measured."""
    latencies: list[float] = []
    errors = 0

    async def worker(w: int, stop_at: float) -> None:
        nonlocal errors
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = 0
        while time.perf_counter() < stop_at:
            raw = raw_request(*make(w, i))
            t0 = time.perf_counter()
            try:
                status = await exchange(reader, writer, raw)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies.append((time.perf_counter() - t0) * 1000)
            if status >= 400:
                errors += 1
            i += 1
        writer.close()

    async def run() -> float:
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(w, t0 + seconds) for w in range(concurrency)))
        return time.perf_counter() - t0

    elapsed = asyncio.run(run())
    return Result(name, concurrency, len(latencies), errors, elapsed, latencies)


def main() -> int:
    parser = argparse.ArgumentParser(description="API load on loopback")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="banditkit-bench-"))
    with serve(
        f"sqlite:///{workdir}/bench.db",
        {"BANDIT_RECOMPUTE_SECONDS": "86400"},
        *os.environ.get("BENCH_SERVER_ARGS", "").split(),
    ) as (port, _):
        alloc_id, events_id = seed(port)
        start = dt.date(2025, 1, 1)

        def events_body(w: int, i: int) -> tuple[str, str, Any]:
            day = (start + dt.timedelta(days=(w * 17 + i) % 600)).isoformat()
            return (
                "POST",
                "/events",
                {
                    "experiment_id": events_id,
                    "date": day,
                    "variants": [
                        {"variant_name": "control", "impressions": 100 + i, "clicks": 3},
                        {"variant_name": "variant_b", "impressions": 100, "clicks": 4},
                    ],
                },
            )

        # a dashboard's poll of unchanged data: If-None-Match with the current ETag, 304
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        for _ in range(2):  # the first read writes the snapshot, which the ETag covers
            conn.request("GET", f"/allocation?experiment_id={alloc_id}")
            reply = conn.getresponse()
            reply.read()
        etag = reply.getheader("etag")
        conn.close()
        scenarios: list[tuple[str, Callable[[int, int], tuple[Any, ...]]]] = [
            ("GET /health", lambda w, i: ("GET", "/health", None)),
            (
                "GET /allocation",
                lambda w, i: ("GET", f"/allocation?experiment_id={alloc_id}", None),
            ),
            (
                "GET /alloc 304",
                lambda w, i: (
                    "GET",
                    f"/allocation?experiment_id={alloc_id}",
                    None,
                    f"if-none-match: {etag}\r\n",
                ),
            ),
            ("POST /events", events_body),
        ]
        results: list[Result] = []
        for c in args.concurrency:
            for name, make in scenarios:
                load(port, name, c, min(1.0, args.seconds), make)  # warm-up
                results.append(load(port, name, c, args.seconds, make))

    print(
        f"API load, uvicorn + SQLite on loopback, {args.seconds:.0f} s per row, "
        f"{os.cpu_count()} CPUs (client and server share them)"
    )
    print(
        f"{'endpoint':<16} {'c':>3} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
        f" {'vs /health':>10} {'vs reference':>13}"
    )
    health = {r.concurrency: r.rps for r in results if r.name == "GET /health"}
    for r in results:
        ratio = r.rps / health[r.concurrency]
        ref = {
            "GET /allocation": REFERENCE_ALLOCATION_RPS,
            "POST /events": REFERENCE_EVENTS_RPS,
        }.get(r.name)
        ref_text = f"{r.rps / ref:.2f}x" if ref else "-"
        print(
            f"{r.name:<16} {r.concurrency:>3} {r.rps:>8.0f} {r.pct(0.5):>8.1f} "
            f"{r.pct(0.99):>8.1f} {r.errors:>7} {ratio:>9.2f}x {ref_text:>13}"
        )
    worst = max(r.pct(0.99) for r in results)
    print(
        f"worst p99 {worst:.1f} ms; median of all p50 "
        f"{statistics.median(r.pct(0.5) for r in results):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
