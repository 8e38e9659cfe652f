"""Request and response models of the HTTP API (DESIGN §3): the contract, checked at the boundary.

Every request model forbids unknown fields, so a misspelt setting is a 422 rather than a
silent default. Counts are strict integers (no floats, strings or booleans).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.functional_validators import AfterValidator, BeforeValidator
from pydantic.json_schema import WithJsonSchema

MAX_VARIANTS = 50
MAX_COUNT = 10**12
MIN_DATE = dt.date(2000, 1, 1)
# Days may be posted up to this many days after today (UTC), for clients east of UTC.
FUTURE_DAYS = 1
# Priors below this are numerically meaningless (and denormal floats break the grid).
MIN_PRIOR = 0.001
SIM_MAX_VARIANTS = 10
SIM_MAX_DAYS = 365
SIM_MAX_DAILY_IMPRESSIONS = 1_000_000
# days x variants; above this POST /simulate answers 413.
SIM_MAX_WORK = 1_000

ExperimentStatus = Literal["running", "paused", "completed"]
AllocationStatus = Literal["warming_up", "optimizing", "winner_found", "paused", "completed"]
WriteMode = Literal["set", "increment"]
Metric = Literal["ctr", "conversion_rate"]


def _printable_name(value: str) -> str:
    if not value.isprintable():
        raise ValueError("must contain printable characters only")
    if not value.strip():
        raise ValueError("must not be blank")
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    return value


def _sane_date(value: dt.date) -> dt.date:
    latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=FUTURE_DAYS)
    if value < MIN_DATE or value > latest:
        raise ValueError(f"must be between {MIN_DATE.isoformat()} and {latest.isoformat()}")
    return value


Name = Annotated[
    str,
    Field(min_length=1, max_length=100, description="1-100 printable characters."),
    AfterValidator(_printable_name),
]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
Day = Annotated[dt.date, AfterValidator(_sane_date)]
ExperimentId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_-]+$",
        description="Experiment id: 1-64 letters, digits, '_' or '-'.",
    ),
]


class Request(BaseModel):
    """Base of request bodies: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    """Base of response bodies."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- settings


class SettingsPatch(Request):
    """Engine settings; every field optional (omitted = default on create, unchanged on PATCH)."""

    alpha_prior: float | None = Field(
        default=None,
        ge=MIN_PRIOR,
        le=1e6,
        allow_inf_nan=False,
        description=f"Beta prior alpha (1.0), in [{MIN_PRIOR}, 1e6].",
    )
    beta_prior: float | None = Field(
        default=None,
        ge=MIN_PRIOR,
        le=1e6,
        allow_inf_nan=False,
        description=f"Beta prior beta (1.0), in [{MIN_PRIOR}, 1e6].",
    )
    min_explore_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of traffic spread evenly over all variants (0.05).",
    )
    control_floor: float | None = Field(
        default=None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Minimum share of the control variant (0.10).",
    )
    max_daily_shift: float | None = Field(
        default=None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="Largest change of a share between two snapshots (null = unlimited).",
    )
    min_impressions: int | None = Field(
        default=None,
        strict=True,
        ge=0,
        le=MAX_COUNT,
        description="Burn-in: split evenly until this many trials are counted (1000).",
    )
    window_days: int | None = Field(
        default=None,
        strict=True,
        ge=1,
        le=3650,
        description="Count only the last N days (null = all data).",
    )
    half_life_days: float | None = Field(
        default=None,
        ge=0.01,
        le=3650,
        allow_inf_nan=False,
        description="Weight a day of age a by 0.5^(a/h) (null = no decay).",
    )
    metric: Metric | None = Field(
        default=None,
        description="ctr = clicks/impressions, conversion_rate = conversions/impressions.",
    )
    winner_p_best: float | None = Field(
        default=None,
        gt=0,
        le=1,
        allow_inf_nan=False,
        description="P(best) a variant needs to be declared the winner (0.95).",
    )
    winner_loss_share: float | None = Field(
        default=None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Winner rule: expected loss below this share of the best mean (0.01).",
    )
    null_prior: float | None = Field(
        default=None,
        ge=0,
        lt=1,
        allow_inf_nan=False,
        description="Prior probability that all variants share one rate (0 = plain Thompson).",
    )
    effect_scale: float | None = Field(
        default=None,
        ge=0.001,
        le=10,
        allow_inf_nan=False,
        description="Relative spread of true rates when they differ (0.1 = +-10%).",
    )

    def overrides(self) -> dict[str, Any]:
        """The fields the client set explicitly (null included, e.g. to clear window_days)."""
        return self.model_dump(exclude_unset=True)


class SettingsOut(Response):
    """The effective engine settings of an experiment."""

    alpha_prior: float = Field(description="Beta prior alpha.")
    beta_prior: float = Field(description="Beta prior beta.")
    min_explore_rate: float = Field(description="Exploration floor epsilon.")
    control_floor: float = Field(description="Minimum share of the control.")
    max_daily_shift: float | None = Field(description="Largest share change between snapshots.")
    min_impressions: int = Field(description="Burn-in trials.")
    window_days: int | None = Field(description="Counted days (null = all).")
    half_life_days: float | None = Field(description="Decay half-life in days (null = none).")
    metric: Metric = Field(description="The success metric.")
    winner_p_best: float = Field(description="P(best) needed for a winner.")
    winner_loss_share: float = Field(description="Expected-loss share needed for a winner.")
    null_prior: float = Field(description="Prior probability that all variants share one rate.")
    effect_scale: float = Field(description="Relative spread of true rates when they differ.")


# ---------------------------------------------------------------- experiments


class VariantIn(Request):
    """A declared variant."""

    name: Name = Field(description="Variant name, 1-100 printable characters.")
    is_control: bool = Field(default=False, description="True for the control variant.")


def _normalise_variants(value: list[VariantIn] | None) -> list[VariantIn] | None:
    if value is None:
        return None
    names = [v.name for v in value]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicate variant names: {', '.join(dupes)}")
    if sum(v.is_control for v in value) > 1:
        raise ValueError("at most one variant may be the control")
    return value


def _names_to_objects(value: object) -> object:
    """Accept plain names as shorthand: "b" means {"name": "b"}."""
    if isinstance(value, list):
        return [{"name": v} if isinstance(v, str) else v for v in value]
    return value


_NAME_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 100}
VariantList = Annotated[
    list[VariantIn],
    BeforeValidator(_names_to_objects),
    Field(max_length=MAX_VARIANTS),
    WithJsonSchema(
        {
            "type": "array",
            "maxItems": MAX_VARIANTS,
            "items": {
                "anyOf": [
                    _NAME_SCHEMA,
                    {
                        "type": "object",
                        "properties": {"name": _NAME_SCHEMA, "is_control": {"type": "boolean"}},
                        "required": ["name"],
                        "additionalProperties": False,
                    },
                ]
            },
        }
    ),
]


class ExperimentCreate(Request):
    """Body of POST /experiments."""

    id: ExperimentId | None = Field(
        default=None,
        description="Optional client-chosen id (keeps existing clients' ids); generated if absent.",
    )
    name: Name = Field(description="Experiment name.")
    description: str = Field(default="", max_length=2000, description="Free text.")
    variants: VariantList | None = Field(
        default=None,
        description=(
            "Declared variants (names, or objects with is_control). When declared, events naming "
            "any other variant are rejected; when omitted, variants appear with their first events."
        ),
    )
    settings: SettingsPatch = Field(
        default_factory=SettingsPatch, description="Engine settings overrides."
    )

    @field_validator("variants")
    @classmethod
    def _check_variants(cls, value: list[VariantIn] | None) -> list[VariantIn] | None:
        out = _normalise_variants(value)
        if out is not None and not out:
            raise ValueError("declare at least one variant, or omit the field")
        return out


class ExperimentPatch(Request):
    """Body of PATCH /experiments/{id}: any subset of the fields."""

    name: Name | None = Field(default=None, description="New name.")
    description: str | None = Field(default=None, max_length=2000, description="New description.")
    status: ExperimentStatus | None = Field(default=None, description="New lifecycle status.")
    settings: SettingsPatch | None = Field(
        default=None, description="Settings to change; omitted settings keep their value."
    )
    variants: VariantList | None = Field(
        default=None, description="Variants to add (existing variants cannot be removed)."
    )

    @field_validator("variants")
    @classmethod
    def _check_variants(cls, value: list[VariantIn] | None) -> list[VariantIn] | None:
        return _normalise_variants(value)


class VariantOut(Response):
    name: str = Field(description="Variant name.")
    is_control: bool = Field(description="True for the control variant.")


class ExperimentOut(Response):
    """An experiment."""

    id: str = Field(description="Experiment id.")
    name: str = Field(description="Experiment name.")
    description: str = Field(description="Free text.")
    status: ExperimentStatus = Field(description="running, paused or completed.")
    variants: list[VariantOut] = Field(description="Known variants, declared or seen in events.")
    variants_declared: bool = Field(
        description="True when variants were declared: events naming others are rejected."
    )
    control: str | None = Field(description="The control variant, if any.")
    settings: SettingsOut = Field(description="Effective engine settings.")
    created_at: dt.datetime = Field(description="Creation time (UTC).")
    updated_at: dt.datetime = Field(description="Last change (UTC).")


class ExperimentPage(Response):
    items: list[ExperimentOut] = Field(description="Experiments, oldest first.")
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end.")


class HealthOut(Response):
    status: Literal["ok"] = Field(description="Always ok when answering 200.")
    store: str = Field(description="Store backend: sqlite, postgres or dynamodb.")
    version: str = Field(description="banditkit version.")
    reset_enabled: bool = Field(description="True when POST /reset_data is enabled.")
    auth_required: bool = Field(description="True when requests need an x-api-key header.")


# ---------------------------------------------------------------- events


class EventVariant(Request):
    """One variant's counts for the day."""

    variant_name: Name = Field(
        validation_alias=AliasChoices("variant_name", "name"),
        description="Variant name (the original API's `name` is accepted too).",
    )
    impressions: Count = Field(description="Trials (impressions) that day, integer >= 0.")
    clicks: Count = Field(description="Clicks that day, integer >= 0 and <= impressions.")
    conversions: Count = Field(
        default=0, description="Conversions that day, integer >= 0 and <= impressions."
    )

    @field_validator("clicks", "conversions")
    @classmethod
    def _not_above_impressions(cls, value: int, info: ValidationInfo) -> int:
        impressions = info.data.get("impressions")
        if isinstance(impressions, int) and value > impressions:
            raise ValueError(f"{info.field_name} ({value}) exceeds impressions ({impressions})")
        return value


