"""allocation function: GET /allocation, the report, /assign and /simulate."""

from __future__ import annotations

import functools
from typing import Annotated

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from banditkit import service
from banditkit.http.auth import ReadDep
from banditkit.http.conditional import (
    NOT_MODIFIED,
    IfNoneMatch,
    fresh,
    not_modified,
    state_tag,
    tagged,
)
from banditkit.http.deps import StoreDep
from banditkit.http.errors import responses
from banditkit.http.params import ExperimentPath, ExperimentQuery
from banditkit.http.telemetry import TelemetryDep
from banditkit.models.allocation import (
    AllocationOut,
    AssignOut,
    ReportOut,
    SimulateIn,
    SimulateOut,
)
from banditkit.telemetry import ALLOCATIONS_COMPUTED, SNAPSHOTS_WRITTEN

router = APIRouter(
    tags=["allocation"], dependencies=[ReadDep], responses=responses(401, 403, 422, 503)
)


@router.get(
    "/allocation",
    response_model=AllocationOut,
    responses=responses(400, 404) | NOT_MODIFIED,
)
async def allocate(
    experiment_id: ExperimentQuery,
    store: StoreDep,
    telemetry: TelemetryDep,
    response: Response,
    window_days: Annotated[
        int | None, Query(ge=1, le=3650, description="Count only the last N days (not stored).")
    ] = None,
    if_none_match: IfNoneMatch = None,
) -> AllocationOut | Response:
    """Traffic shares for the next period with the evidence behind them. A snapshot is added
    to the history only when the data changed since the last one. Answers 304 to an
    If-None-Match of the current ETag without computing."""
    tag = await state_tag(store, experiment_id, "allocation", window_days)
    if fresh(if_none_match, tag):
        return not_modified(tag)
    result = await run_in_threadpool(
        functools.partial(service.allocate, store, experiment_id, window_days=window_days)
    )
    telemetry.count(ALLOCATIONS_COMPUTED)
    if result.snapshot_written:
        telemetry.count(SNAPSHOTS_WRITTEN)
        tag = await state_tag(store, experiment_id, "allocation", window_days)
    tagged(response, tag)
    return result.out


@router.get(
    "/experiments/{experiment_id}/report",
    response_model=ReportOut,
    responses=responses(400, 404) | NOT_MODIFIED,
)
async def report(
    experiment_id: ExperimentPath,
    store: StoreDep,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> ReportOut | Response:
    """The allocation plus lift vs control, regret so far and a recommendation (304 as for
    the allocation)."""
    tag = await state_tag(store, experiment_id, "report")
    if fresh(if_none_match, tag):
        return not_modified(tag)
    out = await run_in_threadpool(service.report, store, experiment_id)
    tagged(response, tag)
    return out


@router.get("/assign", responses=responses(400, 404, 409))
async def assign(
    experiment_id: ExperimentQuery,
    unit_id: Annotated[
        str, Query(min_length=1, max_length=200, description="User or session id to assign.")
    ],
    store: StoreDep,
) -> AssignOut:
    """The variant of one unit: its hash mapped through the current shares (deterministic)."""
    return await run_in_threadpool(service.assign, store, experiment_id, unit_id)


@router.post("/simulate", responses=responses(400, 413))
async def simulate(body: SimulateIn) -> SimulateOut:
    """Run the real engine on a synthetic experiment (days x variants is capped)."""
    return await run_in_threadpool(service.simulate, body)
