"""How often the watch (engine/rules.py) wakes on a leader whose rate only varies from day
to day, with no change: the cost side of the watch on real traffic.

    .venv/bin/python bench/watch_noise.py [--reps 200]

A leader at 19,975 impressions a day (after an even first day of 10,000 each) with a rate
of 0.05 × exp(N(0, σ)) drawn afresh each day, binomial clicks, and a laggard at 25 a day;
the watch is asked daily from day 7 (a week of history) to day 29. σ = 0 is the
benchmarks' binomial traffic; real daily rates often vary by 5–10%.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Sequence

import numpy as np
from banditkit.engine import DailyCounts, Settings, rules
from banditkit.engine.posterior import count

START = dt.date(2026, 1, 5)  # a Monday


def run(sigma: float, seed: int) -> list[bool]:
    """Per day from day 7 on, whether the watch is awake."""
    rng = np.random.default_rng(seed)
    rows: list[DailyCounts] = []
    awake = []
    for t in range(30):
        rate = 0.05 * float(np.exp(rng.normal(0.0, sigma)))
        n = (10_000, 10_000) if t == 0 else (19_975, 25)
        day = START + dt.timedelta(days=t)
        rows.append(DailyCounts(day, "lead", n[0], int(rng.binomial(n[0], rate))))
        rows.append(DailyCounts(day, "lag", n[1], int(rng.binomial(n[1], 0.04))))
        if t >= 7:
            awake.append(rules.leader_fell(count(["lead", "lag"], rows, Settings()), 0))
    return awake


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    args = parser.parse_args(argv)
    print(f"#### The watch on a leader with no change, 30 days (R = {args.reps})\n")
    print("| day-to-day σ of the rate | days awake (of days 7–29) | runs ever awake |")
    print("|---|---:|---:|")
    for sigma in (0.0, 0.02, 0.05, 0.10):
        runs = [run(sigma, seed) for seed in range(args.reps)]
        days = float(np.mean([np.mean(r) for r in runs]))
        ever = float(np.mean([any(r) for r in runs]))
        print(f"| {sigma:.2f} | {days:.1%} | {ever:.0%} |")


if __name__ == "__main__":
    main()