class EventsIn(Request):
    """Body of POST /events: one day of counts for some variants of one experiment."""

    experiment_id: ExperimentId = Field(description="The experiment.")
    date: Day = Field(description="The day, YYYY-MM-DD.")
    variants: list[EventVariant] = Field(
        min_length=1, max_length=MAX_VARIANTS, description="Counts per variant (no duplicates)."
    )
    mode: WriteMode = Field(
        default="set",
        description="set replaces the day's totals (safe to retry); increment adds to them.",
    )

    @field_validator("variants")
    @classmethod
    def _no_duplicates(cls, value: list[EventVariant]) -> list[EventVariant]:
        names = [v.variant_name for v in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"duplicate variant names: {', '.join(dupes)}")
        return value


class EventsOut(Response):
    experiment_id: str = Field(description="The experiment.")
    date: dt.date = Field(description="The day written.")
    mode: WriteMode = Field(description="How the counts were written.")
    variants_processed: int = Field(description="Number of variants written.")
    total_impressions: int = Field(description="Sum of impressions in the request.")
    total_clicks: int = Field(description="Sum of clicks in the request.")
    total_conversions: int = Field(description="Sum of conversions in the request.")
    replayed: bool = Field(
        default=False, description="True when an Idempotency-Key replay returned the first answer."
    )


