"""The business metrics hook as a route dependency (names and hook: `banditkit.telemetry`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from banditkit.telemetry import NoTelemetry, Telemetry


async def app_telemetry(request: Request) -> Telemetry:
    given: Telemetry | None = getattr(request.app.state, "telemetry", None)
    return given if given is not None else NoTelemetry()


TelemetryDep = Annotated[Telemetry, Depends(app_telemetry)]
