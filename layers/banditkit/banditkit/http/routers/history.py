"""history function: allocation snapshots and the daily metric series."""

from __future__ import annotations

import datetime as dt
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
from banditkit.http.params import ExperimentPath
from banditkit.models.history import HistoryOut, MetricsOut

router = APIRouter(
    tags=["history"], dependencies=[ReadDep], responses=responses(401, 403, 422, 503)
)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


@router.get(
    "/experiments/{experiment_id}/history",
    response_model=HistoryOut,
    responses=responses(400, 404) | NOT_MODIFIED,
)
async def history(
    experiment_id: ExperimentPath,
    store: StoreDep,
    response: Response,
    start: Annotated[
        dt.datetime | None, Query(alias="from", description="Earliest computed_at (UTC).")
    ] = None,
    end: Annotated[
        dt.datetime | None, Query(alias="to", description="Latest computed_at (UTC).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 100,
    cursor: Annotated[str | None, Query(max_length=1000, description="next_cursor.")] = None,
    if_none_match: IfNoneMatch = None,
) -> HistoryOut | Response:
    """Allocation snapshots, newest first (304 to an If-None-Match of the current ETag)."""
    tag = await state_tag(store, experiment_id, "history", start, end, limit, cursor)
    if fresh(if_none_match, tag):
        return not_modified(tag)
    out = await run_in_threadpool(
        service.history, store, experiment_id, _utc(start), _utc(end), limit, cursor
    )
    tagged(response, tag)
    return out


@router.get("/experiments/{experiment_id}/metrics", responses=responses(404))
async def metrics(
    experiment_id: ExperimentPath,
    store: StoreDep,
    start: Annotated[dt.date | None, Query(alias="from", description="First day.")] = None,
    end: Annotated[dt.date | None, Query(alias="to", description="Last day.")] = None,
) -> MetricsOut:
    """The daily counts per variant, oldest day first."""
    return await run_in_threadpool(service.metrics, store, experiment_id, start, end)
