"""Drift detection rates and the regret of on_drift = "discount", in daily-batch simulations.

    .venv/bin/python bench/signals.py [--reps 100] [--jobs 2] [--scenario drift ...] [--watch-off]

Each replication fixes one stream of uniforms per (day, variant); every policy turns its
impressions into successes through the binomial inverse CDF of the same uniforms (common
random numbers), and impressions are split deterministically by the shares, so policies
differ only by their decisions. Rates and traffic follow a day-of-week pattern where the
scenario says so (the same multiplier for every variant). Each day the engine allocates
on the data so far; the drift test (engine/drift.py) runs on the same data, as the API
does at every read. A run "fires" when the test suspects a change on any day of it.
Regret is expected successes lost against the best variant of the day. `--watch-off`
switches the engine's watch off (engine/rules.py WATCH_Z = 0) for an ablation; `--jobs`
runs scenarios in parallel processes (results do not depend on it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from banditkit.engine import DailyCounts, Settings, allocate, drift, rules
from banditkit.engine.posterior import count
from numpy.typing import NDArray
from regret import remember, split
from scipy import stats

Array = NDArray[np.float64]
START = dt.date(2026, 1, 5)  # a Monday
WEEK_RATE = np.array([1.0, 0.95, 0.95, 1.0, 1.1, 1.35, 1.3])  # Mon..Sun
WEEK_TRAFFIC = np.array([1.0, 1.05, 1.05, 1.0, 0.9, 0.6, 0.7])


@dataclass(frozen=True)
class Scenario:
    name: str
    rates: tuple[float, ...]
    daily: int
    days: int = 30
    weekly: bool = True
    change_day: int | None = None  # from this day on the rates are reversed
    description: str = ""

    def truth(self, day: int) -> Array:
        rates = np.array(self.rates)
        if self.change_day is not None and day >= self.change_day:
            rates = rates[::-1].copy()
        return rates * (WEEK_RATE[day % 7] if self.weekly else 1.0)

    def traffic(self, day: int) -> int:
        return round(self.daily * float(WEEK_TRAFFIC[day % 7] if self.weekly else 1.0))


STATIONARY = (
    Scenario("two", (0.050, 0.055), 20_000, description="0.050 vs 0.055"),
    Scenario("null", (0.04, 0.04, 0.04), 20_000, description="3 x 0.04"),
    Scenario("many", tuple(np.linspace(0.030, 0.045, 6)), 50_000, description="6 in .030-.045"),
    Scenario("low traffic", (0.030, 0.036), 500, description="0.030 vs 0.036, 500/day"),
    Scenario("low rate", (0.004, 0.005), 40_000, description="0.004 vs 0.005"),
    Scenario("no pattern", (0.050, 0.055), 20_000, weekly=False, description="flat week"),
)
DRIFT = (
    Scenario("drift", (0.050, 0.040), 20_000, weekly=False, change_day=14, description="swap"),
    Scenario("drift weekly", (0.050, 0.040), 20_000, change_day=14, description="swap + week"),
)


ALPHAS = (3e-4, 1e-3, 3e-3, 1e-2)


@dataclass
class Run:
    regret: float
    p_values: list[float]  # per day (0-based, data through that day): the smallest p

    def fired(self, alpha: float = drift.ALPHA) -> list[int]:
        return [day for day, p in enumerate(self.p_values) if p < alpha]


def smallest_p(names: list[str], rows: list[DailyCounts]) -> float:
    found = drift.detect(count(names, rows, Settings()))
    return min((d.p_value for d in found), default=1.0)


def run_once(scenario: Scenario, settings: Settings | None, uniforms: Array) -> Run:
    """One replication: settings None is an even split."""
    k = len(scenario.rates)
    names = [f"v{i}" for i in range(k)]
    rows: list[DailyCounts] = []
    previous: dict[str, float] | None = None
    recent: list[dict[str, float]] = []
    regret = 0.0
    p_values: list[float] = []
    for day in range(scenario.days):
        if settings is None:
            shares = np.full(k, 1.0 / k)
        else:
            alloc = allocate(names, rows, settings, previous=previous, history=recent)
            previous = alloc.shares
            recent = remember(recent, alloc)
            shares = np.array([alloc.shares[v] for v in names])
        truth = scenario.truth(day)
        n = split(scenario.traffic(day), shares)
        s = stats.binom.ppf(uniforms[day], n, truth).astype(np.int64)
        regret += float(n @ (float(np.max(truth)) - truth))
        date = START + dt.timedelta(days=day)
        rows.extend(DailyCounts(date, names[i], int(n[i]), int(s[i])) for i in range(k))
        p_values.append(smallest_p(names, rows))
    return Run(regret, p_values)


POLICIES: tuple[tuple[str, Settings | None], ...] = (
    ("engine, defaults (pooled)", Settings()),
    ('engine, on_drift="discount"', Settings(on_drift="discount")),
    ("engine, half_life_days=7 by hand", Settings(half_life_days=7.0)),
    ("even split", None),
)


def simulate(scenario: Scenario, reps: int, watch_off: bool = False) -> dict[str, list[Run]]:
    if watch_off:
        rules.WATCH_Z = 0.0
    out: dict[str, list[Run]] = {name: [] for name, _ in POLICIES}
    for rep in range(reps):
        uniforms = np.random.default_rng(rep).random((scenario.days, len(scenario.rates)))
        for name, settings in POLICIES:
            out[name].append(run_once(scenario, settings, uniforms))
    return out


def _se(p: float, reps: int) -> float:
    return float(np.sqrt(p * (1 - p) / reps))


def detection_table(results: dict[str, dict[str, list[Run]]], reps: int) -> None:
    pooled, discount = POLICIES[0][0], POLICIES[1][0]
    heads = " | ".join(f"α = {a:g}" + (" (chosen)" if a == drift.ALPHA else "") for a in ALPHAS)
    print(f"\n#### Stationary data: runs where the test fires on any day of 30 (R = {reps})\n")
    print("pooled engine's allocations; ± one standard error\n")
    print(f"| scenario | | {heads} |")
    print("|---|---|" + "---|" * len(ALPHAS))
    for sc in STATIONARY:
        cells = []
        for a in ALPHAS:
            rate = float(np.mean([bool(r.fired(a)) for r in results[sc.name][pooled]]))
            cells.append(f"{rate:.1%} ± {_se(rate, reps):.1%}")
        print(f"| {sc.name} | {sc.description} | " + " | ".join(cells) + " |")
    print(f"\n#### Drift scenarios, change on day 14 of 30: fired within 5 days (R = {reps})\n")
    print("(fired before the change in brackets; the discount engine is identical until then)\n")
    print(f"| scenario | {heads} | median delay at the chosen α |")
    print("|---|" + "---|" * len(ALPHAS) + "---|")
    for sc in DRIFT:
        change = sc.change_day
        assert change is not None
        runs = results[sc.name][pooled]
        cells = []
        for a in ALPHAS:
            early = float(np.mean([any(d < change for d in r.fired(a)) for r in runs]))
            within = float(
                np.mean([any(change <= d < change + 5 for d in r.fired(a)) for r in runs])
            )
            cells.append(f"{within:.1%} ± {_se(within, reps):.1%} ({early:.0%})")
        delays = [min((d - change + 1 for d in r.fired() if d >= change), default=99) for r in runs]
        print(f"| {sc.name} | " + " | ".join(cells) + f" | {np.median(delays):.0f} days |")
    runs = results[DRIFT[0].name][discount]
    share = np.mean([bool(r.fired()) for r in runs])
    print(f"\n(discount engine on {DRIFT[0].name}: {share:.0%} of runs fired)")


def regret_table(results: dict[str, dict[str, list[Run]]], reps: int) -> None:
    print(f"\n#### Regret: ratio to the pooled engine, same replications (R = {reps})\n")
    names = [name for name, _ in POLICIES]
    print("| scenario | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for sc in (*DRIFT, *STATIONARY):
        base = np.array([r.regret for r in results[sc.name][names[0]]])
        cells = []
        for name in names:
            reg = np.array([r.regret for r in results[sc.name][name]])
            if base.mean() == 0:  # equal rates: no regret to compare
                cells.append("0" if name == names[0] else f"{reg.mean():.0f}")
                continue
            ratio = reg.mean() / base.mean()
            # standard error of the ratio of means (delta method, paired replications)
            d = reg - ratio * base
            se = float(d.std(ddof=1) / np.sqrt(reps) / base.mean())
            cells.append(f"{ratio:.2f} ± {se:.2f}" if name != names[0] else f"{base.mean():.0f}")
        print(f"| {sc.name} | " + " | ".join(cells) + " |")
    print("\n(first column: the pooled engine's mean regret in successes)")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=100)
    parser.add_argument("--scenario", nargs="*", default=None)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--watch-off", action="store_true", help="ablation: no watch")
    args = parser.parse_args(argv)
    chosen = [s for s in (*STATIONARY, *DRIFT) if args.scenario is None or s.name in args.scenario]
    jobs = [(sc, args.reps, args.watch_off) for sc in chosen]
    if args.jobs > 1:
        with multiprocessing.Pool(args.jobs) as pool:
            runs = pool.starmap(simulate, jobs)
    else:
        runs = [simulate(*job) for job in jobs]
    results = {sc.name: r for sc, r in zip(chosen, runs, strict=True)}
    if all(s.name in results for s in (*STATIONARY, *DRIFT)):
        detection_table(results, args.reps)
        regret_table(results, args.reps)
    else:
        for sc in chosen:
            for policy, found in results[sc.name].items():
                fired = np.mean([bool(r.fired()) for r in found])
                change = sc.change_day
                soon = (
                    np.mean([any(change <= d < change + 5 for d in r.fired()) for r in found])
                    if change is not None
                    else float("nan")
                )
                reg = np.mean([r.regret for r in found])
                print(
                    f"{sc.name:14} {policy:36} fired {fired:6.1%} within 5 days {soon:6.1%} "
                    f"regret {reg:8.0f}"
                )


if __name__ == "__main__":
    main()
