"""Regret of the engine's defaults against ideal batched Thompson sampling and the old
defaults, in daily-batch simulations.

    .venv/bin/python bench/regret.py [--reps 100] [--scenario button ...] [--frontier] [--mc]
    .venv/bin/python bench/regret.py --sharpened [--defaults] [--reps 300] [--jobs 2]

`--sharpened` prints the tables of the sharpened allocation rule against Thompson
sampling instead (bench/regret_sharpened.py; R = 300 unless --reps says otherwise).

Each replication fixes one stream of uniforms per (day, variant); every policy turns
its impressions into clicks through the binomial inverse CDF of the same uniforms
(common random numbers), and impressions are split deterministically by the shares,
so policies differ only by their decisions. Regret is expected clicks lost against
always showing the best variant available that day: Σ_days Σ_k n_k (max_j p_j − p_k).
No control is declared (the control floor is the user's choice and costs what it says).

"ideal Thompson" is batched Thompson sampling with the exact P(best) of Beta(1, 1)
posteriors as the shares and no guardrails; "old defaults" is the engine before
per-variant burn-in (flat prior, burn-in on 1000 impressions in total, a fixed 5%
exploration, no damping); "engine, defaults" is `Settings()` today.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from types import ModuleType

import numpy as np
from banditkit.engine import Allocation, DailyCounts, Settings, allocate
from banditkit.engine import rules as engine_rules
from banditkit.engine.beta import BetaGrid
from banditkit.engine.guardrails import round_shares
from banditkit.engine.sharpen import LOOKBACK_DAYS
from numpy.typing import NDArray
from scipy import stats

Array = NDArray[np.float64]
START = dt.date(2026, 1, 5)  # a Monday: day d is weekday d % 7
WEEK_RATES = (1.0, 1.0, 0.95, 0.95, 0.9, 1.25, 1.3)  # Mon..Sun: weekend visitors click more
WEEK_TRAFFIC = (1.15, 1.15, 1.1, 1.05, 1.0, 0.75, 0.8)  # ... but there are fewer of them


@dataclass(frozen=True)
class Scenario:
    name: str
    rates: tuple[float, ...]
    daily: int
    days: int
    change_day: int | None = None  # from this day on the rates are reversed
    added_day: int | None = None  # the last variant exists from this day on
    weekly: bool = False  # WEEK_RATES and WEEK_TRAFFIC apply
    description: str = ""

    @property
    def stationary(self) -> bool:
        return self.change_day is None and self.added_day is None

    def active(self, day: int) -> int:
        """How many variants (the first ones) exist on this day."""
        k = len(self.rates)
        return k - 1 if self.added_day is not None and day < self.added_day else k

    def truth(self, day: int) -> Array:
        rates = np.array(self.rates)
        if self.change_day is not None and day >= self.change_day:
            rates = rates[::-1].copy()
        if self.weekly:
            rates = rates * WEEK_RATES[day % 7]
        return rates[: self.active(day)]

    def traffic(self, day: int) -> int:
        return round(self.daily * WEEK_TRAFFIC[day % 7]) if self.weekly else self.daily


SCENARIOS = (
    Scenario("button", (0.070, 0.095), 10_000, 30, description="0.070 vs 0.095"),
    Scenario("close", (0.050, 0.0525), 20_000, 60, description="0.050 vs 0.0525"),
    Scenario("many", tuple(np.linspace(0.030, 0.045, 8)), 50_000, 30, description="8 in .030-.045"),
    Scenario("null", (0.04, 0.04, 0.04), 20_000, 30, description="3 x 0.04"),
    Scenario("weekly", (0.040, 0.044), 10_000, 42, weekly=True, description="0.040 vs 0.044, "
             "rates and traffic by weekday"),
    Scenario("low traffic", (0.050, 0.065), 300, 60, description="0.050 vs 0.065"),
    Scenario("low rate", (0.005, 0.006), 20_000, 30, description="0.005 vs 0.006"),
    Scenario("added worse", (0.050, 0.055, 0.045), 20_000, 30, added_day=10,
             description="0.050 vs 0.055, 0.045 added on day 10"),
    Scenario("added better", (0.050, 0.055, 0.065), 20_000, 30, added_day=10,
             description="0.050 vs 0.055, 0.065 added on day 10"),
    Scenario("drift", (0.050, 0.040), 20_000, 30, change_day=14, description="swap on day 14"),
)  # fmt: skip


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
        m = len(n)
        self.succ[:m] += s
        self.fail[:m] += n - s
        date = START + dt.timedelta(days=day)
        self.rows.extend(DailyCounts(date, f"v{i}", int(n[i]), int(s[i])) for i in range(m))

    def shares(self, k: int) -> Array:
        """Shares of the first k variants (those that exist today)."""
        raise NotImplementedError


class Engine(Policy):
    def __init__(self, name: str, settings: Settings, **constants: float) -> None:
        self.name = name
        self.settings = settings
        self.constants = constants  # engine.rules module constants to try

    def reset(self, k: int, rep: int) -> None:
        super().reset(k, rep)
        self.recent: list[dict[str, float]] = []  # P(best) of the last days, as snapshots

    def shares(self, k: int) -> Array:
        names = [f"v{i}" for i in range(k)]
        with patched(engine_rules, self.constants):
            alloc = allocate(
                names, self.rows, self.settings, previous=self.previous, history=self.recent
            )
        self.previous = alloc.shares
        self.recent = remember(self.recent, alloc)
        return np.array([alloc.shares[v] for v in names])


def remember(recent: list[dict[str, float]], alloc: Allocation) -> list[dict[str, float]]:
    """The history the service gives the sharpened rule: each day's P(best), the last
    LOOKBACK_DAYS (service/engine_runs.history_of reads them from the snapshots)."""
    entry = {v.name: v.p_best for v in alloc.variants}
    return [*recent, entry][-LOOKBACK_DAYS:]


@contextlib.contextmanager
def patched(module: ModuleType, constants: dict[str, float]) -> Iterator[None]:
    """The module's constants set to these values for the duration."""
    saved = {name: getattr(module, name) for name in constants}
    for name, value in constants.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


