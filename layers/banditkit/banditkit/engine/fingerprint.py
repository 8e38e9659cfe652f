"""A stable digest of the counted data and the settings (same input → same hex string)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Sequence

from banditkit.engine.types import DailyCounts, Settings


def fingerprint(
    variants: Sequence[str],
    days: Sequence[DailyCounts],
    settings: Settings,
    control: str | None = None,
) -> str:
    """sha256 hex of a canonical JSON of the variants, control, settings and daily rows.

    Rows are sorted by (date, variant) so the order they arrive in does not matter;
    rows of variants outside `variants` are left out (they are not counted).
    """
    names = set(variants)
    rows = sorted(
        (d.day.isoformat(), d.variant, int(d.impressions), int(d.clicks), int(d.conversions))
        for d in days
        if d.variant in names
    )
    canonical = {
        "variants": list(variants),
        "control": control,
        "settings": dataclasses.asdict(settings),
        "days": rows,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
