"""Models of the allocation function: allocation, report, assignment and simulation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from banditkit.models.common import (
    SIM_MAX_DAILY_IMPRESSIONS,
    SIM_MAX_DAYS,
    SIM_MAX_SEEDS,
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


class AllocationParameters(Response):
    """The original API's `parameters`: the guardrails the shares were computed with."""

    min_explore_rate: float = Field(description="Exploration floor epsilon.")
    control_floor: float = Field(description="Minimum share of the control.")
    max_daily_shift: float | None = Field(description="Largest share change between snapshots.")


class SummaryVariant(Response):
    name: str = Field(description="Variant name.")
    impressions: int = Field(description="Trials counted (after windowing).")
    clicks: int = Field(description="Clicks counted.")
    conversions: int = Field(description="Conversions counted.")


class AllocationSummary(Response):
    """The original API's `summary`: the counted totals."""

    total_impressions: int = Field(description="Trials counted over all variants.")
    total_clicks: int = Field(description="Clicks counted over all variants.")
    total_conversions: int = Field(description="Conversions counted over all variants.")
    variants: list[SummaryVariant] = Field(description="Counted totals per variant.")


class PastAllocation(Response):
    """One stored snapshot in the original API's shape."""

    date: dt.date = Field(description="Day the snapshot was computed (UTC).")
    allocations: dict[str, float] = Field(description="Variant -> share.")
    algorithm: Literal["thompson_sampling"] = Field(description="Always thompson_sampling.")
    window_days: int | None = Field(description="The experiment's window_days setting.")
    total_impressions: int = Field(description="Trials the snapshot counted.")
    total_clicks: int = Field(description="Clicks the snapshot counted.")


WarningCode = Literal[
    "insufficient_data", "drift_suspected", "split_mismatch", "stale_data", "estimates_disagree"
]
ReasonCode = Literal[
    "burn_in", "exploring_new_variant", "floor_active", "shift_limit", "drift_discount"
]


class WarningOut(Response):
    """Something the reader should know before trusting the numbers (docs/engine.md,
    "Warnings and checks"). Fields other than code and message are set for the codes
    that name them, else null."""

    code: WarningCode = Field(
        description=(
            "insufficient_data: a variant has no data of its own, or fewer impressions "
            "than its burn-in needs, so the engine does not judge it yet. "
            "drift_suspected: a variant's rate relative to the others "
            "changed during the test. split_mismatch: the impressions served on some days "
            "do not match the shares recommended for those days (chi-square, p < 0.001). "
            "stale_data: a running experiment's latest data are more than two days old. "
            "estimates_disagree: the pooled and the period-weighted lift of a variant "
            "have opposite signs and the period-weighted interval excludes 0."
        )
    )
    message: str = Field(description="The warning in plain language.")
    variant: str | None = Field(
        default=None,
        description="insufficient_data, drift_suspected, estimates_disagree: the variant.",
    )
    since: dt.date | None = Field(
        default=None, description="drift_suspected: the first day of the new level."
    )
    dates: list[dt.date] | None = Field(
        default=None, description="split_mismatch: the days whose split failed the check."
    )
    observed: dict[str, dict[str, float]] | None = Field(
        default=None,
        description="split_mismatch: per day (ISO date), each variant's share of impressions.",
    )
    expected: dict[str, dict[str, float]] | None = Field(
        default=None,
        description=(
            "split_mismatch: per day (ISO date), each variant's recommended share: the "
            "time-weighted shares of the snapshots in force during that UTC day."
        ),
    )
    latest_day: dt.date | None = Field(
        default=None, description="stale_data: the latest day with data."
    )


class ReasonOut(Response):
    """Why the current split looks the way it does."""

    code: ReasonCode = Field(
        description=(
            "burn_in: no variant has enough impressions of its own yet, so the split is even. "
            "exploring_new_variant: a variant below min_impressions of its own is being "
            "explored. floor_active: a variant is held at its floor (exploration or control). "
            "shift_limit: a variant's share moved by max_daily_shift and no further. "
            "drift_discount: on_drift is discount and a change is suspected, so the data "
            "are counted with a half-life."
        )
    )
    message: str = Field(description="The reason in plain language.")
    variant: str | None = Field(default=None, description="The variant concerned, if one.")


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
    # The original API's fields, so its clients read them unchanged.
    window_days: int | None = Field(description="Counted days (override applied; null = all).")
    parameters: AllocationParameters = Field(description="Guardrails (also in settings).")
    summary: AllocationSummary = Field(description="Counted totals (also in variants).")
    history: list[PastAllocation] = Field(
        description="The latest snapshots, newest first (at most 10)."
    )
    warnings: list[WarningOut] = Field(
        default_factory=list, description="What to know before trusting these numbers."
    )
    reasons: list[ReasonOut] = Field(
        default_factory=list, description="Why the current split is what it is (running only)."
    )


class LiftOut(Response):
    variant: str = Field(description="The variant compared with the control.")
    lift: float | None = Field(
        description="Relative lift of the posterior mean vs control (null, as the three "
        "below, while either side has no data of its own)."
    )
    ci_low: float | None = Field(description="95% interval of the lift, low end.")
    ci_high: float | None = Field(description="95% interval of the lift, high end.")
    p_better: float | None = Field(description="P(variant beats control).")