class CsvRow(Request):
    """One row of a CSV import (validated like an event)."""

    experiment_id: str | None = None
    date: Day
    variant_name: Name
    impressions: Count
    clicks: Count
    conversions: Count = 0

    @field_validator("clicks", "conversions")
    @classmethod
    def _not_above_impressions(cls, value: int, info: ValidationInfo) -> int:
        return EventVariant._not_above_impressions(value, info)


class ImportOut(Response):
    experiment_id: str = Field(description="The experiment.")
    mode: WriteMode = Field(description="How the counts were written.")
    rows_imported: int = Field(description="Rows written.")
    days: int = Field(description="Distinct days in the file.")
    variants: list[str] = Field(description="Variants in the file.")
    total_impressions: int = Field(description="Sum of impressions in the file.")
    total_clicks: int = Field(description="Sum of clicks in the file.")
    total_conversions: int = Field(description="Sum of conversions in the file.")


# ---------------------------------------------------------------- allocation


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
    expected_loss: float = Field(description="E[max rate - this rate].")
    allocation: float = Field(description="Share of traffic for the next period.")


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
    potential_value_remaining: float = Field(
        description="Scott's potential value remaining (relative)."
    )
    computed_at: dt.datetime = Field(description="When this answer was computed (UTC).")
    data_fingerprint: str = Field(description="Digest of the data and settings used.")


