"""Value types of the engine: settings in, results out. Frozen, numpy-free at the edges."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, fields
from typing import Literal

Metric = Literal["ctr", "conversion_rate"]
Exploration = Literal["adaptive", "fixed"]
Status = Literal["warming_up", "optimizing", "winner_found"]
OnDrift = Literal["warn", "discount"]
AllocationRule = Literal["thompson", "sharpened"]


class InvalidSettings(ValueError):
    """A setting is out of range, or the settings together are infeasible."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


# Defaults chosen on bench/regret.py (docs/engine.md "Choosing the defaults").
NULL_PRIOR = 0.02
EFFECT_SCALE = 1.0
EXPLORE_FLOOR = 0.05  # adaptive exploration never falls below this × min_explore_rate
EXPLORE_FULL_LOSS = 0.1  # ... and is full while the leader's expected loss / mean ≥ this


@dataclass(frozen=True)
class Settings:
    """Per-experiment engine settings (docs/engine.md). Validated on creation."""

    # None (both): an empirical-Bayes prior centred on the pooled rate (docs/engine.md);
    # one set alone takes 1.0 for the other.
    alpha_prior: float | None = None
    beta_prior: float | None = None
    min_explore_rate: float = 0.05
    control_floor: float = 0.10
    max_daily_shift: float | None = None
    min_impressions: int = 1000
    window_days: int | None = None
    half_life_days: float | None = None
    metric: Metric = "ctr"
    # Winner rule: P(best) >= winner_p_best and expected loss < winner_loss_share * best mean.
    winner_p_best: float = 0.95
    winner_loss_share: float = 0.01
    # Probability matching under a spike-and-slab prior (docs/engine.md): prior probability
    # that all variants share one rate (0 = plain Thompson), and the relative spread of
    # true rates around their common mean when they differ (1.0 = ±100%).
    null_prior: float = NULL_PRIOR
    effect_scale: float = EFFECT_SCALE
    # "adaptive": min_explore_rate at the start, shrinking with the leader's relative
    # expected loss to a floor of EXPLORE_FLOOR × min_explore_rate; "fixed": always it.
    exploration: Exploration = "adaptive"
    # When a change of a variant's rate is suspected (engine/drift.py): only warn, or also
    # count the data with a half-life from the change (docs/engine.md, "Warnings and checks").
    on_drift: OnDrift = "warn"
    # "sharpened": laggards get less once the leader is clear (engine/sharpen.py, docs/engine.md
    # "Sharpened allocation"; the default: no worse on any benchmark scenario, better on most);
    # "thompson": shares = P(best).
    allocation_rule: AllocationRule = "sharpened"

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))

    def check_feasible(self, n_variants: int, has_control: bool) -> None:
        """Raise InvalidSettings when the floors cannot all hold for this many variants."""
        if n_variants < 1:
            return
        floor = self.min_explore_rate / n_variants
        need = (n_variants - 1) * floor + (self.control_floor if has_control else floor)
        if need > 1.0 + 1e-12:
            raise InvalidSettings(
                "control_floor",
                f"control_floor {self.control_floor} plus the exploration floors of the other "
                f"{n_variants - 1} variants ({(n_variants - 1) * floor:.4f}) exceeds 1",
            )