class RegretDayOut(Response):
    date: dt.date = Field(description="A day of data the engine counts.")
    regret: float = Field(description="Cumulative estimated successes lost up to this day.")
    gained: float = Field(description="Cumulative estimated successes gained vs an even split.")


class EstimateOut(Response):
    value: float = Field(description="The estimate.")
    ci_low: float = Field(description="95% interval, low end.")
    ci_high: float = Field(description="95% interval, high end.")


class VariantEstimates(Response):
    variant: str = Field(description="The variant (for lifts: compared with the control).")
    pooled: EstimateOut | None = Field(
        description="From all counted data pooled: the posterior the allocation uses."
    )
    stratified: EstimateOut | None = Field(
        description=(
            "Period-weighted: each day's rate weighted by the day's total impressions, over "
            "the days the variant (and for a lift the control) was served; null without them."
        )
    )


class EstimatesOut(Response):
    """Rates and lifts both pooled and period-weighted (stratified by day)."""

    allocation_uses: Literal["pooled"] = Field(description="Which estimate the allocation uses.")
    reason: str = Field(description="Why the allocation uses it, and when to prefer the other.")
    rates: list[VariantEstimates] = Field(description="Each variant's rate.")
    lifts: list[VariantEstimates] = Field(description="Each non-control variant's lift.")


class ReportOut(AllocationOut):
    """GET /experiments/{id}/report: the allocation plus lifts, regret and a recommendation."""

    lifts: list[LiftOut] = Field(description="Lift vs control per non-control variant.")
    regret_so_far: float = Field(description="Estimated successes lost vs always the best.")
    gained_vs_even: float = Field(description="Estimated successes gained vs an even split.")
    recommendation: str = Field(description="Plain-language recommendation.")
    regret_by_day: list[RegretDayOut] = Field(
        description="regret_so_far and gained_vs_even day by day (cumulative), for charts."
    )
    estimates: EstimatesOut | None = Field(
        default=None, description="Pooled and period-weighted rates and lifts (null: no data)."
    )


class AssignOut(Response):
    experiment_id: str = Field(description="The experiment.")
    unit_id: str = Field(description="The unit (user, session) assigned.")
    variant: str = Field(description="The unit's variant under the current shares.")
    data_fingerprint: str = Field(description="Fingerprint of the shares used.")


class SimVariant(Request):
    name: Name = Field(description="Variant name.")
    rate: float = Field(ge=0, le=1, allow_inf_nan=False, description="True success rate.")
    is_control: bool = Field(
        default=False, strict=True, description="True for the control variant (a JSON boolean)."
    )


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
        default_factory=list,
        max_length=20,
        description="Rate changes during the run (drift): from `day` on, the true rates are "
        "`rates`. Try `settings.on_drift` against them.",
    )
    seeds: int = Field(
        default=1,
        strict=True,
        ge=1,
        le=SIM_MAX_SEEDS,
        description="Runs on seeds seed, seed+1, ...; `over_seeds` summarises them. "
        "seeds x days (x 2 with compare_settings) is capped at 730 and seeds x days x "
        "variants (x 2) at 2,000 (413 naming seeds).",
    )
    compare_settings: SettingsPatch | None = Field(
        default=None,
        description="Other settings run on the same seeds and traffic; summarised in "
        "`comparison`, side by side with `over_seeds`.",
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


class SimBand(Response):
    median: float = Field(description="Median over the seeds.")
    p10: float = Field(description="10th percentile over the seeds.")
    p90: float = Field(description="90th percentile over the seeds.")


class SimSeedsOut(Response):
    """One set of settings over every seed."""

    seeds: int = Field(description="Runs summarised.")
    clicks_lost: SimBand = Field(
        description="Final cumulative regret: expected successes lost against always showing "
        "the truly best variant."
    )
    even_clicks_lost: SimBand = Field(description="The same for an even split.")
    days_to_winner: SimBand | None = Field(
        description="Days of data before a winner was first declared, over the runs that "
        "declared one (null: none did)."
    )
    winners_declared: int = Field(description="Runs that declared a winner within `days`.")


class SimulateOut(Response):
    variants: list[str] = Field(description="Variant names.")
    days: list[SimDay] = Field(description="Per-day shares and regret (the first seed).")
    successes: int = Field(description="Engine's total successes.")
    even_successes: int = Field(description="Even split's total successes.")
    extra: dict[str, float] = Field(description="Further engine figures.")
    winner_day: int | None = Field(
        default=None,
        description="First seed: days of data before the engine first declared a winner "
        "(null: not within `days`).",
    )
    winner: str | None = Field(default=None, description="The variant declared then.")
    over_seeds: SimSeedsOut | None = Field(
        default=None, description="The settings over every seed (median, 10th-90th pct)."
    )
    comparison: SimSeedsOut | None = Field(
        default=None, description="compare_settings over the same seeds (null without)."
    )
