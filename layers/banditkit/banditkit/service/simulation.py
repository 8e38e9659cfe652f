"""Simulation: the real engine on a synthetic experiment, so settings can be tried first:
one run day by day, the spread over several seeds, and other settings side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

from banditkit import models
from banditkit.engine import RateChange, Settings
from banditkit.service.cpu import cpu_slot
from banditkit.service.errors import FieldError, InvalidRequest, PayloadTooLarge
from banditkit.service.loading import check_feasible, control_of, engine_settings
from banditkit.store import Variant

if TYPE_CHECKING:
    from banditkit.engine.seeds import Band, SeedRuns


def _check_caps(body: models.SimulateIn) -> None:
    k = len(body.variants)
    if body.days * k > models.SIM_MAX_WORK:
        raise PayloadTooLarge(
            f"days x variants = {body.days * k} exceeds the cap of {models.SIM_MAX_WORK}",
            [FieldError("days", f"days x variants must be at most {models.SIM_MAX_WORK}")],
        )
    runs = body.seeds * (2 if body.compare_settings is not None else 1)
    twice = " x 2 (compare_settings)" if body.compare_settings is not None else ""
    caps = (
        ("seeds x days", runs * body.days, models.SIM_MAX_RUN_DAYS),
        ("seeds x days x variants", runs * body.days * k, models.SIM_MAX_TOTAL_WORK),
    )
    for what, total, cap in caps:
        if total > cap:
            raise PayloadTooLarge(
                f"{what}{twice} = {total} exceeds the cap of {cap}; lower seeds or days",
                [FieldError("seeds", f"{what}{twice} must be at most {cap}")],
            )


def _settings(patch: models.SettingsPatch, variants: list[Variant], prefix: str) -> Settings:
    settings = engine_settings(patch.applied_to({}), prefix=prefix)
    check_feasible(settings, variants, prefix=prefix)
    return settings


def _summary(runs: SeedRuns) -> models.SimSeedsOut:
    def band(b: Band) -> models.SimBand:
        return models.SimBand(median=b.median, p10=b.p10, p90=b.p90)

    return models.SimSeedsOut(
        seeds=len(runs.runs),
        clicks_lost=band(runs.clicks_lost),
        even_clicks_lost=band(runs.even_clicks_lost),
        days_to_winner=None if runs.days_to_winner is None else band(runs.days_to_winner),
        winners_declared=runs.winners_declared,
    )


def simulate(body: models.SimulateIn) -> models.SimulateOut:
    """Run the real engine on a synthetic experiment (sizes capped)."""
    from banditkit.engine.seeds import simulate_seeds  # numpy: loaded by the routes that use it

    _check_caps(body)
    problems = [
        FieldError(f"changes.{i}.day", f"must be below days ({body.days})")
        for i, c in enumerate(body.changes)
        if c.day >= body.days
    ]
    if problems:
        raise InvalidRequest(problems)
    names = [v.name for v in body.variants]
    variants = [Variant(v.name, v.is_control) for v in body.variants]
    settings = _settings(body.settings, variants, "settings")
    other = None
    if body.compare_settings is not None:
        other = _settings(body.compare_settings, variants, "compare_settings")
    control = control_of(variants, names)
    seeds = [body.seed + i for i in range(body.seeds)]
    changes = [RateChange(c.day, tuple(c.rates)) for c in body.changes]
    rates = [v.rate for v in body.variants]

    def run(s: Settings) -> SeedRuns:
        return simulate_seeds(
            names, rates, body.daily_impressions, body.days, s,
            seeds=seeds, control=control, changes=changes,
        )  # fmt: skip

    with cpu_slot():
        mine = run(settings)
        theirs = None if other is None else run(other)
    sim = mine.runs[0]
    return models.SimulateOut(
        variants=list(sim.variants),
        days=[
            models.SimDay(
                day=i,
                shares=dict(zip(sim.variants, shares, strict=True)),
                cumulative_regret=sim.cumulative_regret[i],
                even_cumulative_regret=sim.even_cumulative_regret[i],
            )
            for i, shares in enumerate(sim.shares)
        ],
        successes=sim.successes,
        even_successes=sim.even_successes,
        extra=dict(sim.extra),
        winner_day=sim.winner_day,
        winner=sim.winner,
        over_seeds=_summary(mine),
        comparison=None if theirs is None else _summary(theirs),
    )
