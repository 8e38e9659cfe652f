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
from banditkit.models.common import IsoDate, IsoDateTime
from banditkit.models.history import HistoryOut, MetricsOut
from banditkit.service.errors import FieldError

router = APIRouter(
    tags=["history"], dependencies=[ReadDep], responses=responses(401, 403, 422, 503)
)


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
        IsoDateTime | None, Query(alias="from", description="Earliest computed_at (UTC).")
    ] = None,
    end: Annotated[
        IsoDateTime | None, Query(alias="to", description="Latest computed_at (UTC).")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="Page size.")] = 100,
    cursor: Annotated[str | None, Query(max_length=1000, description="next_cursor.")] = None,
    start_date: Annotated[
        IsoDate | None, Query(description="First day (UTC), as the original API's clients send.")
    ] = None,
    end_date: Annotated[IsoDate | None, Query(description="Last day (UTC), inclusive.")] = None,
    if_none_match: IfNoneMatch = None,
) -> HistoryOut | Response:
    """Allocation snapshots, newest first (`history` holds them in the original API's shape;
    304 to an If-None-Match of the current ETag). `start_date`/`end_date` keep the days
    between them; with `from`/`to` both apply."""
    if start_date is not None and end_date is not None and end_date < start_date:
        raise service.InvalidRequest([FieldError("end_date", "must not be before start_date")])
    if start_date is not None:
        first = dt.datetime.combine(start_date, dt.time.min, dt.UTC)
        start = first if start is None else max(start, first)
    if end_date is not None:
        last = dt.datetime.combine(end_date, dt.time.max, dt.UTC)
        end = last if end is None else min(end, last)
    tag = await state_tag(store, experiment_id, "history", start, end, limit, cursor)
    if fresh(if_none_match, tag):
        return not_modified(tag)
    out = await run_in_threadpool(service.history, store, experiment_id, start, end, limit, cursor)
    tagged(response, tag)
    return out


@router.get("/experiments/{experiment_id}/metrics", responses=responses(404))
async def metrics(
    experiment_id: ExperimentPath,
    store: StoreDep,
    start: Annotated[IsoDate | None, Query(alias="from", description="First day.")] = None,
    end: Annotated[IsoDate | None, Query(alias="to", description="Last day.")] = None,
) -> MetricsOut:
    """The daily counts per variant, oldest day first."""
    return await run_in_threadpool(service.metrics, store, experiment_id, start, end)
