"""Speed and accuracy of P(best): the engine's grid integration vs a 100k-draw Monte Carlo.

    .venv/bin/python bench/engine_speed.py [--cases 5] [--repeat 200]

For each K, a few random realistic posteriors (rates 3.0–3.6%, 2k–60k trials each) and
a few hard ones. Errors are the largest |P(best) − reference| over the variants and cases;
the reference integrates ∫ f_k Π F_j with scipy's betainc on a fine 10-point
Gauss–Legendre composite grid (≈1e-10). Times are medians over repeats, same machine,
same run. "P(best)+shares" is the grid plus the guardrails; "allocate()" is the full
public call on daily rows (validation, windowing, statistics, PVR).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Callable
from functools import partial

import numpy as np
from banditkit.engine import DailyCounts, Settings, allocate, guardrails
from banditkit.engine.beta import BetaGrid
from numpy.typing import NDArray
from references import reference_p_best

Array = NDArray[np.float64]
DRAWS = 100_000


def monte_carlo(alpha: Array, beta: Array, rng: np.random.Generator) -> Array:
    draws = rng.beta(alpha, beta, size=(DRAWS, len(alpha)))
    wins = np.bincount(np.argmax(draws, axis=1), minlength=len(alpha))
    out: Array = wins / DRAWS
    return out


def p_best(alpha: Array, beta: Array) -> Array:
    return BetaGrid.build(alpha, beta).p_best()


def p_best_and_shares(alpha: Array, beta: Array, settings: Settings) -> Array:
    p = BetaGrid.build(alpha, beta).p_best()
    return guardrails.shares(p, settings, control=None, previous=None, burn_in=False)


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return float(np.median(times)) * 1e3


def realistic(k: int, seed: int) -> tuple[Array, Array, list[DailyCounts]]:
    rng = np.random.default_rng(seed)
    rates = rng.uniform(0.030, 0.036, k)
    n = rng.integers(2_000, 60_000, k)
    clicks = rng.binomial(n, rates)
    day = dt.date(2026, 1, 1)
    rows = [DailyCounts(day, f"v{i}", int(n[i]), int(clicks[i])) for i in range(k)]
    alpha: Array = (1.0 + clicks).astype(np.float64)
    beta: Array = (1.0 + n - clicks).astype(np.float64)
    return alpha, beta, rows


HARD: dict[str, tuple[list[float], list[float]]] = {
    "α, β ~ 1e9 (3 arms)": ([1e9, 1e9 + 4e4, 1e9 + 2e4], [1e9, 1e9, 1e9]),
    "rates ~ 1e-4 (3 arms)": ([11.0, 15.0, 10.0], [100_001.0, 100_001.0, 100_001.0]),
    "rates ~ 0.9999 (2 arms)": ([999_901.0, 999_881.0], [101.0, 121.0]),
    "Jeffreys, no successes (3)": ([0.5, 0.5, 0.5], [1000.5, 2000.5, 1500.5]),
    "exact ties (4 arms)": ([51.0, 51.0, 51.0, 60.0], [950.0, 950.0, 950.0, 941.0]),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    settings = Settings()
    print(
        f"### P(best) for K variants: engine grid vs {DRAWS:,}-draw Monte Carlo "
        f"({args.cases} posteriors per K, median of {args.repeat} runs)\n"
    )
    print(
        "| K | engine P(best) ms | P(best)+shares ms | allocate() ms | MC ms "
        "| MC / P(best)+shares | engine max error | MC max error |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for k in (2, 5, 10, 20, 50):
        t_grid, t_core, t_alloc, t_mc, err_grid, err_mc = [], [], [], [], 0.0, 0.0
        repeat = args.repeat if k <= 10 else max(args.repeat // 4, 10)
        for case in range(args.cases):
            alpha, beta, rows = realistic(k, 1000 * k + case)
            names = [f"v{i}" for i in range(k)]
            ref = reference_p_best(alpha, beta)
            rng = np.random.default_rng(case)
            err_grid = max(
                err_grid, float(np.max(np.abs(BetaGrid.build(alpha, beta).p_best() - ref)))
            )
            err_mc = max(err_mc, float(np.max(np.abs(monte_carlo(alpha, beta, rng) - ref))))

            t_grid.append(median_ms(partial(p_best, alpha, beta), repeat))
            t_core.append(median_ms(partial(p_best_and_shares, alpha, beta, settings), repeat))
            t_alloc.append(median_ms(partial(allocate, names, rows, settings), repeat))
            t_mc.append(median_ms(partial(monte_carlo, alpha, beta, rng), max(repeat // 20, 5)))
        grid, core_ms, alloc, mc = (float(np.median(t)) for t in (t_grid, t_core, t_alloc, t_mc))
        print(
            f"| {k} | {grid:.3f} | {core_ms:.3f} | {alloc:.3f} | {mc:.1f} | {mc / core_ms:.0f}× "
            f"| {err_grid:.1e} | {err_mc:.1e} |"
        )

    print("\n### Hard posteriors: max |P(best) − reference|\n")
    print("| case | engine error | MC error | engine ms | tied values equal |")
    print("|---|---:|---:|---:|---|")
    for label, (a_list, b_list) in HARD.items():
        alpha, beta = np.array(a_list), np.array(b_list)
        ref = reference_p_best(alpha, beta)
        got = BetaGrid.build(alpha, beta).p_best()
        mc_p = monte_carlo(alpha, beta, np.random.default_rng(0))
        ms = median_ms(partial(p_best, alpha, beta), args.repeat)
        ties = "yes" if label.startswith("exact") and got[0] == got[1] == got[2] else "-"
        print(
            f"| {label} | {np.max(np.abs(got - ref)):.1e} | {np.max(np.abs(mc_p - ref)):.1e} "
            f"| {ms:.3f} | {ties} |"
        )


if __name__ == "__main__":
    main()
