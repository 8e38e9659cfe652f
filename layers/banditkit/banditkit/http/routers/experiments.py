"""experiments function: create, list, read, update, delete experiments; GET /health."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from starlette.concurrency import run_in_threadpool

from banditkit import __version__, service
from banditkit.http.auth import ApiKeyDep
from banditkit.http.deps import ConfigDep, StoreDep
from banditkit.http.errors import responses
from banditkit.models import (
    ExperimentCreate,
    ExperimentOut,
    ExperimentPage,
    ExperimentPatch,
    ExperimentStatus,
    HealthOut,
)

router = APIRouter(tags=["experiments"])
protected = APIRouter(dependencies=[ApiKeyDep], responses=responses(401, 403, 422, 503))

ID_PATTERN = r"^[A-Za-z0-9_-]+$"
ExperimentPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="Experiment id.")
]


@router.get("/health", responses=responses(503))
async def health(store: StoreDep, config: ConfigDep) -> HealthOut:
    """Liveness and store reachability (open without a key: it reveals no data)."""
    await run_in_threadpool(store.ping)
    return HealthOut(
        status="ok",
        store=store.name,
        version=__version__,
        reset_enabled=config.reset_enabled,
        auth_required=config.auth_required,
    )


@protected.post("/experiments", status_code=201, responses=responses(400, 409, 413))
async def create_experiment(body: ExperimentCreate, store: StoreDep) -> ExperimentOut:
    """Create an experiment, optionally declaring its variants and settings."""
    return await run_in_threadpool(service.create_experiment, store, body)


@protected.get("/experiments", responses=responses(400))
async def list_experiments(
    store: StoreDep,
    status: Annotated[ExperimentStatus | None, Query(description="Filter by status.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Page size.")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=1000, description="next_cursor of the previous page.")
    ] = None,
) -> ExperimentPage:
    """List experiments, oldest first, a page at a time."""
    return await run_in_threadpool(service.list_experiments, store, status, limit, cursor)


@protected.get("/experiments/{experiment_id}", responses=responses(404))
async def get_experiment(experiment_id: ExperimentPath, store: StoreDep) -> ExperimentOut:
    """One experiment."""
    return await run_in_threadpool(service.get_experiment, store, experiment_id)


@protected.patch("/experiments/{experiment_id}", responses=responses(400, 404, 409, 413))
async def update_experiment(
    experiment_id: ExperimentPath, body: ExperimentPatch, store: StoreDep
) -> ExperimentOut:
    """Change name, description, status or settings, or add variants."""
    return await run_in_threadpool(service.update_experiment, store, experiment_id, body)


@protected.delete("/experiments/{experiment_id}", status_code=204, responses=responses(404))
async def delete_experiment(experiment_id: ExperimentPath, store: StoreDep) -> Response:
    """Delete an experiment with all its data and history."""
    await run_in_threadpool(service.delete_experiment, store, experiment_id)
    return Response(status_code=204)


router.include_router(protected)
