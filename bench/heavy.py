"""What one caller's heavy requests cost the local server, and what they cost everyone else.

    .venv/bin/python bench/heavy.py [--reps 30] [--seconds 10]

Starts `python -m banditkit.local` on a free port with a fresh SQLite file (bench/api.py's
`serve`) and measures, all on loopback (latency = an upper bound of server time):

1. reads of a large experiment, 10 variants x 3 years of daily rows (10,950 rows, imported
   as one CSV): GET /allocation and GET /experiments/{id}/report, `--reps` times each,
   "warm" (unchanged data: the caches keyed by the data's version answer) and "cold" (one
   event posted before each read, so the engine runs on all 10,950 rows again);
   target: warm p99 <= 50 ms;
2. GET /health every 20 ms for `--seconds`, first idle, then while 8 clients keep heavy
   requests running: POST /simulate at its size cap, cold reports of the large experiment,
   and CSV imports of 10,000 rows (target: p99 < 100 ms under load; the idle p99 of the
   same run is the baseline of the ratio);
3. the server's resident memory before, at the peak of, and after one maximal import
   (100,000 rows, the most one import may hold; its parse decodes the file as it reads).

Bounded: reps x 4 reads, two health phases of --seconds, and one maximal import. Not part
of `make test`. The common random numbers: every simulated experiment uses seed 1, the
imported counts come from one seeded generator.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import random
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from banditkit.service.ingest import MAX_IMPORT_ROWS

sys.path.insert(0, str(Path(__file__).resolve().parent))

from api import request, serve

VARIANTS = 10
DAYS = 3 * 365
START = dt.date(2023, 1, 1)
HEAVY_CLIENTS = 8
HEALTH_EVERY = 0.02  # seconds between /health probes
TARGET_READ_MS = 50.0
TARGET_HEALTH_P99_MS = 100.0


def memory_mb(pid: int, field: str) -> float:
    """A /proc/<pid>/status memory figure in MB: VmRSS (resident now), VmHWM (peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def csv_rows(days: int, variants: int, rng: random.Random, start: dt.date = START) -> bytes:
    lines = ["date,variant_name,impressions,clicks,conversions"]
    for d in range(days):
        day = (start + dt.timedelta(days=d)).isoformat()
        for v in range(variants):
            impressions = 1000 + rng.randrange(200)
            clicks = sum(rng.random() < 0.03 + 0.002 * v for _ in range(60))
            lines.append(f"{day},v{v},{impressions},{clicks},{clicks // 3}")
    return ("\n".join(lines) + "\n").encode()


def call(
    conn: http.client.HTTPConnection,
    method: str,
    path: str,
    body: Any = None,
    raw: bytes | None = None,
) -> tuple[int, float]:
    """(status, milliseconds) of one request; `raw` is sent as a CSV body."""
    started = time.perf_counter()
    if raw is not None:
        conn.request(method, path, body=raw, headers={"content-type": "text/csv"})
        response = conn.getresponse()
        status, _ = response.status, response.read()
    else:
        status, _ = request(conn, method, path, body)
    return status, (time.perf_counter() - started) * 1000


def create(conn: http.client.HTTPConnection, experiment_id: str) -> None:
    status, _ = call(conn, "POST", "/experiments", {"id": experiment_id, "name": experiment_id})
    if status != 201:
        raise SystemExit(f"could not create {experiment_id}: {status}")


def event(conn: http.client.HTTPConnection, experiment_id: str, i: int) -> None:
    body = {
        "experiment_id": experiment_id,
        "date": (START + dt.timedelta(days=DAYS - 1)).isoformat(),
        "mode": "increment",
        "variants": [
            {"variant_name": f"v{v}", "impressions": 1, "clicks": i % 2} for v in range(3)
        ],
    }
    status, _ = call(conn, "POST", "/events", body)
    if status != 200:
        raise SystemExit(f"POST /events: {status}")


def reads(port: int, experiment_id: str, reps: int) -> list[tuple[str, str, list[float]]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    paths = {
        "GET /allocation": f"/allocation?experiment_id={experiment_id}",
        "GET /report": f"/experiments/{experiment_id}/report",
    }
    out = []
    for name, path in paths.items():
        for kind in ("cold", "warm"):
            times = []
            for i in range(reps):
                if kind == "cold":
                    event(conn, experiment_id, i)
                else:
                    call(conn, "GET", path)  # (the first read after a write is the cold one)
                status, ms = call(conn, "GET", path)
                if status != 200:
                    raise SystemExit(f"{path}: {status}")
                times.append(ms)
            out.append((name, kind, times))
    conn.close()
    return out


def probe_health(port: int, seconds: float) -> tuple[list[float], int]:
    """/health latencies every HEALTH_EVERY for `seconds`, and the number of non-200s."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times, bad = [], 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        status, ms = call(conn, "GET", "/health")
        times.append(ms)
        bad += status != 200
        time.sleep(HEALTH_EVERY)
    conn.close()
    return times, bad


def heavy_clients(port: int, experiment_id: str, stop: threading.Event) -> list[threading.Thread]:
    """HEAVY_CLIENTS threads, each repeating one kind of heavy request until `stop`."""
    simulate = {
        "variants": [{"name": f"s{v}", "rate": 0.03 + 0.002 * v} for v in range(10)],
        "daily_impressions": 1_000_000,
        "days": 100,
        "seed": 1,
    }
    small_csv = csv_rows(1000, VARIANTS, random.Random(2), start=dt.date(2010, 1, 1))

    def simulating(conn: http.client.HTTPConnection, i: int) -> None:
        call(conn, "POST", "/simulate", simulate)

    def reporting(conn: http.client.HTTPConnection, i: int) -> None:
        event(conn, experiment_id, i)
        call(conn, "GET", f"/experiments/{experiment_id}/report")

    def importing(conn: http.client.HTTPConnection, i: int) -> None:
        call(conn, "POST", f"/experiments/{experiment_id}-import/import", raw=small_csv)

    kinds: list[Callable[[http.client.HTTPConnection, int], None]] = [
        simulating,
        reporting,
        importing,
    ]

    def run(kind: Callable[[http.client.HTTPConnection, int], None]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        i = 0
        while not stop.is_set():
            kind(conn, i)
            i += 1
        conn.close()

    return [
        threading.Thread(target=run, args=(kinds[i % len(kinds)],)) for i in range(HEAVY_CLIENTS)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=30, help="reads of each kind (30)")
    parser.add_argument("--seconds", type=float, default=10.0, help="each health phase (10)")
    args = parser.parse_args()
    rng = random.Random(1)
    big = csv_rows(DAYS, VARIANTS, rng)
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(f"sqlite:///{tmp}/heavy.db", {}) as (
            port,
            server,
        ),
    ):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for experiment_id in ("large", "large-import", "maximal"):
            create(conn, experiment_id)
        # first, a maximal import (the rows one import may hold), so that the server's
        # peak resident memory afterwards is this import's peak
        maximal = csv_rows(MAX_IMPORT_ROWS // 50, 50, random.Random(3), dt.date(2015, 1, 1))
        before = memory_mb(server.pid, "VmRSS")
        status, maximal_ms = call(conn, "POST", "/experiments/maximal/import", raw=maximal)
        peak, after = memory_mb(server.pid, "VmHWM"), memory_mb(server.pid, "VmRSS")
        maximal_status = status
        status, import_ms = call(conn, "POST", "/experiments/large/import", raw=big)
        if status != 200:
            raise SystemExit(f"import: {status}")
        read_results = reads(port, "large", args.reps)

        idle, idle_bad = probe_health(port, args.seconds)
        stop = threading.Event()
        clients = heavy_clients(port, "large", stop)
        for t in clients:
            t.start()
        busy, busy_bad = probe_health(port, args.seconds)
        stop.set()
        for t in clients:
            t.join()
        conn.close()

    print(
        f"large experiment: {VARIANTS} variants x {DAYS} days = {VARIANTS * DAYS} rows, "
        f"imported in {import_ms:.0f} ms ({len(big) / 1e6:.2f} MB CSV)\n"
    )
    print(f"{'read':<18} {'data':<5} {'n':>4} {'p50 ms':>8} {'p99 ms':>8} {'target':>8}")
    for name, kind, times in read_results:
        target = f"<= {TARGET_READ_MS:.0f}" if kind == "warm" else "-"
        met = (
            ""
            if kind == "cold"
            else ("  met" if pct(times, 0.99) <= TARGET_READ_MS else "  MISSED")
        )
        print(
            f"{name:<18} {kind:<5} {len(times):>4} {pct(times, 0.5):>8.1f} "
            f"{pct(times, 0.99):>8.1f} {target:>8}{met}"
        )
    print(f"\n/health every {HEALTH_EVERY * 1000:.0f} ms for {args.seconds:.0f} s")
    print(f"{'phase':<28} {'n':>5} {'non-200':>8} {'p50 ms':>8} {'p99 ms':>8} {'x idle p99':>11}")
    for phase, times, bad in (
        ("idle", idle, idle_bad),
        (f"{HEAVY_CLIENTS} heavy clients running", busy, busy_bad),
    ):
        ratio = pct(times, 0.99) / pct(idle, 0.99)
        print(
            f"{phase:<28} {len(times):>5} {bad:>8} {pct(times, 0.5):>8.1f} "
            f"{pct(times, 0.99):>8.1f} {ratio:>11.2f}"
        )
    held = pct(busy, 0.99) < TARGET_HEALTH_P99_MS and busy_bad == 0
    print(f"target: p99 < {TARGET_HEALTH_P99_MS:.0f} ms under load: {'met' if held else 'MISSED'}")
    print(
        f"\nmaximal import: {len(maximal) / 1e6:.2f} MB, {MAX_IMPORT_ROWS:,} rows, "
        f"{maximal_status} in {maximal_ms:.0f} ms; server RSS {before:.0f} MB before, "
        f"peak {peak:.0f} MB (+{peak - before:.0f}), {after:.0f} MB after"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
