"""Engine settings as the API takes them (every field optional) and shows them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from banditkit.models.common import (
    MAX_COUNT,
    MIN_PRIOR,
    AllocationRule,
    Metric,
    Request,
    Response,
)


class SettingsPatch(Request):
    """Engine settings; every field optional: omitted = the default on create, unchanged on
    PATCH; null = the default on both (for the settings whose default is "none", such as
    window_days, null is that)."""

    alpha_prior: float | None = Field(
        default=None,
        ge=MIN_PRIOR,
        le=1e6,
        allow_inf_nan=False,
        description=f"Beta prior alpha, in [{MIN_PRIOR}, 1e6]. Unset (with beta_prior): "
        "centred on the experiment's pooled rate, worth one observation of the rarer outcome.",
    )
    beta_prior: float | None = Field(
        default=None,
        ge=MIN_PRIOR,
        le=1e6,
        allow_inf_nan=False,
        description=f"Beta prior beta, in [{MIN_PRIOR}, 1e6]. Unset (with alpha_prior): "
        "centred on the experiment's pooled rate.",
    )
    min_explore_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        allow_inf_nan=False,
        description="Share of traffic spread evenly over all variants (0.05): at the start, "
        "and always with exploration 'fixed'.",
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
        description="Burn-in: trials a variant needs of its own (1000), at most one day "
        "of an even split; below it a variant gets a ramp-up share and cannot win.",
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
        description="Prior probability that all variants share one rate (0.02; 0 = plain "
        "Thompson).",
    )
    effect_scale: float | None = Field(
        default=None,
        ge=0.001,
        le=10,
        allow_inf_nan=False,
        description="Relative spread of true rates when they differ (1.0 = +-100%).",
    )

    exploration: Literal["adaptive", "fixed"] | None = Field(
        default=None,
        description="adaptive: min_explore_rate shrinks as the decision firms up (to 5% of "
        "it); fixed: always min_explore_rate.",
    )
    allocation_rule: AllocationRule | None = Field(
        default=None,
        description="sharpened (the default) = laggards get less once the leader is at least "
        "80% likely best; thompson = shares are P(best) (docs/engine.md).",
    )

    on_drift: Literal["warn", "discount"] | None = Field(
        default=None,
        description=(
            "When a variant's rate seems to have changed: warn only (warn), or also count "
            "the data with a half-life of a quarter of the days since the change (discount)."
        ),
    )

    def applied_to(self, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """`overrides` (the settings stored as not default) with this patch applied: a value
        replaces, null removes the override, so the setting takes its default."""
        out = dict(overrides)
        for name, value in self.model_dump(exclude_unset=True).items():
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out


class SettingsOut(Response):
    """The effective engine settings of an experiment."""

    alpha_prior: float | None = Field(description="Beta prior alpha (null: empirical Bayes).")
    beta_prior: float | None = Field(description="Beta prior beta (null: empirical Bayes).")
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
    on_drift: Literal["warn", "discount"] = Field(
        description="What a suspected change of a rate does: warn, or discount older data."
    )
    allocation_rule: AllocationRule = Field(description="How P(best) becomes shares.")
    exploration: Literal["adaptive", "fixed"] = Field(description="adaptive or fixed exploration.")
