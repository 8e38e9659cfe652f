"""Regret of the engine against simple and legacy allocators in daily-batch simulations.

    .venv/bin/python bench/regret.py [--reps 30] [--scenario button ...]

Each replication fixes one stream of uniforms per (day, variant); every policy turns
its impressions into clicks through the binomial inverse CDF of the same uniforms
(common random numbers), and impressions are split deterministically by the shares,
so policies differ only by their decisions. Regret is expected clicks lost against
always showing the best variant of the day: Σ_days Σ_k n_k (max_j p_j − p_k).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from banditkit.engine import DailyCounts, Settings, allocate
from numpy.typing import NDArray
from scipy import stats

Array = NDArray[np.float64]
START = dt.date(2026, 1, 1)


@dataclass(frozen=True)
class Scenario:
    name: str
    rates: tuple[float, ...]
    daily: int
    days: int
    change_day: int | None = None  # from this day on the rates are reversed
    description: str = ""

    def truth(self, day: int) -> Array:
        rates = np.array(self.rates)
        if self.change_day is not None and day >= self.change_day:
            return rates[::-1].copy()
        return rates


SCENARIOS = (
    Scenario("button", (0.070, 0.095), 10_000, 30, description="0.070 vs 0.095"),
    Scenario("close", (0.050, 0.0525), 20_000, 60, description="0.050 vs 0.0525"),
    Scenario("many", tuple(np.linspace(0.030, 0.045, 8)), 50_000, 30, description="8 in .030-.045"),
    Scenario("null", (0.04, 0.04, 0.04), 20_000, 30, description="3 x 0.04"),
    Scenario("drift", (0.050, 0.040), 20_000, 30, change_day=14, description="swap on day 14"),
)


class Policy:
    """Shares for the next day from the history so far."""

    name = "policy"

    def reset(self, k: int, rep: int) -> None:
        self.k = k
        self.rows: list[DailyCounts] = []
        self.succ = np.zeros(k)
        self.fail = np.zeros(k)
        self.rng = np.random.default_rng(10_000 + rep)
        self.previous: dict[str, float] | None = None

    def observe(self, day: int, n: NDArray[np.int64], s: NDArray[np.int64]) -> None:
        self.succ += s
        self.fail += n - s
        date = START + dt.timedelta(days=day)
        self.rows.extend(DailyCounts(date, f"v{i}", int(n[i]), int(s[i])) for i in range(self.k))

    def shares(self) -> Array:
        raise NotImplementedError


class Engine(Policy):
    def __init__(self, name: str, settings: Settings, *, control: bool) -> None:
        self.name = name
        self.settings = settings
        self.control = control

    def shares(self) -> Array:
        names = [f"v{i}" for i in range(self.k)]
        alloc = allocate(
            names,
            self.rows,
            self.settings,
            control="v0" if self.control else None,
            previous=self.previous,
        )
        self.previous = alloc.shares
        return np.array([alloc.shares[v] for v in names])


class Even(Policy):
    name = "even split"

    def shares(self) -> Array:
        return np.full(self.k, 1.0 / self.k)


class EpsilonGreedy(Policy):
    name = "epsilon-greedy 0.1"

    def shares(self) -> Array:
        mean = (1 + self.succ) / (2 + self.succ + self.fail)
        best = mean == np.max(mean)
        out: Array = 0.1 / self.k + 0.9 * best / best.sum()
        return out


class OneDraw(Policy):
    name = "one draw + 5% (old)"

    def shares(self) -> Array:
        draw = self.rng.beta(1 + self.succ, 1 + self.fail)
        out: Array = 0.95 * draw / draw.sum() + 0.05 / self.k
        return out


class MonteCarloThompson(Policy):
    name = "MC Thompson 100k"

    def shares(self) -> Array:
        draws = self.rng.beta(1 + self.succ, 1 + self.fail, size=(100_000, self.k))
        wins = np.bincount(np.argmax(draws, axis=1), minlength=self.k)
        out: Array = wins / wins.sum()
        return out


def split(total: int, shares: Array) -> NDArray[np.int64]:
    """Impressions per variant: shares × total rounded by largest remainders."""
    raw = shares / shares.sum() * total
    n = np.floor(raw).astype(np.int64)
    n[np.argsort(-(raw - n), kind="stable")[: total - int(n.sum())]] += 1
    out: NDArray[np.int64] = n
    return out


@dataclass
class Outcome:
    regret: list[float] = dataclasses.field(default_factory=list)
    ever_80: list[bool] = dataclasses.field(default_factory=list)
    seconds: float = 0.0


def run(scenario: Scenario, policies: Sequence[Policy], reps: int) -> dict[str, Outcome]:
    k = len(scenario.rates)
    out = {p.name: Outcome() for p in policies}
    for rep in range(reps):
        uniforms = np.random.default_rng(rep).random((scenario.days, k))
        for policy in policies:
            started = time.perf_counter()
            policy.reset(k, rep)
            regret = 0.0
            top = 0.0
            for day in range(scenario.days):
                truth = scenario.truth(day)
                shares = policy.shares()
                top = max(top, float(np.max(shares)))
                n = split(scenario.daily, shares)
                s = stats.binom.ppf(uniforms[day], n, truth).astype(np.int64)
                policy.observe(day, n, s)
                regret += float(n @ (np.max(truth) - truth))
            result = out[policy.name]
            result.regret.append(regret)
            result.ever_80.append(top >= 0.8)
            result.seconds += time.perf_counter() - started
    return out


GUARDRAILS_OFF = Settings(min_explore_rate=0.0, control_floor=0.0, min_impressions=0)


def policies_for(scenario: Scenario) -> list[Policy]:
    out: list[Policy] = [
        Engine("engine, guardrails off", GUARDRAILS_OFF, control=False),
        Engine("engine, defaults", Settings(), control=True),
        Even(),
        EpsilonGreedy(),
        OneDraw(),
        MonteCarloThompson(),
    ]
    out += [
        Engine("engine, defaults + null_prior=0.5", Settings(null_prior=0.5), control=True),
        Engine(
            "engine, defaults + null_prior=0.1, effect_scale=0.2",
            Settings(null_prior=0.1, effect_scale=0.2),
            control=True,
        ),
    ]
    if scenario.name == "drift":
        out += [
            Engine("engine, half_life_days=2", Settings(half_life_days=2.0), control=True),
            Engine("engine, half_life_days=4", Settings(half_life_days=4.0), control=True),
        ]
    return out


def table(scenario: Scenario, results: dict[str, Outcome], reps: int) -> str:
    mc = float(np.mean(results["MC Thompson 100k"].regret))
    pooled = float(np.mean(results["engine, defaults"].regret))
    head = (
        f"### {scenario.name}: {scenario.description}; {scenario.daily:,}/day; "
        f"{scenario.days} days; R = {reps}\n\n"
        "| policy | mean regret (clicks) | ± s.e. | × MC Thompson | × engine defaults "
        "| runs with a variant ever ≥ 80% | s per run |\n|---|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for name, res in results.items():
        r = np.array(res.regret)
        lines.append(
            f"| {name} | {r.mean():,.1f} | {r.std(ddof=1) / np.sqrt(len(r)):,.1f} | "
            f"{r.mean() / mc if mc else float('nan'):.3f} | "
            f"{r.mean() / pooled if pooled else float('nan'):.3f} | "
            f"{np.mean(res.ever_80):.0%} | {res.seconds / len(r):.2f} |"
        )
    return head + "\n".join(lines) + "\n"


def main(
    argv: Sequence[str] | None = None, extra: Callable[[Scenario], list[Policy]] | None = None
) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=30)
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS])
    args = parser.parse_args(argv)
    for scenario in SCENARIOS:
        if args.scenario and scenario.name not in args.scenario:
            continue
        policies = policies_for(scenario) + (extra(scenario) if extra else [])
        print(table(scenario, run(scenario, policies, args.reps), args.reps), flush=True)


if __name__ == "__main__":
    main()
