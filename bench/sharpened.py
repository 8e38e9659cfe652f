"""Sharpened allocation against Thompson sampling in daily-batch simulations.

    .venv/bin/python bench/sharpened.py [--reps 300] [--jobs 2] [--scenario null ...]
    .venv/bin/python bench/sharpened.py --defaults   # the engine's default guardrails on

Each day the engine allocates on the data so far (allocation_rule "thompson" or
"sharpened", the sharpened one fed the last 7 days of P(best) as the service feeds it
from its snapshots), the day's impressions are split by the shares (largest remainders)
and turned into clicks through the binomial inverse CDF of one uniform per (day,
variant) that every policy of the replication shares (common random numbers), so
policies differ only by their decisions. Regret is expected clicks lost against always
showing the best variant of the day. Without --defaults the guardrails are off
(min_explore_rate = control_floor = min_impressions = 0), so "thompson" is exactly
batched Thompson sampling and the extra "sharpened, floor f" rows apply the rule with
a floor under the laggards' shares (FLOORS), candidates for cutting the tail.

Tables: per scenario the mean regret, its ratio to Thompson (± s.e. from the paired
differences), the share of runs above Thompson's 95th and 99th percentile and above 5×
its mean; on the equal-variants scenario the share of runs in which one variant ever got
≥ 80% and ≥ 95% of a day; then the targets.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
from banditkit.engine import Allocation, DailyCounts, Settings, allocate, guardrails
from banditkit.engine import sharpen as rule
from banditkit.engine.beta import BetaGrid
from numpy.typing import NDArray
from scipy import stats

Array = NDArray[np.float64]
START = dt.date(2026, 1, 5)  # a Monday: day t is weekday t % 7
WEEK = np.array([1.0, 1.0, 1.0, 1.0, 0.95, 0.6, 0.5])  # traffic and rate factor, Mon..Sun


@dataclass(frozen=True)
class Scenario:
    name: str
    rates: tuple[float, ...]
    daily: int
    days: int
    description: str
    change_day: int | None = None  # from this day on the rates are reversed
    weekly: bool = False  # traffic × WEEK[weekday]; rates × (0.8 + 0.2·WEEK[weekday])

    def truth(self, day: int) -> Array:
        rates = np.array(self.rates)
        if self.change_day is not None and day >= self.change_day:
            rates = rates[::-1].copy()
        if self.weekly:
            rates = rates * (0.8 + 0.2 * WEEK[day % 7])
        return rates

    def traffic(self, day: int) -> int:
        return round(self.daily * WEEK[day % 7]) if self.weekly else self.daily

    @property
    def kind(self) -> str:
        if self.change_day is not None:
            return "drift"
        return "equal" if len(set(self.rates)) == 1 else "stationary"


SCENARIOS = (
    # the public scenarios of bench/regret.py
    Scenario("button", (0.070, 0.095), 10_000, 30, "0.070 vs 0.095"),
    Scenario("close", (0.050, 0.0525), 20_000, 60, "0.050 vs 0.0525"),
    Scenario("many", tuple(np.linspace(0.030, 0.045, 8)), 50_000, 30, "8 in .030-.045"),
    Scenario("null", (0.04, 0.04, 0.04), 20_000, 30, "3 x 0.04 (equal)"),
    Scenario("drift", (0.050, 0.040), 20_000, 30, "0.050 vs 0.040, swapped on day 14", 14),
    # our own
    Scenario("low-traffic", (0.040, 0.050, 0.045), 600, 60, "0.040/0.050/0.045"),
    Scenario("low-base", (0.0040, 0.0050, 0.0045), 40_000, 45, "3 at 0.4-0.5%"),
    Scenario("near-ties", (0.050, 0.051, 0.052, 0.0525, 0.053), 30_000, 40, "5 within 6%"),
    Scenario("eleven", tuple(np.linspace(0.020, 0.030, 11)), 40_000, 30, "11 in .020-.030 (many)"),
    Scenario("weekly", (0.040, 0.044, 0.046), 15_000, 42, "3 variants, weekends 0.5x", weekly=True),
)

GUARDRAILS_OFF = Settings(  # plain batched Thompson: flat prior, no damping, floors or burn-in
    alpha_prior=1.0,
    beta_prior=1.0,
    null_prior=0.0,
    min_explore_rate=0.0,
    control_floor=0.0,
    min_impressions=0,
)


def names(k: int) -> list[str]:
    return [f"v{i}" for i in range(k)]


class Policy:
    """Shares for the next day from the history so far.

    With the guardrails on, through engine.allocate. With them off the engine's shares are
    its P(best), sharpened or not, rounded; computing just that from the running counts
    (BetaGrid.p_best, sharpen.sharpen, guardrails.round_shares: the engine's own
    functions) is ~5x faster than allocate's full evidence, and `check` asserts, day by
    day, that it gives allocate's shares exactly.
    """

    def __init__(
        self, name: str, settings: Settings, *, fast: bool, floor: str | None = None
    ) -> None:
        self.name = name
        self.settings = settings
        self.fast = fast
        self.floor = floor  # the rule with this floor instead of the engine's (FLOORS)
        self.check = False

    def reset(self, k: int) -> None:
        self.k = k
        self.rows: list[DailyCounts] = []
        self.recent: list[dict[str, float]] = []  # P(best) of the last 7 days
        self.previous: dict[str, float] | None = None
        self.n = np.zeros(k)
        self.s = np.zeros(k)
        self.days = 0

    def shares(self) -> Array:
        earlier = self.recent
        if self.fast:
            out, p_best = self._fast(earlier)
        if not self.fast or self.check:
            alloc = self._engine(earlier)
            p_engine = np.array([v.p_best for v in alloc.variants])
            engine_out = np.array([alloc.shares[v] for v in names(self.k)])
            if self.fast and self.floor is None:
                assert np.array_equal(out, engine_out), (out, engine_out)
                assert np.array_equal(p_best, p_engine), (p_best, p_engine)
            out, p_best = engine_out, p_engine
        recent = {v: float(p) for v, p in zip(names(self.k), p_best, strict=True)}
        self.recent = [*earlier, recent][-rule.LOOKBACK_DAYS :]
        return out

    def _engine(self, earlier: list[dict[str, float]]) -> Allocation:
        variants = names(self.k)
        control = None if self.settings.control_floor == 0.0 else "v0"
        alloc = allocate(
            variants, self.rows, self.settings, control=control, previous=self.previous,
            history=earlier,
        )  # fmt: skip
        self.previous = alloc.shares
        return alloc

    def _fast(self, earlier: list[dict[str, float]]) -> tuple[Array, Array]:
        p_best = BetaGrid.build(1.0 + self.s, 1.0 + self.n - self.s).p_best()
        if self.settings.allocation_rule == "thompson" and self.floor is None:
            return guardrails.round_shares(p_best), p_best
        daily = self.n.sum() / max(self.days, 1)
        recent = rule.recent_matrix(names(self.k), earlier)
        if self.floor is None:
            out = rule.sharpen(p_best, p_best, recent, self.n, daily)
            return guardrails.round_shares(out), p_best
        out = rule.sharpen(p_best, p_best, recent, self.n, daily)
        kind, value = self.floor.split(":")
        leader = int(np.argmax(p_best))
        out = np.maximum(out, floor_of(kind, float(value), p_best, self.n, daily))
        out[leader] = 0.0
        out[leader] = max(0.0, 1.0 - float(out.sum()))
        return guardrails.round_shares(out), p_best

    def observe(self, day: int, n: NDArray[np.int64], s: NDArray[np.int64]) -> None:
        if not self.fast or self.check:
            date = START + dt.timedelta(days=day)
            self.rows.extend(
                DailyCounts(date, f"v{i}", int(n[i]), int(s[i])) for i in range(self.k)
            )
        self.n += n
        self.s += s
        self.days += 1


# Candidate floors for the laggards' sharpened shares, each at most the Thompson share p:
# "info:r" a share that adds r of the variant's data a day, "share:s" an absolute share s,
# "factor:f" a fraction f of the Thompson share (a bound on the shrink factor), "ratio:c"
# the full share while the variant has less than c times the leader's data.
FLOORS = ("info", "share", "factor", "ratio")


def floor_of(kind: str, value: float, p: Array, n: Array, daily: float) -> Array:
    if kind == "info":
        out: Array = np.minimum(p, value * n / daily) if daily > 0 else p
    elif kind == "share":
        out = np.minimum(p, value)
    elif kind == "ratio":  # the full share while its data is below value × the leader's
        out = np.where(n < value * n[int(np.argmax(p))], p, 0.0)
    else:
        out = value * p
    return out


def policies(defaults: bool, floors: Sequence[str]) -> list[Policy]:
    base = Settings() if defaults else GUARDRAILS_OFF
    fast = not defaults
    out = [
        Policy("thompson", base, fast=fast),
        Policy("sharpened", dataclasses.replace(base, allocation_rule="sharpened"), fast=fast),
    ]
    if not defaults:
        out += [Policy(f"sharpened, floor {f}", base, fast=True, floor=f) for f in floors]
    return out


def split(total: int, shares: Array) -> NDArray[np.int64]:
    """Impressions per variant: shares × total rounded by largest remainders."""
    raw = shares / shares.sum() * total
    n = np.floor(raw).astype(np.int64)
    n[np.argsort(-(raw - n), kind="stable")[: total - int(n.sum())]] += 1
    out: NDArray[np.int64] = n
    return out


def replicate(
    scenario: Scenario, rep: int, defaults: bool, floors: Sequence[str]
) -> dict[str, tuple[float, float]]:
    """One replication: per policy (regret, largest share any variant got on any day)."""
    k = len(scenario.rates)
    uniforms = np.random.default_rng([rep, 13]).random((scenario.days, k))
    out = {}
    for policy in policies(defaults, floors):
        policy.check = rep == 0  # the fast path gives the engine's shares exactly
        policy.reset(k)
        regret = top = 0.0
        for day in range(scenario.days):
            truth = scenario.truth(day)
            shares = policy.shares()
            top = max(top, float(np.max(shares)))
            n = split(scenario.traffic(day), shares)
            s = stats.binom.ppf(uniforms[day], n, truth).astype(np.int64)
            policy.observe(day, n, s)
            regret += float(n @ (np.max(truth) - truth))
        out[policy.name] = (regret, top)
    return out


def _chunk(
    scenario: Scenario,
    reps: range,
    defaults: bool,
    floors: Sequence[str],
    tuning: tuple[float, float],
) -> list[dict[str, tuple[float, float]]]:
    rule.POWER, rule.DATA_GAIN = tuning  # in this worker process only
    return [replicate(scenario, r, defaults, floors) for r in reps]


def run(
    scenario: Scenario,
    reps: int,
    jobs: int,
    defaults: bool,
    floors: Sequence[str],
    tuning: tuple[float, float] = (rule.POWER, rule.DATA_GAIN),
) -> dict[str, NDArray[np.float64]]:
    """Per policy an (R × 2) array of (regret, top share), replications in order."""
    started = time.perf_counter()
    step = max(1, min(25, reps // max(jobs, 1)))
    chunks = [range(i, min(i + step, reps)) for i in range(0, reps, step)]
    rows: list[dict[str, tuple[float, float]]] = []
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        for done in pool.map(
            _chunk, *zip(*[(scenario, c, defaults, floors, tuning) for c in chunks], strict=True)
        ):
            rows += done
            print(
                f"  {scenario.name}: {len(rows)}/{reps} runs, "
                f"{time.perf_counter() - started:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    return {name: np.array([r[name] for r in rows]) for name in rows[0]}


def table(scenario: Scenario, res: dict[str, Array], reps: int) -> tuple[str, dict[str, float]]:
    """The scenario's table, and per policy its ratio to Thompson (NaN with no regret)."""
    t = res["thompson"][:, 0]
    p95, p99, mean_t = np.percentile(t, 95), np.percentile(t, 99), float(t.mean())
    lines = [
        f"### {scenario.name}: {scenario.description}; {scenario.daily:,}/day; "
        f"{scenario.days} days; R = {reps}\n",
        "| policy | mean regret | ± s.e. | × Thompson | ± s.e. | > T p95 | > T p99 "
        "| > 5× T mean | ever ≥ 80% | ever ≥ 95% |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratios = {}
    for name, arr in res.items():
        r, top = arr[:, 0], arr[:, 1]
        se = r.std(ddof=1) / np.sqrt(len(r))
        if mean_t > 0:
            ratio = float(r.mean()) / mean_t
            # delta method on the paired runs: s.e. of mean(r − ratio·t) / mean(t)
            ratio_se = float((r - ratio * t).std(ddof=1) / np.sqrt(len(r)) / mean_t)
            ratio_text = f"{ratio:.3f} | {ratio_se:.3f}"
        else:
            ratio, ratio_text = float("nan"), "– | –"
        ratios[name] = ratio
        lines.append(
            f"| {name} | {r.mean():,.1f} | {se:,.1f} | {ratio_text} | "
            f"{np.mean(r > p95):.1%} | {np.mean(r > p99):.1%} | "
            f"{np.mean(r > 5 * mean_t) if mean_t > 0 else 0.0:.1%} | "
            f"{np.mean(top >= 0.8):.0%} | {np.mean(top >= 0.95):.0%} |"
        )
    return "\n".join(lines) + "\n", ratios


def targets(results: dict[str, dict[str, Array]], policy: str) -> str:
    """The targets for one policy, each with its value and whether it holds."""
    ratio = {}
    above99 = {}
    for name, res in results.items():
        t, r = res["thompson"][:, 0], res[policy][:, 0]
        ratio[name] = float(r.mean() / t.mean()) if t.mean() > 0 else float("nan")
        above99[name] = float(np.mean(r > np.percentile(t, 99)))
    kinds = {s.name: s for s in SCENARIOS if s.name in results}
    stationary = [n for n, s in kinds.items() if s.kind == "stationary"]
    rows: list[tuple[str, str, bool]] = []
    if stationary:
        mean = float(np.mean([ratio[n] for n in stationary]))
        rows.append(
            ("mean × Thompson over non-trivial stationary ≤ 0.88", f"{mean:.3f}", mean <= 0.88)
        )
        worst = max(stationary, key=lambda n: ratio[n])
        rows.append(("no scenario above 1.00×", f"{worst} {ratio[worst]:.3f}", ratio[worst] <= 1.0))
    easy = [n for n, s in kinds.items() if s.kind == "stationary" and len(s.rates) == 2]
    for n in easy:
        rows.append((f"two-variant {n} within 1.01×", f"{ratio[n]:.3f}", ratio[n] <= 1.01))
    for n in [n for n, s in kinds.items() if s.kind == "drift"]:
        rows.append((f"drift {n} within 1.02×", f"{ratio[n]:.3f}", ratio[n] <= 1.02))
    if above99:
        worst = max((n for n in above99 if kinds[n].kind != "equal"), key=lambda n: above99[n])
        rows.append(
            ("runs above Thompson's p99 ≤ 2% (every scenario)",
             f"{worst} {above99[worst]:.1%}", above99[worst] <= 0.02)
        )  # fmt: skip
    for n in [n for n, s in kinds.items() if s.kind == "equal"]:
        t80 = float(np.mean(results[n]["thompson"][:, 1] >= 0.8))
        p80 = float(np.mean(results[n][policy][:, 1] >= 0.8))
        p95 = float(np.mean(results[n][policy][:, 1] >= 0.95))
        t95 = float(np.mean(results[n]["thompson"][:, 1] >= 0.95))
        rows.append(
            (f"{n}: ever ≥ 80% on one ≤ Thompson's (≥ 95%: {p95:.0%} vs {t95:.0%})",
             f"{p80:.0%} vs {t80:.0%}", p80 <= t80)
        )  # fmt: skip
    lines = [f"### targets: {policy}\n", "| target | value | met |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {'yes' if ok else 'NO'} |" for a, b, ok in rows]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--scenario", action="append", choices=[s.name for s in SCENARIOS])
    parser.add_argument("--defaults", action="store_true", help="the default guardrails on")
    parser.add_argument(
        "--floor",
        action="append",
        help="extra row: the rule with this floor instead, KIND:VALUE with KIND one of "
        f"{', '.join(FLOORS)} (none by default)",
    )
    parser.add_argument("--power", type=float, default=rule.POWER, help="try another POWER")
    parser.add_argument(
        "--data-gain", type=float, default=rule.DATA_GAIN, help="try another DATA_GAIN"
    )
    args = parser.parse_args(argv)
    tuning = (args.power, args.data_gain)
    floors = args.floor or []
    mode = "engine defaults" if args.defaults else "guardrails off"
    print(
        f"## Sharpened vs Thompson, {mode}, R = {args.reps}, POWER = {args.power:g}, "
        f"DATA_GAIN = {args.data_gain:g}\n",
        flush=True,
    )
    results = {}
    for scenario in SCENARIOS:
        if args.scenario and scenario.name not in args.scenario:
            continue
        res = run(scenario, args.reps, args.jobs, args.defaults, floors, tuning)
        results[scenario.name] = res
        print(table(scenario, res, args.reps)[0], flush=True)
    for name in next(iter(results.values())):
        if name != "thompson":
            print(targets(results, name), flush=True)


if __name__ == "__main__":
    main()
