"""The Thompson-sampling engine: pure numpy maths on daily counts (DESIGN §4).

Public API used by the service (keep these signatures):

- ``allocate(variants, days, settings, *, control=None, previous=None, as_of=None) -> Allocation``
- ``report(variants, days, settings, *, control=None, previous=None, as_of=None) -> Report``
- ``simulate(variant_names, rates, daily_impressions, days, settings, *, control=None,
  changes=(), seed=0) -> Simulation``
- ``fingerprint(variants, days, settings, control=None) -> str`` (sha256 hex of the data +
  settings)
- types: ``Settings``, ``InvalidSettings``, ``DailyCounts``, ``Allocation``, ``VariantResult``,
  ``Report``, ``Lift``, ``Simulation``, ``RateChange``.

Every invalid input raises ``InvalidSettings`` whose ``field`` names the culprit.
"""

from banditkit.engine.allocation import allocate, report
from banditkit.engine.fingerprint import fingerprint
from banditkit.engine.simulate import simulate
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
    "allocate",
    "fingerprint",
    "report",
    "simulate",
]