class IdealThompson(Policy):
    name = "ideal Thompson"

    def shares(self, k: int) -> Array:
        out: Array = BetaGrid.build(1 + self.succ[:k], 1 + self.fail[:k]).p_best()
        return out


class OldDefaults(Policy):
    """The engine's previous defaults, no control: even until 1000 impressions in total,
    then (1 − 0.05)·P(best) + 0.05/K of Beta(1, 1) posteriors."""

    name = "old defaults"

    def shares(self, k: int) -> Array:
        if self.succ[:k].sum() + self.fail[:k].sum() < 1000:
            p = np.full(k, 1.0 / k)
        else:
            p = BetaGrid.build(1 + self.succ[:k], 1 + self.fail[:k]).p_best()
        return round_shares(0.95 * p + 0.05 / k)


class Even(Policy):
    name = "even split"

    def shares(self, k: int) -> Array:
        return np.full(k, 1.0 / k)


class MonteCarloThompson(Policy):
    name = "MC Thompson 100k"

    def shares(self, k: int) -> Array:
        draws = self.rng.beta(1 + self.succ[:k], 1 + self.fail[:k], size=(100_000, k))
        wins = np.bincount(np.argmax(draws, axis=1), minlength=k)
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
    top: list[float] = dataclasses.field(default_factory=list)  # largest share of any day
    seconds: float = 0.0

    @property
    def mean(self) -> float:
        return float(np.mean(self.regret))

    @property
    def se(self) -> float:
        return float(np.std(self.regret, ddof=1) / np.sqrt(len(self.regret)))


def run(scenario: Scenario, policies: Sequence[Policy], reps: int | range) -> dict[str, Outcome]:
    k = len(scenario.rates)
    out = {p.name: Outcome() for p in policies}
    for rep in range(reps) if isinstance(reps, int) else reps:
        uniforms = np.random.default_rng(rep).random((scenario.days, k))
        for policy in policies:
            started = time.perf_counter()
            policy.reset(k, rep)
            regret = 0.0
            top = 0.0
            for day in range(scenario.days):
                truth = scenario.truth(day)
                shares = policy.shares(len(truth))
                top = max(top, float(np.max(shares)))
                n = split(scenario.traffic(day), shares)
                s = stats.binom.ppf(uniforms[day, : len(truth)], n, truth).astype(np.int64)
                policy.observe(day, n, s)
                regret += float(n @ (np.max(truth) - truth))
            result = out[policy.name]
            result.regret.append(regret)
            result.ever_80.append(top >= 0.8)
            result.top.append(top)
            result.seconds += time.perf_counter() - started
    return out


DEFAULTS = "engine, defaults"


def policies_for(scenario: Scenario, *, mc: bool) -> list[Policy]:
    out: list[Policy] = [
        IdealThompson(),
        OldDefaults(),
        Engine(DEFAULTS, Settings()),
        Engine("defaults, allocation_rule thompson", Settings(allocation_rule="thompson")),
        Engine("defaults, exploration fixed", Settings(exploration="fixed")),
        Even(),
    ]
    if mc:
        out.append(MonteCarloThompson())
    return out


# Candidate defaults for the frontier: (null_prior, effect_scale, exploration floor share).
# The chosen defaults are (0.02, 1.0, 0.05).
CANDIDATES = (
    (0.0, 0.1, 0.05),
    (0.5, 0.1, 0.05),
    (0.05, 0.5, 0.05),
    (0.02, 1.0, 0.05),
    (0.005, 2.0, 0.05),
)


def frontier_policies(candidates: Sequence[tuple[float, ...]]) -> list[Policy]:
    """(null_prior, effect_scale, exploration floor share[, ramp-up days])."""
    out: list[Policy] = [IdealThompson(), OldDefaults()]
    for p0, es, fl, *ramp in candidates:
        name = f"null_prior={p0}, effect_scale={es}, floor={fl}"
        constants = {"EXPLORE_FLOOR": fl}
        if ramp:
            name += f", ramp={ramp[0]:g}d"
            constants["RAMP_DAYS"] = ramp[0]
        out.append(Engine(name, Settings(null_prior=p0, effect_scale=es), **constants))
    return out


