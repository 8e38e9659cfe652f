"""The scheduled recompute at scale: what the planner and a worker cost per experiment, and
what 100,000 running experiments take on AWS.

    .venv/bin/python bench/recompute.py [--sizes 1000 10000] [--changed 0.1] [--sample 200]
                                        [--concurrency 10]

On SQLite (a temporary file) at each size N, and on DynamoDB under moto at one small size
(moto takes a few hundred milliseconds a call on this machine, so it gives the calls, not
the times): N running experiments with 14 days x 2 variants, all snapshotted once, then
new data for a fraction of them (--changed). Measured: the planner's page walk over all N
(store calls and milliseconds per experiment, changed or not) and a worker's recompute of a
sample of the changed ones (calls and milliseconds per experiment). Projected: the wall time
of a run over 100,000 experiments on AWS, from the measured CPU time plus the stated latency
per AWS call, with the workers' concurrency (the template's RecomputeConcurrency). moto's own
overhead is in its milliseconds, so the projection uses the SQLite CPU figures, which carry
no store latency, and adds the AWS latencies below instead.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from banditkit import service
from banditkit.store import DailyRow, Experiment, Store, Variant
from store import dynamodb_store  # bench/store.py: moto tables, calls counted

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
D0 = dt.date(2026, 1, 1)
DAYS = 14
PAGE = 100
PROJECTED = 100_000
# Typical in-region latencies (ms) of the calls a run makes, for the projection.
LATENCY_MS = {"Query": 10.0, "GetItem": 5.0, "UpdateItem": 8.0, "TransactWriteItems": 15.0}
SQS_SEND_MS = 20.0  # one SendMessageBatch of 10


class Counted:
    """A store whose method calls are counted (the calls a backend sees, as SQL or API)."""

    def __init__(self, store: Store, calls: Counter[str]) -> None:
        self._store, self._calls = store, calls

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if not callable(attr):
            return attr

        @functools.wraps(attr)
        def counted(*args: Any, **kwargs: Any) -> Any:
            self._calls[name] += 1
            return attr(*args, **kwargs)

        return counted


@contextmanager
def sqlite_store(calls: Counter[str]) -> Iterator[Store]:
    from banditkit.store.sqlite import SQLiteStore

    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(f"{tmp}/bench.db")
        yield Counted(store, calls)
        store.close()


def rows(day0: int, days: int = DAYS) -> list[DailyRow]:
    return [
        DailyRow(D0 + dt.timedelta(days=day0 + d), v, 1000, 30 + 5 * (v == "b"), 2)
        for d in range(days)
        for v in ("a", "b")
    ]


def seed(store: Store, n: int, changed: float) -> list[str]:
    """n running experiments, all snapshotted; new data for the first `changed` share."""
    ids = [f"e{i:06d}" for i in range(n)]
    for eid in ids:
        store.create_experiment(
            Experiment(eid, eid, "", "running", (Variant("a"), Variant("b")), True, {}, T0, T0)
        )
        store.write_daily(eid, rows(0), "set")
    for plan in service.plan_pages(store, PAGE):
        for exp in plan.changed:
            service.recompute_one(store, exp.id)
    moved = ids[: int(n * changed)]
    for eid in moved:
        store.write_daily(eid, rows(DAYS, 1), "set")
    return moved


def timed(calls: Counter[str], work: Callable[[], object]) -> tuple[float, Counter[str]]:
    calls.clear()
    started = time.perf_counter()
    work()
    return (time.perf_counter() - started) * 1000, Counter(calls)


def measure(
    make: Callable[[Counter[str]], Any], n: int, changed: float, sample: int
) -> dict[str, Any]:
    calls: Counter[str] = Counter()
    with make(calls) as store:
        moved = seed(store, n, changed)
        found: list[str] = []

        def plan() -> None:
            for page in service.plan_pages(store, PAGE):
                found.extend(e.id for e in page.changed)

        plan_ms, plan_calls = timed(calls, plan)
        assert sorted(found) == sorted(moved), "the plan must find exactly the changed ones"
        some = moved[:sample]

        def work() -> None:
            for eid in some:
                outcome, written = service.recompute_one(store, eid)
                assert (outcome, written) == ("recomputed", True)

        work_ms, work_calls = timed(calls, work)
    return {
        "n": n,
        "changed": len(moved),
        "plan_ms_per_exp": plan_ms / n,
        "plan_calls_per_exp": sum(plan_calls.values()) / n,
        "plan_calls": dict(plan_calls),
        "work_ms_per_exp": work_ms / len(some),
        "work_calls_per_exp": sum(work_calls.values()) / len(some),
        "work_calls": {k: v / len(some) for k, v in work_calls.items()},
    }


def projection(cpu: dict[str, Any], ddb: dict[str, Any], concurrency: int) -> list[str]:
    """Wall time of one run over PROJECTED experiments on AWS, for several shares changed."""
    plan_latency = PROJECTED / PAGE * LATENCY_MS["Query"]
    work_latency = sum(LATENCY_MS.get(k, 10.0) * v for k, v in ddb["work_calls"].items())
    lines = [
        "| changed | planner (s) | workers (s) | run (s) | within 1 h |",
        "|---:|---:|---:|---:|:---:|",
    ]
    for share in (0.01, 0.1, 1.0):
        changed = PROJECTED * share
        planner = (
            PROJECTED * cpu["plan_ms_per_exp"] + plan_latency + changed / 10 * SQS_SEND_MS
        ) / 1000
        per_exp = cpu["work_ms_per_exp"] + work_latency
        workers = changed * per_exp / concurrency / 1000
        run = max(planner, workers)  # the workers start on the first page's messages
        lines.append(
            f"| {share:.0%} | {planner:.0f} | {workers:.0f} | {run:.0f} | "
            f"{'yes' if run < 3600 else 'NO'} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--moto-size", type=int, default=200)
    parser.add_argument("--changed", type=float, default=0.1)
    parser.add_argument("--sample", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args()

    results: dict[str, list[dict[str, Any]]] = {"sqlite": [], "dynamodb (moto)": []}
    for n in args.sizes:
        results["sqlite"].append(measure(sqlite_store, n, args.changed, args.sample))
    moto = measure(dynamodb_store, args.moto_size, args.changed, min(args.sample, 20))
    results["dynamodb (moto)"].append(moto)

    print("## Per experiment: planner (every running experiment) and worker (changed ones)\n")
    print(
        "| backend | N | changed | planner ms | planner calls | worker ms | worker calls |"
        " worker calls by kind |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for backend, rows_ in results.items():
        for r in rows_:
            kinds = ", ".join(f"{k} {v:.1f}" for k, v in sorted(r["work_calls"].items()))
            print(
                f"| {backend} | {r['n']:,} | {r['changed']:,} | {r['plan_ms_per_exp']:.3f} | "
                f"{r['plan_calls_per_exp']:.3f} | {r['work_ms_per_exp']:.2f} | "
                f"{r['work_calls_per_exp']:.1f} | {kinds} |"
            )
    largest_cpu, largest_ddb = results["sqlite"][-1], results["dynamodb (moto)"][-1]
    unchanged = largest_ddb["plan_calls_per_exp"]
    print(
        f"\nAn unchanged experiment costs the planner {unchanged:.3f} DynamoDB calls (its share "
        f"of one Query per page of {PAGE}; target: at most 1 read) and no worker call."
    )
    print(
        f"\n## Projected on AWS: {PROJECTED:,} running experiments, "
        f"{args.concurrency} concurrent workers\n"
    )
    print(
        f"CPU per experiment from SQLite at N = {largest_cpu['n']:,} (planner "
        f"{largest_cpu['plan_ms_per_exp']:.3f} ms, worker {largest_cpu['work_ms_per_exp']:.2f} "
        f"ms); calls per changed experiment from DynamoDB; latencies assumed (ms): "
        + ", ".join(f"{k} {v:g}" for k, v in LATENCY_MS.items())
        + f", SendMessageBatch {SQS_SEND_MS:g}.\n"
    )
    print("\n".join(projection(largest_cpu, largest_ddb, args.concurrency)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