def _validate(s: Settings) -> None:
    def positive_finite(name: str, value: float) -> None:
        if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise InvalidSettings(name, "must be a finite number > 0")

    def unit(name: str, value: float, *, open_low: bool = False) -> None:
        ok = isinstance(value, int | float) and math.isfinite(value)
        ok = ok and (value > 0 if open_low else value >= 0) and value <= 1
        if not ok:
            raise InvalidSettings(
                name, "must be a number in " + ("(0, 1]" if open_low else "[0, 1]")
            )

    for name in ("alpha_prior", "beta_prior"):
        value = getattr(s, name)
        if value is not None:
            positive_finite(name, value)
    unit("min_explore_rate", s.min_explore_rate)
    unit("control_floor", s.control_floor)
    if s.max_daily_shift is not None:
        unit("max_daily_shift", s.max_daily_shift, open_low=True)
    if (
        isinstance(s.min_impressions, bool)
        or not isinstance(s.min_impressions, int)
        or s.min_impressions < 0
    ):
        raise InvalidSettings("min_impressions", "must be an integer >= 0")
    if s.window_days is not None and (
        isinstance(s.window_days, bool) or not isinstance(s.window_days, int) or s.window_days < 1
    ):
        raise InvalidSettings("window_days", "must be an integer >= 1 or null")
    if s.half_life_days is not None:
        positive_finite("half_life_days", s.half_life_days)
    if s.metric not in ("ctr", "conversion_rate"):
        raise InvalidSettings("metric", "must be 'ctr' or 'conversion_rate'")
    unit("winner_p_best", s.winner_p_best, open_low=True)
    unit("winner_loss_share", s.winner_loss_share)
    if not (isinstance(s.null_prior, int | float) and 0.0 <= s.null_prior < 1.0):
        raise InvalidSettings("null_prior", "must be a number in [0, 1)")
    positive_finite("effect_scale", s.effect_scale)
    if s.on_drift not in ("warn", "discount"):
        raise InvalidSettings("on_drift", "must be 'warn' or 'discount'")
    if s.allocation_rule not in ("thompson", "sharpened"):
        raise InvalidSettings("allocation_rule", "must be 'thompson' or 'sharpened'")
    if s.exploration not in ("adaptive", "fixed"):
        raise InvalidSettings("exploration", "must be 'adaptive' or 'fixed'")


@dataclass(frozen=True)
class DailyCounts:
    """One (day, variant) row of counts, as stored."""

    day: dt.date
    variant: str
    impressions: int
    clicks: int
    conversions: int = 0


@dataclass(frozen=True)
class VariantResult:
    name: str
    impressions: int  # trials counted (after windowing; unweighted)
    clicks: int
    conversions: int
    rate: float  # observed successes / trials for the settings' metric (0 with no trials)
    posterior_mean: float
    ci_low: float  # 95% equal-tailed credible interval of the posterior
    ci_high: float
    p_best: float
    expected_loss: float | None  # E[max_j θ_j − θ_k]; None while prior_only
    allocation: float
    # No data of its own: every statistic above is the prior's, not a finding.
    prior_only: bool = False


@dataclass(frozen=True)
class Allocation:
    status: Status
    shares: dict[str, float]  # in variant order, sums to exactly 1 at 6 decimals
    variants: tuple[VariantResult, ...]
    winner: str | None  # the winning variant when status == "winner_found"
    # Scott's PVR: 95th pct of (max θ − θ_best)/θ_best over the variants with data of
    # their own; None while fewer than two have any.
    potential_value_remaining: float | None
    # Variant -> why it gets its share (REASONS in engine/rules.py).
    reasons: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Lift:
    variant: str
    # All four None when either side has no data of its own (prior_only).
    lift: float | None  # relative lift of the posterior mean vs control: m_k / m_c − 1
    ci_low: float | None  # 95% interval of θ_k/θ_c − 1
    ci_high: float | None
    p_better: float | None  # P(θ_k > θ_c)


@dataclass(frozen=True)
class RegretDay:
    """Cumulative regret and gain up to and including `date` (the series behind a chart)."""

    date: dt.date
    regret: float
    gained: float


@dataclass(frozen=True)
class Report:
    allocation: Allocation
    control: str | None
    lifts: tuple[Lift, ...]  # one per non-control variant (empty without a control)
    regret_so_far: float  # estimated successes lost vs always playing the best, from the daily data
    gained_vs_even: float  # estimated successes gained vs an even split over the same days
    recommendation: str  # one plain-language sentence or two
    regret_by_day: tuple[RegretDay, ...] = ()  # cumulative, one per counted day


@dataclass(frozen=True)
class RateChange:
    """From `day` (0-based) on, the true rates become `rates`."""

    day: int
    rates: tuple[float, ...]


@dataclass(frozen=True)
class Simulation:
    variants: tuple[str, ...]
    shares: tuple[tuple[float, ...], ...]  # per day, the engine's shares
    cumulative_regret: tuple[float, ...]  # per day, engine
    even_cumulative_regret: tuple[float, ...]  # per day, even split
    successes: int  # engine total successes
    even_successes: int
    extra: dict[str, float] = field(default_factory=dict)
    # The first day the engine declared a winner, as days of data it had (None: never).
    winner_day: int | None = None
    winner: str | None = None
