"""Business metrics hook: Lambda handlers plug Powertools EMF in; locally it is a no-op."""

from __future__ import annotations

from typing import Annotated, Protocol

from fastapi import Depends, Request

EVENTS_INGESTED = "EventsIngested"
ALLOCATIONS_COMPUTED = "AllocationsComputed"
SNAPSHOTS_WRITTEN = "SnapshotsWritten"


class Telemetry(Protocol):
    def count(self, name: str, value: int = 1) -> None: ...


class NoTelemetry:
    def count(self, name: str, value: int = 1) -> None:
        return None


async def app_telemetry(request: Request) -> Telemetry:
    given: Telemetry | None = getattr(request.app.state, "telemetry", None)
    return given if given is not None else NoTelemetry()


TelemetryDep = Annotated[Telemetry, Depends(app_telemetry)]