def table(scenario: Scenario, results: dict[str, Outcome], reps: int) -> str:
    ideal = results[IdealThompson.name].mean
    old = results[OldDefaults.name].mean
    head = (
        f"#### {scenario.name}: {scenario.description}; {scenario.daily:,}/day; "
        f"{scenario.days} days; R = {reps}\n\n"
        "| policy | mean regret (clicks) | ± s.e. | × ideal Thompson | × old defaults "
        "| runs with a variant ever ≥ 80% | s per run |\n|---|---:|---:|---:|---:|---:|---:|\n"
    )
    lines = []
    for name, res in results.items():
        lines.append(
            f"| {name} | {res.mean:,.1f} | {res.se:,.1f} | "
            f"{res.mean / ideal if ideal else float('nan'):.3f} | "
            f"{res.mean / old if old else float('nan'):.3f} | "
            f"{np.mean(res.ever_80):.0%} | {res.seconds / len(res.regret):.2f} |"
        )
    return head + "\n".join(lines) + "\n"


def verdict(scenario: Scenario, results: dict[str, Outcome], name: str) -> str:
    """The cell of the frontier: the target's figure for this scenario, and whether it holds."""
    res = results[name]
    if scenario.name == "null":
        share = float(np.mean(res.ever_80))
        return f"{share:.0%} {'ok' if share <= 0.20 else 'MISS'}"
    if scenario.stationary:
        ratio = res.mean / results[IdealThompson.name].mean
        return f"{ratio:.2f}× {'ok' if ratio <= 1.15 else 'MISS'}"
    ratio = res.mean / results[OldDefaults.name].mean
    return f"{ratio:.2f}× old {'ok' if ratio <= 1.0 + 2 * res.se / res.mean else 'MISS'}"


def frontier(rows: dict[str, dict[str, str]], scenarios: Sequence[Scenario]) -> str:
    head = "| candidate | " + " | ".join(s.name for s in scenarios) + " |\n"
    head += "|---|" + "---:|" * len(scenarios) + "\n"
    return head + "\n".join(
        f"| {name} | " + " | ".join(cells[s.name] for s in scenarios) + " |"
        for name, cells in rows.items()
    )


TARGETS = (
    "Targets: stationary scenarios ≤ 1.15× ideal Thompson; null: a variant ever ≥ 80% "
    "in ≤ 20% of runs; drift and added variants: no worse than the old defaults "
    "(within 2 s.e.)."
)


def main(
    argv: Sequence[str] | None = None, extra: Callable[[Scenario], list[Policy]] | None = None
) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, help="replications (100; 300 with --sharpened)")
    parser.add_argument("--scenario", action="append", help="only these scenarios")
    parser.add_argument("--frontier", action="store_true", help="candidate defaults instead")
    parser.add_argument("--candidates", help="null_prior:effect_scale:floor,... to try instead")
    parser.add_argument("--mc", action="store_true", help="add a 100k-draw Monte Carlo Thompson")
    parser.add_argument("--sharpened", action="store_true", help="sharpened vs Thompson instead")
    parser.add_argument("--defaults", action="store_true", help="--sharpened on Settings()")
    parser.add_argument("--jobs", type=int, default=1, help="--sharpened: processes")
    parser.add_argument(
        "--candidate",
        action="append",
        default=[],
        help="--sharpened: an extra row with engine.sharpen constants, e.g. POWER=6:DATA_GAIN=0.05",
    )
    args = parser.parse_args(argv)
    if args.sharpened:
        from regret_sharpened import main as sharpened  # it imports this module

        sharpened(args.reps or 300, args.jobs, args.defaults, args.scenario, args.candidate)
        return
    args.reps = args.reps or 100
    unknown = set(args.scenario or ()) - {s.name for s in SCENARIOS}
    if unknown:
        parser.error(f"--scenario: no scenario {', '.join(sorted(unknown))}")
    chosen = [s for s in SCENARIOS if not args.scenario or s.name in args.scenario]
    cells: dict[str, dict[str, str]] = {}
    for scenario in chosen:
        if args.frontier:
            candidates: Sequence[tuple[float, ...]] = CANDIDATES
            if args.candidates:
                candidates = [tuple(map(float, c.split(":"))) for c in args.candidates.split(",")]
            policies = frontier_policies(candidates)
        else:
            policies = policies_for(scenario, mc=args.mc) + (extra(scenario) if extra else [])
        results = run(scenario, policies, args.reps)
        print(table(scenario, results, args.reps), flush=True)
        for policy in policies:
            if isinstance(policy, Engine):
                cells.setdefault(policy.name, {})[scenario.name] = verdict(
                    scenario, results, policy.name
                )
    print(f"#### Against the targets, R = {args.reps}\n")
    print(frontier(cells, chosen))
    print("\n" + TARGETS)


if __name__ == "__main__":
    main()
