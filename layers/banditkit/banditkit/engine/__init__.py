"""The Thompson-sampling engine: pure numpy maths on daily counts (DESIGN §4).

Public API used by the service (keep these signatures):

- ``allocate(variants, days, settings, *, control=None, previous=None, as_of=None) -> Allocation``
- ``report(variants, days, settings, *, control=None, previous=None, as_of=None) -> Report``
- ``simulate(variant_names, rates, daily_impressions, days, settings, *, changes=(), seed=0)
  -> Simulation``
- ``fingerprint(days, settings) -> str`` (stable hex digest of the counted data + settings)
- types: ``Settings``, ``InvalidSettings``, ``DailyCounts``, ``Allocation``, ``VariantResult``,
  ``Report``, ``Lift``, ``Simulation``, ``RateChange``.
"""

from banditkit.engine.types import (
    Allocation,
    DailyCounts,
    InvalidSettings,
    Lift,
    RateChange,
    Report,
    Settings,
    Simulation,
    VariantResult,
)

__all__ = [
    "Allocation",
    "DailyCounts",
    "InvalidSettings",
    "Lift",
    "RateChange",
    "Report",
    "Settings",
    "Simulation",
    "VariantResult",
]
