"""Assignment: a unit id mapped deterministically onto the current shares."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from banditkit import models
from banditkit.service.allocation import allocate
from banditkit.service.errors import NoVariants
from banditkit.service.loading import Clock, utcnow
from banditkit.store import Store


def unit_point(experiment_id: str, unit_id: str) -> float:
    """A uniform point in [0, 1) from the unit id, stable across processes and releases."""
    digest = hashlib.sha256(f"{experiment_id}\x00{unit_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick(shares: Mapping[str, float], point: float) -> str:
    """The variant whose cumulative share interval holds `point` (in the shares' order)."""
    names = list(shares)
    total = 0.0
    for name in names:
        total += shares[name]
        if point < total:
            return name
    return names[-1]


def assign(
    store: Store, experiment_id: str, unit_id: str, *, now: Clock = utcnow
) -> models.AssignOut:
    """Map a unit deterministically onto the current shares (same unit, same shares, same
    variant; when shares move, only units near the moved boundaries change variant)."""
    result = allocate(store, experiment_id, now=now).out
    if not result.allocations:
        raise NoVariants(f"experiment {experiment_id!r} has no variants yet")
    return models.AssignOut(
        experiment_id=result.experiment_id,
        unit_id=unit_id,
        variant=pick(result.allocations, unit_point(experiment_id, unit_id)),
        data_fingerprint=result.data_fingerprint,
    )
