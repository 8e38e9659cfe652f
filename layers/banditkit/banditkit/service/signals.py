"""What a reader should know about an allocation: warnings (too little data, drift, a split
not applied as recommended, stale data), the reasons for the current split, and the
report's pooled and period-weighted estimates (docs/engine.md, "Warnings and checks").

The engine's numpy modules are imported inside the functions, so importing the service
package does not load numpy (functions that never compute stay light)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from banditkit import engine, models
from banditkit.cache import BoundedCache
from banditkit.service.loading import Loaded, seen
from banditkit.store import Store

# The split check reads one page of the latest snapshots: the days they cover are checked.
SNAPSHOT_PAGE = 100
STALE_DAYS = 2
MAX_LISTED_DAYS = 14  # a split_mismatch names at most the latest 14 failing days
# Split-check results are cached per store (seen(store).splits) by (experiment id,
# created_at, fingerprint): a snapshot is written only for a new fingerprint, so the
# snapshots that can bear on the counted days are fixed once a fingerprint was computed.
# Suspected drifts by fingerprint (variants, counted data, settings, control decide them).
_DRIFTS: BoundedCache[tuple[Any, ...]] = BoundedCache(1024)


def _suspected(loaded: Loaded) -> tuple[Any, ...]:
    hit = _DRIFTS.get(loaded.fingerprint)
    if hit is not None:
        return hit
    from banditkit.engine import drift

    found = drift.suspected(loaded.variants, loaded.days, loaded.settings, control=loaded.control)
    _DRIFTS.put(loaded.fingerprint, found)
    return found


def warnings(
    store: Store, loaded: Loaded, allocation: engine.Allocation | None, at: dt.datetime
) -> list[models.WarningOut]:
    if allocation is None:
        return []
    out = _insufficient(loaded, allocation) + _drift(loaded) + _split(store, loaded)
    latest = max((d.day for d in loaded.days), default=None)
    if (
        loaded.experiment.status == "running"
        and latest is not None
        and (at.date() - latest).days > STALE_DAYS
    ):
        out.append(
            models.WarningOut(
                code="stale_data",
                message=(
                    f"The latest data are for {latest}, {(at.date() - latest).days} days ago: "
                    "the allocation does not know how the variants did since."
                ),
                latest_day=latest,
            )
        )
    return out


def _insufficient(loaded: Loaded, allocation: engine.Allocation) -> list[models.WarningOut]:
    """The variants the engine does not judge yet: no data of their own, or fewer impressions
    than their burn-in needs (min_impressions, scaled down to a day of an even split)."""
    waiting = ("burn_in", "new_variant")
    return [
        models.WarningOut(
            code="insufficient_data",
            message=(
                f"{v.name} has {v.impressions} impressions of its own, fewer than it needs "
                "to be judged: its figures rest mostly on the prior and it cannot win yet."
            ),
            variant=v.name,
        )
        for v in allocation.variants
        if v.prior_only or allocation.reasons.get(v.name) in waiting
    ]


def _drift(loaded: Loaded) -> list[models.WarningOut]:
    found = _suspected(loaded)
    then = (
        "older data are discounted"
        if loaded.settings.on_drift == "discount"
        else 'the estimates still pool all data (set on_drift to "discount" to discount them)'
    )
    return [
        models.WarningOut(
            code="drift_suspected",
            message=(
                f"{d.variant}'s rate relative to the other variants seems to have changed "
                f"from {d.since} on (x{d.after / d.before if d.before else float('inf'):.2f}, "
                f"p = {d.p_value:.1g}); {then}."
            ),
            variant=d.variant,
            since=d.since,
        )
        for d in found
    ]


def _split(store: Store, loaded: Loaded) -> list[models.WarningOut]:
    exp = loaded.experiment
    key = (exp.id, exp.created_at, loaded.fingerprint)
    cache = seen(store).splits
    hit = cache.get(key)
    if hit is not None:
        return hit
    from banditkit.engine import srm

    page = store.list_snapshots(exp.id, limit=SNAPSHOT_PAGE)
    snapshots = [(s.computed_at, s.allocations) for s in page.items]
    days = srm.mismatches(loaded.variants, loaded.days, snapshots)[-MAX_LISTED_DAYS:]
    out = []
    if days:
        listed = ", ".join(
            f"{d.day} ({_shares(d.observed)} served vs {_shares(d.expected)} recommended)"
            for d in days[-3:]
        )
        out.append(
            models.WarningOut(
                code="split_mismatch",
                message=(
                    f"On {len(days)} day(s) the impressions served do not match the shares "
                    f"recommended for that day (chi-square, p < {srm.ALPHA:g}): {listed}. "
                    "Check that the client applies the allocation."
                ),
                dates=[d.day for d in days],
                observed={d.day.isoformat(): d.observed for d in days},
                expected={d.day.isoformat(): d.expected for d in days},
            )
        )
    cache.put(key, out)
    return out


def _shares(shares: dict[str, float]) -> str:
    return "/".join(f"{v:.0%}" for v in shares.values())


def reasons(loaded: Loaded, allocation: engine.Allocation | None) -> list[models.ReasonOut]:
    """Why the current split is what it is: the engine's reason per variant (burn-in, a new
    variant ramping up, a floor or the shift limit; P(best) itself needs none), and the
    drift discount when one is applied."""
    if allocation is None or loaded.experiment.status != "running":
        return []
    s = loaded.settings
    codes = allocation.reasons
    out: list[models.ReasonOut] = []
    if codes and all(code == "burn_in" for code in codes.values()):
        total = sum(v.impressions for v in allocation.variants)
        out.append(
            models.ReasonOut(
                code="burn_in",
                message=(
                    f"Burn-in: {total} impressions so far, not yet enough for any variant to "
                    "be judged on its own data; the split is even."
                ),
            )
        )
    for v in allocation.variants:
        code = codes.get(v.name)
        if code == "new_variant":
            out.append(
                models.ReasonOut(
                    code="exploring_new_variant",
                    message=(
                        f"{v.name} has {v.impressions} impressions of its own, fewer than it "
                        "needs to be judged: it gets a ramp-up share meanwhile."
                    ),
                    variant=v.name,
                )
            )
        elif code in ("control_floor", "exploration_floor"):
            which = "control" if code == "control_floor" else "exploration"
            out.append(
                models.ReasonOut(
                    code="floor_active",
                    message=f"{v.name} is held at its {which} floor of {v.allocation:.2%}.",
                    variant=v.name,
                )
            )
        elif code == "shift_limit":
            out.append(
                models.ReasonOut(
                    code="shift_limit",
                    message=(
                        f"{v.name}'s share moved by max_daily_shift ({s.max_daily_shift:.0%}) "
                        "from the previous snapshot and no further."
                    ),
                    variant=v.name,
                )
            )
    if s.on_drift == "discount":
        from banditkit.engine import drift

        found = _suspected(loaded)
        if found:
            since = max(d.since for d in found)
            latest = max(d.day for d in loaded.days)
            half_life = max(1.0, drift.DISCOUNT_SHARE * ((latest - since).days + 1))
            if s.half_life_days is not None:
                half_life = min(half_life, s.half_life_days)
            out.append(
                models.ReasonOut(
                    code="drift_discount",
                    message=(
                        f"A change from {since} on is suspected: the data are counted with a "
                        f"half-life of {half_life:g} days (a quarter of the days since it)."
                    ),
                )
            )
    return out


STRATIFIED_REASON = (
    "The allocation uses the pooled posterior: Thompson sampling needs each variant's "
    "posterior for the days ahead, and pooling is unbiased while the split and the rates do "
    "not move together. When the split changes from day to day while rates vary by day, "
    "pooled rates average each variant over a different mix of days; the period-weighted "
    "estimate compares the variants day by day, so prefer it for the lift when the two differ."
)


def estimates(loaded: Loaded, rep: engine.Report) -> tuple[models.EstimatesOut, list[Any]]:
    """Pooled (the engine's posterior) and period-weighted rates and lifts, and an
    estimates_disagree warning per lift whose sign the weighting flips."""
    from banditkit.engine import stratified
    from banditkit.engine.posterior import count

    counted = count(loaded.variants, loaded.days, loaded.settings, control=loaded.control)
    index = {v: k for k, v in enumerate(loaded.variants)}

    def out(e: Any) -> models.EstimateOut | None:
        return (
            None
            if e is None
            else models.EstimateOut(value=e.value, ci_low=e.ci_low, ci_high=e.ci_high)
        )

    rates = [
        models.VariantEstimates(
            variant=v.name,
            pooled=models.EstimateOut(value=v.posterior_mean, ci_low=v.ci_low, ci_high=v.ci_high),
            stratified=out(stratified.rate(counted, index[v.name])),
        )
        for v in rep.allocation.variants
    ]
    lifts = []
    disagree = []
    c = counted.control
    for lf in rep.lifts:
        strat = stratified.lift(counted, index[lf.variant], c) if c is not None else None
        lifts.append(
            models.VariantEstimates(
                variant=lf.variant,
                pooled=None  # prior only: no finding to show
                if lf.lift is None or lf.ci_low is None or lf.ci_high is None
                else models.EstimateOut(value=lf.lift, ci_low=lf.ci_low, ci_high=lf.ci_high),
                stratified=out(strat),
            )
        )
        if (
            strat is not None
            and lf.lift is not None
            and (strat.ci_low > 0 or strat.ci_high < 0)
            and strat.value * lf.lift < 0
        ):
            disagree.append(
                models.WarningOut(
                    code="estimates_disagree",
                    message=(
                        f"{lf.variant}'s pooled lift ({lf.lift:+.1%}) and period-weighted lift "
                        f"({strat.value:+.1%}, interval {strat.ci_low:+.1%} to "
                        f"{strat.ci_high:+.1%}) disagree in sign: the split changed while "
                        "rates varied by day; trust the period-weighted lift."
                    ),
                    variant=lf.variant,
                )
            )
    body = models.EstimatesOut(
        allocation_uses="pooled", reason=STRATIFIED_REASON, rates=rates, lifts=lifts
    )
    return body, disagree
