"""experiments function: create, list, read, update, delete experiments; GET /health."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from starlette.concurrency import run_in_threadpool

from banditkit import __version__, service
from banditkit.http.auth import AdminScopeDep, ReadDep
from banditkit.http.conditional import (
    NOT_MODIFIED,
    IfNoneMatch,
    fresh,
    not_modified,
    state_tag,
    tagged,
)
from banditkit.http.deps import ConfigDep, StoreDep
from banditkit.http.errors import responses
from banditkit.http.health import check_store
from banditkit.http.params import ExperimentPath
from banditkit.models.common import ExperimentStatus
from banditkit.models.experiments import (
    ExperimentCreate,
    ExperimentOut,
    ExperimentPage,
    ExperimentPatch,
    HealthOut,
    SearchQuery,
)
from banditkit.service.experiments import ListOrder

router = APIRouter(tags=["experiments"])
# Every route but /health needs a key: reading takes the read scope, changing experiments
# the admin scope. Declared per route rather than as a second router included into this
# one: FastAPI builds an included router's routes once more at import.
READ = [ReadDep]
ADMIN = [AdminScopeDep]


def keyed_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return responses(401, 403, 422, 503, *statuses)


@router.get("/health", responses=responses(503))
async def health(store: StoreDep, config: ConfigDep) -> HealthOut:
    """Liveness and store reachability (open without a key: it reveals no data), checked at
    most every few seconds. 503 within 2 s when the store fails or does not answer, naming it
    in `errors` (field `store`)."""
    await check_store(store)
    return HealthOut(
        status="ok",
        store=store.name,
        version=__version__,
        reset_enabled=config.reset_enabled,
        auth_required=config.auth_required,
    )


@router.post(
    "/experiments",
    status_code=201,
    dependencies=ADMIN,
    responses=keyed_responses(400, 409, 413),
)
async def create_experiment(body: ExperimentCreate, store: StoreDep) -> ExperimentOut:
    """Create an experiment, optionally declaring its variants and settings."""
    return await run_in_threadpool(service.create_experiment, store, body)


@router.get(
    "/experiments",
    dependencies=READ,
    responses=keyed_responses(400),
)
async def list_experiments(
    store: StoreDep,
    status: Annotated[ExperimentStatus | None, Query(description="Filter by status.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=1000,
            description="next_cursor of the previous page (send the same q, status and order).",
        ),
    ] = None,
    q: Annotated[
        SearchQuery | None,
        Query(
            description=(
                "Only experiments whose id or name contains this text, ignoring case "
                "(up to 100 characters, no control characters; empty means all)."
            )
        ),
    ] = None,
    order: Annotated[
        ListOrder,
        Query(description="oldest (the default) or newest: by creation time, then id."),
    ] = "oldest",
) -> ExperimentPage:
    """List experiments a page at a time: oldest first unless `order=newest`, searched and
    filtered on the server across every page."""
    return await run_in_threadpool(service.list_experiments, store, status, limit, cursor, q, order)


@router.get(
    "/experiments/{experiment_id}",
    dependencies=READ,
    response_model=ExperimentOut,
    responses=keyed_responses(404) | NOT_MODIFIED,
)
async def get_experiment(
    experiment_id: ExperimentPath,
    store: StoreDep,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> ExperimentOut | Response:
    """One experiment (304 to an If-None-Match of the current ETag)."""
    tag = await state_tag(store, experiment_id, "experiment")
    if fresh(if_none_match, tag):
        return not_modified(tag)
    out = await run_in_threadpool(service.get_experiment, store, experiment_id)
    tagged(response, tag)
    return out


@router.patch(
    "/experiments/{experiment_id}",
    dependencies=ADMIN,
    responses=keyed_responses(400, 404, 409, 413),
)
async def update_experiment(
    experiment_id: ExperimentPath, body: ExperimentPatch, store: StoreDep
) -> ExperimentOut:
    """Change name, description, status or settings, or add variants."""
    return await run_in_threadpool(service.update_experiment, store, experiment_id, body)


@router.delete(
    "/experiments/{experiment_id}",
    status_code=204,
    dependencies=ADMIN,
    responses=keyed_responses(404),
)
async def delete_experiment(experiment_id: ExperimentPath, store: StoreDep) -> Response:
    """Delete an experiment with all its data and history."""
    await run_in_threadpool(service.delete_experiment, store, experiment_id)
    return Response(status_code=204)
