"""The sharpened allocation rule against Thompson sampling: the tables that
`bench/regret.py --sharpened` prints (docs/engine.md, "Sharpened allocation").

The simulation is bench/regret.py's (`run`: daily batches, impressions split by the
shares, clicks from one uniform per (day, variant) shared by every policy of a
replication, regret against the best variant of the day). Each day the policy allocates
on the data so far, the sharpened rule fed the P(best) of its last LOOKBACK_DAYS
allocations, as the service feeds it from its snapshots. Guardrails off
(`min_explore_rate = control_floor = min_impressions = 0`, flat prior, no null prior),
"thompson" is exactly batched Thompson sampling; `--defaults` runs both rules on
`Settings()` instead. No control is declared, as in bench/regret.py.

Per scenario: mean regret, its ratio to Thompson (± s.e. of the paired runs), the share
of runs above Thompson's 95th and 99th percentile and above 5× its mean, and the share
of runs in which one variant ever got ≥ 80% and ≥ 95% of a day; then the targets.
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from banditkit.engine import Settings, allocate
from banditkit.engine import sharpen as rule
from banditkit.engine.beta import BetaGrid
from banditkit.engine.guardrails import round_shares
from numpy.typing import NDArray
from regret import SCENARIOS as PUBLIC
from regret import Outcome, Policy, Scenario, patched, run

Array = NDArray[np.float64]

SCENARIOS = (
    *(s for s in PUBLIC if s.name in ("button", "close", "many", "null", "drift", "added worse",
                                      "added better")),
    Scenario("sparse", (0.040, 0.050, 0.045), 600, 60, description="low traffic: "
             "0.040/0.050/0.045"),
    Scenario("rare", (0.0040, 0.0050, 0.0045), 40_000, 45, description="low base rates: "
             "0.40/0.50/0.45%"),
    Scenario("near-ties", (0.050, 0.051, 0.052, 0.0525, 0.053), 30_000, 40,
             description="5 within 6%"),
    Scenario("eleven", tuple(np.linspace(0.020, 0.030, 11)), 40_000, 30,
             description="11 in .020-.030"),
    Scenario("weekdays", (0.040, 0.044, 0.046), 15_000, 42, weekly=True,
             description="0.040/0.044/0.046, rates and traffic by weekday"),
)  # fmt: skip

GUARDRAILS_OFF = Settings(  # plain batched Thompson: flat prior, no damping, floors or burn-in
    alpha_prior=1.0,
    beta_prior=1.0,
    null_prior=0.0,
    min_explore_rate=0.0,
    control_floor=0.0,
    min_impressions=0,
    allocation_rule="thompson",
)
EASY = ("button",)  # two variants far apart: Thompson is sure of the leader after day one
RULE_CONSTANTS = ("THRESHOLD", "POWER", "LOOKBACK_DAYS", "RISE", "DATA_GAIN")


def kind(scenario: Scenario) -> str:
    if not scenario.stationary:
        return "drift" if scenario.change_day is not None else "added"
    return "equal" if len(set(scenario.rates)) == 1 else "stationary"


class Rule(Policy):
    """`allocate()`'s shares under allocation_rule, fed its own P(best) history.

    With the guardrails off the shares are P(best), sharpened or not, rounded: computed
    from the running counts with the engine's own functions (BetaGrid.p_best,
    sharpen.sharpen, round_shares), ~5× faster than allocate's full evidence; on the
    first replication every day is checked against allocate() itself.
    """

    def __init__(self, name: str, settings: Settings, **constants: float) -> None:
        self.name = name
        self.settings = settings
        self.constants = constants  # engine.sharpen module constants to try

    def reset(self, k: int, rep: int) -> None:
        super().reset(k, rep)
        self.recent: list[dict[str, float]] = []  # P(best) of the last allocations
        self.fast = self.settings == dataclasses.replace(
            GUARDRAILS_OFF, allocation_rule=self.settings.allocation_rule
        )
        self.check = rep == 0

    def shares(self, k: int) -> Array:
        names = [f"v{i}" for i in range(k)]
        with patched(rule, self.constants):
            if self.fast:
                out, p_best = self._fast(k, names)
            if not self.fast or self.check:
                alloc = allocate(
                    names, self.rows, self.settings, previous=self.previous, history=self.recent
                )
                engine = np.array([alloc.shares[v] for v in names])
                p_engine = np.array([v.p_best for v in alloc.variants])
                if self.fast:
                    assert np.array_equal(out, engine), (out, engine)
                    assert np.array_equal(p_best, p_engine), (p_best, p_engine)
                out, p_best = engine, p_engine
                self.previous = alloc.shares
            entry = dict(zip(names, p_best.tolist(), strict=True))
            self.recent = [*self.recent, entry][-int(rule.LOOKBACK_DAYS) :]
        return out

    def _fast(self, k: int, names: list[str]) -> tuple[Array, Array]:
        succ, fail = self.succ[:k], self.fail[:k]
        p_best: Array = BetaGrid.build(1.0 + succ, 1.0 + fail).p_best()
        if self.settings.allocation_rule == "thompson":
            return round_shares(p_best), p_best
        data = succ + fail
        days = len({row.day for row in self.rows})
        recent = rule.recent_matrix(names, self.recent)
        out = rule.sharpen(p_best, p_best, recent, data, float(data.sum()) / max(days, 1))
        return round_shares(out), p_best


def candidate(text: str, base: Settings) -> Rule:
    """A row of the frontier: NAME=VALUE pairs of engine.sharpen constants, ':'-separated."""
    constants = {}
    for pair in text.split(":"):
        name, value = pair.split("=")
        if name.upper() not in RULE_CONSTANTS:
            raise SystemExit(f"--candidate: {name} is not one of {', '.join(RULE_CONSTANTS)}")
        constants[name.upper()] = float(value)
    return Rule(f"sharpened, {text}", dataclasses.replace(base, allocation_rule="sharpened"),
                **constants)  # fmt: skip


def policies(defaults: bool, candidates: Sequence[str]) -> list[Policy]:
    # the baseline is Thompson's rule on the same settings (sharpened is the default)
    base = Settings(allocation_rule="thompson") if defaults else GUARDRAILS_OFF
    return [
        Rule("thompson", base),
        Rule("sharpened", dataclasses.replace(base, allocation_rule="sharpened")),
        *(candidate(c, base) for c in candidates),
    ]


def _chunk(
    scenario: Scenario, reps: range, defaults: bool, candidates: Sequence[str]
) -> dict[str, Outcome]:
    return run(scenario, policies(defaults, candidates), reps)


def run_parallel(
    scenario: Scenario, reps: int, jobs: int, defaults: bool, candidates: Sequence[str]
) -> dict[str, Outcome]:
    """bench/regret.py's `run` over chunks of replications in `jobs` processes."""
    started = time.perf_counter()
    step = max(1, min(25, reps // max(jobs, 1)))
    chunks = [range(i, min(i + step, reps)) for i in range(0, reps, step)]
    out: dict[str, Outcome] = {}
    done = 0
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        args = [(scenario, c, defaults, candidates) for c in chunks]
        for part in pool.map(_chunk, *zip(*args, strict=True)):
            for name, res in part.items():
                into = out.setdefault(name, Outcome())
                into.regret += res.regret
                into.top += res.top
                into.seconds += res.seconds
            done += len(next(iter(part.values())).regret)
            print(f"  {scenario.name}: {done}/{reps} runs, {time.perf_counter() - started:.0f} s",
                  file=sys.stderr, flush=True)  # fmt: skip
    return out


def ratio(res: Outcome, thompson: Outcome) -> tuple[float, float]:
    """Mean regret / Thompson's, and its s.e. from the paired runs (delta method)."""
    r, t = np.array(res.regret), np.array(thompson.regret)
    if t.mean() <= 0:
        return float("nan"), float("nan")
    value = float(r.mean() / t.mean())
    return value, float((r - value * t).std(ddof=1) / np.sqrt(len(r)) / t.mean())


def tails_table(scenario: Scenario, results: dict[str, Outcome], reps: int) -> str:
    t = np.array(results["thompson"].regret)
    p95, p99, mean_t = np.percentile(t, 95), np.percentile(t, 99), float(t.mean())
    lines = [
        f"#### {scenario.name}: {scenario.description}; {scenario.daily:,}/day; "
        f"{scenario.days} days; R = {reps}\n",
        "| policy | mean regret | ± s.e. | × Thompson | ± s.e. | > T p95 | > T p99 "
        "| > 5× T mean | ever ≥ 80% | ever ≥ 95% |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, res in results.items():
        r, top = np.array(res.regret), np.array(res.top)
        value, se = ratio(res, results["thompson"])
        cells = "– | –" if np.isnan(value) else f"{value:.3f} | {se:.3f}"
        lines.append(
            f"| {name} | {r.mean():,.1f} | {res.se:,.1f} | {cells} | {np.mean(r > p95):.1%} | "
            f"{np.mean(r > p99):.1%} | {np.mean(r > 5 * mean_t) if mean_t > 0 else 0.0:.1%} | "
            f"{np.mean(top >= 0.8):.0%} | {np.mean(top >= 0.95):.0%} |"
        )
    return "\n".join(lines) + "\n"


def targets(results: dict[str, dict[str, Outcome]], policy: str) -> str:
    """Each target for one policy, its value and whether it holds."""
    kinds = {s.name: kind(s) for s in SCENARIOS if s.name in results}
    value = {n: ratio(res[policy], res["thompson"]) for n, res in results.items()}
    rows: list[tuple[str, str, bool]] = []
    stationary = [n for n, k in kinds.items() if k == "stationary"]
    if stationary:
        mean = float(np.mean([value[n][0] for n in stationary]))
        se = float(np.sqrt(np.sum([value[n][1] ** 2 for n in stationary])) / len(stationary))
        rows.append((f"mean × Thompson over the {len(stationary)} non-trivial stationary ≤ 0.88",
                     f"{mean:.3f} ± {se:.3f}", mean <= 0.88))  # fmt: skip
        worst = max(stationary, key=lambda n: value[n][0])
        rows.append(("no scenario above 1.00×", f"{worst} {value[worst][0]:.3f}",
                     value[worst][0] <= 1.0))  # fmt: skip
    for n in (n for n in stationary if n in EASY):
        rows.append((f"two-variant easy case {n} within 1.01×", f"{value[n][0]:.3f}",
                     value[n][0] <= 1.01))  # fmt: skip
    for n in (n for n, k in kinds.items() if k in ("drift", "added")):
        rows.append((f"{n} within 1.02×", f"{value[n][0]:.3f}", value[n][0] <= 1.02))
    above = {
        n: float(np.mean(np.array(res[policy].regret)
                         > np.percentile(res["thompson"].regret, 99)))
        for n, res in results.items() if kinds[n] != "equal"
    }  # fmt: skip
    if above:
        worst = max(above, key=lambda n: above[n])
        rows.append(("runs above Thompson's p99 ≤ 2% (every scenario)",
                     f"{worst} {above[worst]:.1%}", above[worst] <= 0.02))  # fmt: skip
    for n in (n for n, k in kinds.items() if k == "equal"):
        t80, p80, t95, p95 = (
            float(np.mean(np.array(results[n][who].top) >= level))
            for who, level in (("thompson", 0.8), (policy, 0.8), ("thompson", 0.95),
                               (policy, 0.95))
        )  # fmt: skip
        rows.append((f"{n}: ever ≥ 80% on one ≤ Thompson's (≥ 95%: {p95:.0%} vs {t95:.0%})",
                     f"{p80:.0%} vs {t80:.0%}", p80 <= t80))  # fmt: skip
    lines = [f"#### Targets: {policy}\n", "| target | value | met |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {'yes' if ok else 'NO'} |" for a, b, ok in rows]
    return "\n".join(lines) + "\n"


def main(
    reps: int, jobs: int, defaults: bool, names: Sequence[str] | None, candidates: Sequence[str]
) -> None:
    unknown = set(names or ()) - {s.name for s in SCENARIOS}
    if unknown:
        raise SystemExit(f"--scenario: no sharpened scenario {', '.join(sorted(unknown))}")
    policies(defaults, candidates)  # a bad --candidate stops here, before any work
    mode = "engine defaults" if defaults else "guardrails off"
    constants = ", ".join(f"{c} = {getattr(rule, c):g}" for c in RULE_CONSTANTS)
    print(f"### Sharpened vs Thompson, {mode}, R = {reps} ({constants})\n", flush=True)
    results = {}
    for scenario in SCENARIOS:
        if names and scenario.name not in names:
            continue
        results[scenario.name] = run_parallel(scenario, reps, jobs, defaults, candidates)
        print(tails_table(scenario, results[scenario.name], reps), flush=True)
    for name in next(iter(results.values())):
        if name != "thompson":
            print(targets(results, name), flush=True)
