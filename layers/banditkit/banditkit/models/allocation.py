"""Models of the allocation function: allocation, report, assignment and simulation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from banditkit.models.common import (
    SIM_MAX_DAILY_IMPRESSIONS,
    SIM_MAX_DAYS,
    SIM_MAX_VARIANTS,
    AllocationStatus,
    Name,
    Request,
    Response,
    check_unique,
)
from banditkit.models.settings import SettingsOut, SettingsPatch


class VariantStats(Response):
    name: str = Field(description="Variant name.")
    impressions: int = Field(description="Trials counted (after windowing).")
    clicks: int = Field(description="Clicks counted.")
    conversions: int = Field(description="Conversions counted.")
    rate: float = Field(description="Observed rate of the settings' metric.")
    posterior_mean: float = Field(description="Posterior mean of the rate.")
    ci_low: float = Field(description="95% credible interval, low end.")
    ci_high: float = Field(description="95% credible interval, high end.")
    p_best: float = Field(description="Probability this variant is the best.")
    expected_loss: float | None = Field(
        description="E[max rate - this rate]; null while the variant has no data of its own."
    )
    allocation: float = Field(description="Share of traffic for the next period.")
    prior_only: bool = Field(
        description="No data of its own: the rate, interval and P(best) are the prior's."
    )


class AllocationOut(Response):
    """GET /allocation: the traffic shares for the next period and the evidence behind them."""

    experiment_id: str = Field(description="The experiment.")
    allocations: dict[str, float] = Field(
        description="Variant -> share of traffic; sums to 1 (6 decimals)."
    )
    status: AllocationStatus = Field(
        description="warming_up, optimizing, winner_found; paused/completed freeze the shares."
    )
    algorithm: Literal["thompson_sampling"] = Field(description="Always thompson_sampling.")
    settings: SettingsOut = Field(description="Settings used (window_days override applied).")
    variants: list[VariantStats] = Field(description="Per-variant evidence.")
    control: str | None = Field(description="The control variant, if any.")
    winner: str | None = Field(description="The winner when status is winner_found.")
    potential_value_remaining: float | None = Field(
        description="Scott's potential value remaining (relative), over the variants with "
        "data of their own; null while fewer than two have any."
    )
    computed_at: dt.datetime = Field(description="When this answer was computed (UTC).")
    data_fingerprint: str = Field(description="Digest of the data and settings used.")


class LiftOut(Response):
    variant: str = Field(description="The variant compared with the control.")
    lift: float | None = Field(
        description="Relative lift of the posterior mean vs control (null, as the three "
        "below, while either side has no data of its own)."
    )
    ci_low: float | None = Field(description="95% interval of the lift, low end.")
    ci_high: float | None = Field(description="95% interval of the lift, high end.")
    p_better: float | None = Field(description="P(variant beats control).")


class ReportOut(AllocationOut):
    """GET /experiments/{id}/report: the allocation plus lifts, regret and a recommendation."""

    lifts: list[LiftOut] = Field(description="Lift vs control per non-control variant.")
    regret_so_far: float = Field(description="Estimated successes lost vs always the best.")
    gained_vs_even: float = Field(description="Estimated successes gained vs an even split.")
    recommendation: str = Field(description="Plain-language recommendation.")


class AssignOut(Response):
    experiment_id: str = Field(description="The experiment.")
    unit_id: str = Field(description="The unit (user, session) assigned.")
    variant: str = Field(description="The unit's variant under the current shares.")
    data_fingerprint: str = Field(description="Fingerprint of the shares used.")


class SimVariant(Request):
    name: Name = Field(description="Variant name.")
    rate: float = Field(ge=0, le=1, allow_inf_nan=False, description="True success rate.")
    is_control: bool = Field(default=False, description="True for the control variant.")


class SimChange(Request):
    day: int = Field(strict=True, ge=0, le=SIM_MAX_DAYS, description="0-based day of the change.")
    rates: list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]] = Field(
        min_length=1, max_length=SIM_MAX_VARIANTS, description="New true rates, one per variant."
    )


class SimulateIn(Request):
    """Body of POST /simulate: a synthetic experiment run through the real engine."""

    variants: list[SimVariant] = Field(
        min_length=1, max_length=SIM_MAX_VARIANTS, description="Variants and true rates."
    )
    daily_impressions: int = Field(
        strict=True, ge=1, le=SIM_MAX_DAILY_IMPRESSIONS, description="Trials per day."
    )
    days: int = Field(strict=True, ge=1, le=SIM_MAX_DAYS, description="Days to simulate.")
    settings: SettingsPatch = Field(
        default_factory=SettingsPatch, description="Engine settings overrides."
    )
    seed: int = Field(default=0, strict=True, ge=0, le=2**32 - 1, description="Random seed.")
    changes: list[SimChange] = Field(
        default_factory=list, max_length=20, description="Rate changes during the run."
    )

    @model_validator(mode="after")
    def _consistent(self) -> SimulateIn:
        check_unique([v.name for v in self.variants])
        for change in self.changes:
            if len(change.rates) != len(self.variants):
                raise ValueError("each change needs one rate per variant")
        return self


class SimDay(Response):
    day: int = Field(description="0-based day.")
    shares: dict[str, float] = Field(description="The engine's shares that day.")
    cumulative_regret: float = Field(description="Engine's cumulative regret.")
    even_cumulative_regret: float = Field(description="Even split's cumulative regret.")


class SimulateOut(Response):
    variants: list[str] = Field(description="Variant names.")
    days: list[SimDay] = Field(description="Per-day shares and regret.")
    successes: int = Field(description="Engine's total successes.")
    even_successes: int = Field(description="Even split's total successes.")
    extra: dict[str, float] = Field(description="Further engine figures.")
