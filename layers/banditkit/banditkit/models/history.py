"""Models of the history function: allocation snapshots and the daily metric series."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from banditkit.models.common import Response


class SnapshotOut(Response):
    computed_at: dt.datetime = Field(description="When the snapshot was computed (UTC).")
    trigger: Literal["api", "schedule"] = Field(description="What computed it.")
    status: str = Field(description="Allocation status at the time.")
    allocations: dict[str, float] = Field(description="Variant -> share.")
    p_best: dict[str, float] = Field(description="Variant -> P(best).")
    totals: dict[str, dict[str, int]] = Field(description="Variant -> counted totals.")
    data_fingerprint: str = Field(description="Digest of the data used.")
    latest_day: dt.date | None = Field(
        default=None,  # (absent from older servers' answers: the client still parses)
        description="The latest data day the snapshot counted (null without data, and for "
        "snapshots stored before this field).",
    )


class HistoryEntry(Response):
    """One snapshot in the original API's shape."""

    date: dt.date = Field(description="Day the snapshot was computed (UTC).")
    algorithm: Literal["thompson_sampling"] = Field(description="Always thompson_sampling.")
    allocations: dict[str, float] = Field(description="Variant -> share.")
    total_impressions: int = Field(description="Trials the snapshot counted.")
    total_clicks: int = Field(description="Clicks the snapshot counted.")


class HistoryOut(Response):
    experiment_id: str = Field(description="The experiment.")
    items: list[SnapshotOut] = Field(description="Snapshots, newest first.")
    next_cursor: str | None = Field(description="Pass as cursor for the next page.")
    history: list[HistoryEntry] = Field(
        description="The same snapshots in the original API's shape (its clients read this)."
    )


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
