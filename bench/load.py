"""Soak of the real local server: ingest, allocation and history mixed at c=32 for minutes.

    .venv/bin/python bench/load.py                 # 120 s at c=32 (the issue's soak)
    .venv/bin/python bench/load.py --seconds 15    # a quick check

Starts `python -m banditkit.local` (uvicorn, SQLite, 127.0.0.1, recompute timer every 30 s)
on a fresh database, seeds --experiments experiments with 14 days of counts, then drives
--concurrency keep-alive connections from one light asyncio client for --seconds (and at
most --max-requests requests), each connection picking 45% POST /events (set, or increment
with an Idempotency-Key), 40% GET /allocation and 15% GET /experiments/{id}/history.

Prints, per operation, throughput, p50/p99/max latency and errors; per time window,
throughput and p99 with the ratio to the first window (the same run's baseline); and the
server's RSS after seeding (before), per window and after, with the growth. Any answer but
2xx is an error. Bounded in time and count; stops the server itself. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import http.client
import itertools
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api import exchange, raw_request, request, serve  # bench/api.py: the same loopback client

ROOT = Path(__file__).resolve().parents[1]
START = dt.date(2025, 1, 1)
VARIANTS = ("control", "variant_b", "variant_c")
RATES = (0.030, 0.036, 0.033)
MIX = (("ingest", 0.45), ("allocation", 0.40), ("history", 0.15))


@dataclass
class Sample:
    op: str
    done_at: float  # seconds since the load started
    ms: float
    status: int  # 0 = connection error


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    seconds: float = 0.0


def rss_mb(pid: int) -> float:
    """Resident set size of `pid` in MB (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time `pid` has used (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def call(conn: http.client.HTTPConnection, method: str, path: str, body: Any = None) -> Any:
    """bench/api.py's request, failing the run on an error answer."""
    status, raw = request(conn, method, path, body)
    if status >= 300:
        raise SystemExit(f"{method} {path}: {status} {raw[:300]!r}")
    return json.loads(raw) if raw else None


def day_counts(rng: random.Random, day: int) -> list[dict[str, Any]]:
    out = []
    for name, rate in zip(VARIANTS, RATES, strict=True):
        n = rng.randint(500, 5000)
        out.append({"variant_name": name, "impressions": n, "clicks": int(n * rate) + day % 3})
    return out


def seed(port: int, experiments: int) -> list[str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    rng = random.Random(7)
    ids = []
    for e in range(experiments):
        exp = call(conn, "POST", "/experiments", {"name": f"soak {e}", "variants": list(VARIANTS)})
        ids.append(exp["id"])
        for d in range(14):
            body = {
                "experiment_id": exp["id"],
                "date": (START + dt.timedelta(days=d)).isoformat(),
                "variants": day_counts(rng, d),
            }
            call(conn, "POST", "/events", body)
        call(conn, "GET", f"/allocation?experiment_id={exp['id']}")
    conn.close()
    return ids


def next_request(rng: random.Random, ids: list[str], w: int, i: int) -> tuple[str, bytes]:
    op = rng.choices([m[0] for m in MIX], weights=[m[1] for m in MIX])[0]
    exp = rng.choice(ids)
    if op == "allocation":
        return op, raw_request("GET", f"/allocation?experiment_id={exp}")
    if op == "history":
        return op, raw_request("GET", f"/experiments/{exp}/history?limit=50")
    day = 14 + rng.randrange(60)  # new days, re-sent days, and days the seed wrote
    body: dict[str, Any] = {
        "experiment_id": exp,
        "date": (START + dt.timedelta(days=day)).isoformat(),
        "variants": day_counts(rng, day),
    }
    if rng.random() < 0.3:
        body["mode"] = "increment"
        return op, raw_request("POST", "/events", body, f"idempotency-key: soak-{w}-{i}\r\n")
    return op, raw_request("POST", "/events", body)


def soak(
    port: int,
    ids: list[str],
    concurrency: int,
    seconds: float,
    max_requests: int,
    on_tick: Any,
    tick_seconds: float,
) -> Run:
    """`concurrency` keep-alive connections from one asyncio loop until the time or the
    request budget runs out; `on_tick(elapsed)` runs every `tick_seconds` (RSS samples)."""
    run = Run()
    budget = [max_requests]

    async def worker(w: int, t0: float) -> None:
        rng = random.Random(1000 + w)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        i = 0
        while time.perf_counter() - t0 < seconds and budget[0] > 0:
            budget[0] -= 1
            op, raw = next_request(rng, ids, w, i)
            i += 1
            started = time.perf_counter()
            try:
                status = await asyncio.wait_for(exchange(reader, writer, raw), timeout=30)
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError):
                status = 0
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            now = time.perf_counter()
            run.samples.append(Sample(op, now - t0, (now - started) * 1000, status))
        writer.close()

    async def ticker(t0: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=tick_seconds)
            except TimeoutError:
                on_tick(time.perf_counter() - t0)

    async def main() -> None:
        t0 = time.perf_counter()
        stop = asyncio.Event()
        tick = asyncio.create_task(ticker(t0, stop))
        await asyncio.gather(*(worker(w, t0) for w in range(concurrency)))
        run.seconds = time.perf_counter() - t0
        stop.set()
        await tick

    asyncio.run(main())
    return run


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def print_tables(
    run: Run,
    windows: int,
    rss: list[tuple[str, float]],
    cpu: list[float],
    concurrency: int,
) -> None:
    ok = [s for s in run.samples if 200 <= s.status < 300]
    print(f"\n## Soak: {run.seconds:.0f} s at c={concurrency}, {len(run.samples)} requests\n")
    print("| operation | requests | req/s | p50 ms | p99 ms | max ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for op in [m[0] for m in MIX] + ["all"]:
        mine = [s for s in run.samples if op in (s.op, "all")]
        errors = sum(1 for s in mine if not 200 <= s.status < 300)
        ms = [s.ms for s in mine]
        print(
            f"| {op} | {len(mine)} | {len(mine) / run.seconds:.1f} | {pct(ms, 0.5):.1f} "
            f"| {pct(ms, 0.99):.1f} | {max(ms, default=float('nan')):.1f} | {errors} |"
        )
    codes = Counter(s.status for s in run.samples if not 200 <= s.status < 300)
    if codes:
        print(f"\nerror statuses (0 = connection): {dict(codes)}")
    done = sorted(s.done_at for s in run.samples)
    gap = max((b - a for a, b in itertools.pairwise(done)), default=0.0)
    print(f"\nlongest time without a completed request: {gap * 1000:.0f} ms")

    width = run.seconds / windows
    # The server's CPU per request is the same run's baseline against machine noise: on a
    # shared machine req/s falls when other processes take the cores, CPU/request does not.
    print(
        "\n| window | req/s | p99 ms | server CPU ms/req | req/s vs first | p99 vs first "
        "| CPU/req vs first | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    first: tuple[float, float, float] | None = None
    for k in range(windows):
        lo, hi = k * width, (k + 1) * width
        mine = [
            s for s in run.samples if lo <= s.done_at < hi or (k == windows - 1 and s.done_at >= hi)
        ]
        rps = len(mine) / width
        p99 = pct([s.ms for s in mine], 0.99)
        errors = sum(1 for s in mine if not 200 <= s.status < 300)
        used = cpu[k + 1] - cpu[k] if k + 1 < len(cpu) else float("nan")
        per_request = used * 1000 / max(len(mine), 1)
        if first is None:
            first = (rps, p99, per_request)
        print(
            f"| {lo:.0f}-{hi:.0f} s | {rps:.1f} | {p99:.1f} | {per_request:.2f} "
            f"| {rps / first[0]:.2f} | {p99 / first[1]:.2f} | {per_request / first[2]:.2f} "
            f"| {errors} |"
        )

    print("\n| server RSS | MB |")
    print("|---|---:|")
    for label, mb in rss:
        print(f"| {label} | {mb:.1f} |")
    before, after = rss[0][1], rss[-1][1]
    settled = rss[min(2, len(rss) - 1)][1]  # after the first windows: caches warm
    print(
        f"\nRSS growth: {after - before:+.1f} MB over the soak ({after / before:.2f}x), "
        f"{after - settled:+.1f} MB after '{rss[min(2, len(rss) - 1)][0]}'; "
        f"{len(ok)} of {len(run.samples)} answers 2xx"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description="Soak of the local server (bounded)")
    parser.add_argument("--seconds", type=float, default=120.0, help="load duration (120)")
    parser.add_argument("--concurrency", type=int, default=32, help="connections (32)")
    parser.add_argument("--experiments", type=int, default=20, help="seeded experiments (20)")
    parser.add_argument("--max-requests", type=int, default=500_000, help="request budget")
    parser.add_argument("--windows", type=int, default=6, help="time windows reported (6)")
    args = parser.parse_args()
    if not 0 < args.seconds <= 3600 or not 0 < args.concurrency <= 512:
        parser.error("--seconds must be in (0, 3600] and --concurrency in (0, 512]")

    workdir = Path(tempfile.mkdtemp(prefix="banditkit-soak-"))
    try:
        with serve(f"sqlite:///{workdir}/soak.db", {"BANDIT_RECOMPUTE_SECONDS": "30"}) as (
            port,
            server,
        ):
            return soak_and_report(args, port, server, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def soak_and_report(
    args: argparse.Namespace, port: int, server: subprocess.Popen[bytes], workdir: Path
) -> int:
    ids = seed(port, args.experiments)
    rss: list[tuple[str, float]] = [("before (seeded, idle)", rss_mb(server.pid))]
    cpu = [cpu_seconds(server.pid)]
    tick = args.seconds / args.windows

    wal = workdir / "soak.db-wal"

    def on_tick(elapsed: float) -> None:
        if server.poll() is None:
            rss.append((f"at {elapsed:.0f} s", rss_mb(server.pid)))
            cpu.append(cpu_seconds(server.pid))
            size = wal.stat().st_size / 2**20 if wal.exists() else 0.0
            wal_sizes.append(f"{elapsed:.0f} s: {size:.1f}")

    wal_sizes: list[str] = []

    print(
        f"soak: {args.seconds:.0f} s, c={args.concurrency}, {len(ids)} experiments, "
        f"server pid {server.pid} on 127.0.0.1:{port}, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    run = soak(port, ids, args.concurrency, args.seconds, args.max_requests, on_tick, tick)
    if len(cpu) <= args.windows:  # the last tick raced the end of the load
        cpu.append(cpu_seconds(server.pid))
    if server.poll() is not None:
        raise SystemExit("the server died during the soak")
    time.sleep(1.0)  # let in-flight work settle before the last sample
    rss.append(("after (idle)", rss_mb(server.pid)))
    print_tables(run, args.windows, rss, cpu, args.concurrency)
    sizes = {p.name: p.stat().st_size / 2**20 for p in sorted(workdir.glob("soak.db*"))}
    print("database files (MB): " + ", ".join(f"{k} {v:.1f}" for k, v in sizes.items()))
    print("SQLite WAL (MB) per window: " + ", ".join(wal_sizes))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    failed = sum(1 for s in run.samples if not 200 <= s.status < 300)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
