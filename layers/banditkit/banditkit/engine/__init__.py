"""The Thompson-sampling engine: pure numpy maths on daily counts (docs/engine.md).

Public API used by the service (keep these signatures):

- ``allocate(variants, days, settings, *, control=None, previous=None, as_of=None) -> Allocation``
- ``report(variants, days, settings, *, control=None, previous=None, as_of=None) -> Report``
- ``simulate(variant_names, rates, daily_impressions, days, settings, *, control=None,
  changes=(), seed=0, weekday_rates=(), weekday_traffic=(), start_days=None) -> Simulation``
- ``fingerprint(variants, days, settings, control=None) -> str`` (sha256 hex of the data +
  settings)
- types: ``Settings``, ``InvalidSettings``, ``DailyCounts``, ``Allocation``, ``VariantResult``,
  ``Report``, ``Lift``, ``Simulation``, ``RateChange``.

Every invalid input raises ``InvalidSettings`` whose ``field`` names the culprit.

The types and ``fingerprint`` are numpy-free and load with the package; ``allocate``,
``report`` and ``simulate`` load numpy, so they are exported lazily (PEP 562): a Lambda
function whose routes never compute (experiments, events) never imports numpy.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from banditkit.engine.fingerprint import fingerprint
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

if TYPE_CHECKING:
    from banditkit.engine.allocation import allocate, report
    from banditkit.engine.simulate import simulate

# Lazily exported name -> the module that defines it (and imports numpy).
_MATHS = {
    "allocate": "banditkit.engine.allocation",
    "report": "banditkit.engine.allocation",
    "simulate": "banditkit.engine.simulate",
}


def __getattr__(name: str) -> Any:
    module = _MATHS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


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
