"""Simulation: the real engine on a synthetic experiment, so settings can be tried first."""

from __future__ import annotations

from banditkit import engine, models
from banditkit.engine import RateChange
from banditkit.service.cpu import cpu_slot
from banditkit.service.errors import FieldError, InvalidRequest, PayloadTooLarge
from banditkit.service.loading import check_feasible, control_of, engine_settings
from banditkit.store import Variant


def simulate(body: models.SimulateIn) -> models.SimulateOut:
    """Run the real engine on a synthetic experiment (sizes capped)."""
    names = [v.name for v in body.variants]
    if body.days * len(names) > models.SIM_MAX_WORK:
        raise PayloadTooLarge(
            f"days x variants = {body.days * len(names)} exceeds the cap of {models.SIM_MAX_WORK}"
        )
    problems = [
        FieldError(f"changes.{i}.day", f"must be below days ({body.days})")
        for i, c in enumerate(body.changes)
        if c.day >= body.days
    ]
    if problems:
        raise InvalidRequest(problems)
    settings = engine_settings(body.settings.applied_to({}))
    variants = [Variant(v.name, v.is_control) for v in body.variants]
    check_feasible(settings, variants)
    control = control_of(variants, names)
    with cpu_slot():
        sim = engine.simulate(
            names,
            [v.rate for v in body.variants],
            body.daily_impressions,
            body.days,
            settings,
            control=control,
            changes=[RateChange(c.day, tuple(c.rates)) for c in body.changes],
            seed=body.seed,
        )
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
    )
