"""What every use case shares: the clock, engine settings from stored overrides, the
control rule, and loading an experiment's data for the engine (with the per-store cache
that lets unchanged data skip the read)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from banditkit import engine, models
from banditkit.cache import BoundedCache
from banditkit.engine import DailyCounts, InvalidSettings, Settings
from banditkit.service.cpu import cpu_slot
from banditkit.service.errors import FieldError, InvalidRequest
from banditkit.store import Experiment, Store, Variant

Clock = Callable[[], dt.datetime]
UPDATE_RETRIES = 5


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def engine_settings(overrides: Mapping[str, Any], *, prefix: str = "settings") -> Settings:
    """Engine settings from stored/posted overrides; InvalidRequest names `settings.<field>`."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if k in Settings.names()})
    except InvalidSettings as err:
        raise InvalidRequest([FieldError(f"{prefix}.{err.field}", err.message)]) from None


def check_feasible(
    settings: Settings, variants: Sequence[Variant] | None, *, prefix: str = "settings"
) -> None:
    """Floors must fit for the declared variants, or for the maximum when none are declared."""
    n = len(variants) if variants else models.MAX_VARIANTS
    has_control = not variants or control_of(variants, [v.name for v in variants]) is not None
    try:
        settings.check_feasible(n, has_control)
    except InvalidSettings as err:
        raise InvalidRequest([FieldError(f"{prefix}.{err.field}", err.message)]) from None


def control_of(variants: Sequence[Variant], names: Iterable[str]) -> str | None:
    """The variant flagged is_control, else the one named `control`, else None."""
    for v in variants:
        if v.is_control:
            return v.name
    return "control" if "control" in set(names) else None


def settings_out(settings: Settings) -> models.SettingsOut:
    return models.SettingsOut(**dataclasses.asdict(settings))


@dataclasses.dataclass(frozen=True)
class Loaded:
    """An experiment with its data, ready for the engine."""

    experiment: Experiment
    settings: Settings
    variants: list[str]
    control: str | None
    days: list[DailyCounts]
    fingerprint: str


@dataclasses.dataclass
class _Seen:
    """What this process has read from one store object, so unchanged data is not read again.

    `loaded`: what load last read of an experiment (id, created_at) and window. The same
    (version, data_version) means the same rows and settings (the store bumps data_version
    with every write), so a repeated read costs one small query; a newer state replaces the
    entry. Bounded by the rows held.
    `snapshotted`: the state (version, data_version, fingerprint) whose snapshot this process
    last wrote or saw as the latest, so unchanged data does not ask for it again either (data
    that returns to an earlier state has a new data_version, so it asks).
    """

    loaded: BoundedCache[Loaded] = dataclasses.field(default_factory=lambda: BoundedCache(100_000))
    snapshotted: BoundedCache[tuple[int, int, str]] = dataclasses.field(
        default_factory=lambda: BoundedCache(10_000)
    )
    # `splits`: the split check's warnings per (id, created_at, fingerprint) (service/signals.py).
    splits: BoundedCache[list[Any]] = dataclasses.field(default_factory=lambda: BoundedCache(1024))

    def clear(self) -> None:
        self.loaded.clear()
        self.snapshotted.clear()
        self.splits.clear()


_SEEN: weakref.WeakKeyDictionary[Store, _Seen] = weakref.WeakKeyDictionary()


def seen(store: Store) -> _Seen:
    seen = _SEEN.get(store)
    return seen if seen is not None else _SEEN.setdefault(store, _Seen())


def load(store: Store, experiment_id: str, window_days: int | None = None) -> Loaded:
    exp = store.get_experiment(experiment_id)
    key = (exp.id, exp.created_at, window_days)
    cache = seen(store).loaded
    hit = cache.get(key)
    if hit is not None and (hit.experiment.version, hit.experiment.data_version) == (
        exp.version,
        exp.data_version,
    ):
        return hit
    with cpu_slot():  # tens of thousands of rows decoded, fingerprinted
        loaded = read(store, exp, window_days)
    cache.put(key, loaded, weight=len(loaded.days) + 1)
    return loaded


def read(store: Store, exp: Experiment, window_days: int | None) -> Loaded:
    settings = engine_settings(exp.settings)
    if window_days is not None:
        settings = dataclasses.replace(settings, window_days=window_days)
    rows = store.read_daily(exp.id)
    names = [v.name for v in exp.variants]
    known = set(names)
    names += sorted({r.variant_name for r in rows} - known)
    control = control_of(exp.variants, names)
    days = [
        DailyCounts(r.date, r.variant_name, r.impressions, r.clicks, r.conversions) for r in rows
    ]
    fp = engine.fingerprint(names, days, settings, control)
    return Loaded(exp, settings, names, control, days, fp)


def even_split(names: Sequence[str]) -> dict[str, float]:
    """Equal shares rounded to 6 decimals that sum to exactly 1."""
    if not names:
        return {}
    share = math.floor(1e6 / len(names)) / 1e6
    shares = dict.fromkeys(names, share)
    shares[names[0]] = round(1.0 - share * (len(names) - 1), 6)
    return shares
