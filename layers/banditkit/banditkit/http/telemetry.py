"""The business metrics hook as a route dependency (names and hook: `banditkit.telemetry`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from banditkit.telemetry import (
    ALLOCATIONS_COMPUTED,
    EVENTS_INGESTED,
    SNAPSHOTS_WRITTEN,
    NoTelemetry,
    Telemetry,
)

__all__ = [
    "ALLOCATIONS_COMPUTED",
    "EVENTS_INGESTED",
    "SNAPSHOTS_WRITTEN",
    "NoTelemetry",
    "Telemetry",
    "TelemetryDep",
    "app_telemetry",
]


async def app_telemetry(request: Request) -> Telemetry:
    given: Telemetry | None = getattr(request.app.state, "telemetry", None)
    return given if given is not None else NoTelemetry()


TelemetryDep = Annotated[Telemetry, Depends(app_telemetry)]