class LiftOut(Response):
    variant: str = Field(description="The variant compared with the control.")
    lift: float = Field(description="Relative lift of the posterior mean vs control.")
    ci_low: float = Field(description="95% interval of the lift, low end.")
    ci_high: float = Field(description="95% interval of the lift, high end.")
    p_better: float = Field(description="P(variant beats control).")


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
        names = [v.name for v in self.variants]
        if len(set(names)) != len(names):
            raise ValueError("duplicate variant names")
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


# ---------------------------------------------------------------- history and metrics


class SnapshotOut(Response):
    computed_at: dt.datetime = Field(description="When the snapshot was computed (UTC).")
    trigger: Literal["api", "schedule"] = Field(description="What computed it.")
    status: str = Field(description="Allocation status at the time.")
    allocations: dict[str, float] = Field(description="Variant -> share.")
    p_best: dict[str, float] = Field(description="Variant -> P(best).")
    totals: dict[str, dict[str, int]] = Field(description="Variant -> counted totals.")
    data_fingerprint: str = Field(description="Digest of the data used.")


class HistoryOut(Response):
    experiment_id: str = Field(description="The experiment.")
    items: list[SnapshotOut] = Field(description="Snapshots, newest first.")
    next_cursor: str | None = Field(description="Pass as cursor for the next page.")


class DayVariant(Response):
    variant_name: str = Field(description="Variant name.")
    impressions: int = Field(description="Impressions that day.")
    clicks: int = Field(description="Clicks that day.")
    conversions: int = Field(description="Conversions that day.")


class MetricsDay(Response):
    date: dt.date = Field(description="The day.")
    variants: list[DayVariant] = Field(description="Counts per variant.")


class MetricsOut(Response):
    experiment_id: str = Field(description="The experiment.")
    days: list[MetricsDay] = Field(description="Daily series, oldest first.")


class ResetOut(Response):
    status: Literal["reset"] = Field(description="Everything was deleted.")


# ---------------------------------------------------------------- errors


class FieldProblem(BaseModel):
    field: str = Field(description="The offending field (dotted path), header or query parameter.")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """RFC 9457 problem details, sent as application/problem+json."""

    type: str = Field(description="A URI identifying the problem type.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="Explanation of this occurrence.")
    errors: list[FieldProblem] = Field(default_factory=list, description="Per-field problems.")
