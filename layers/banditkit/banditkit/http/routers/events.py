"""events function: POST /events (one day of counts) and the CSV import."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from starlette.concurrency import run_in_threadpool

from banditkit import service
from banditkit.http.auth import WriteDep
from banditkit.http.deps import StoreDep
from banditkit.http.errors import responses
from banditkit.http.params import ExperimentPath
from banditkit.http.telemetry import TelemetryDep
from banditkit.models.common import WriteMode
from banditkit.models.events import EventsIn, EventsOut, ImportOut
from banditkit.telemetry import EVENTS_INGESTED

router = APIRouter(
    tags=["events"], dependencies=[WriteDep], responses=responses(401, 403, 422, 503)
)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Makes a retried POST safe: same key and body returns the first answer "
        "(for 24 h).",
    ),
]


@router.post("/events", responses=responses(400, 404, 409, 413))
async def ingest_events(
    body: EventsIn,
    store: StoreDep,
    telemetry: TelemetryDep,
    idempotency_key: IdempotencyKey = None,
) -> EventsOut:
    """Post one day's counts per variant (`set` replaces the day, `increment` adds)."""
    out = await run_in_threadpool(service.ingest_events, store, body, idempotency_key)
    if not out.replayed:
        telemetry.count(EVENTS_INGESTED, out.variants_processed)
    return out


CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "date,variant_name,impressions,clicks,conversions\n"
                "2025-01-15,control,1000,32,4\n2025-01-15,variant_b,1000,41,6\n",
            }
        },
    }
}


@router.post(
    "/experiments/{experiment_id}/import",
    responses=responses(400, 404, 409, 413),
    openapi_extra=CSV_BODY,
)
async def import_csv(
    experiment_id: ExperimentPath,
    request: Request,
    store: StoreDep,
    telemetry: TelemetryDep,
    mode: Annotated[WriteMode, Query(description="set replaces days; increment adds.")] = "set",
    idempotency_key: IdempotencyKey = None,
) -> ImportOut:
    """Import a CSV file `date,variant_name,impressions,clicks[,conversions][,experiment_id]`:
    every row is stored, or none (422 lists every bad row). On DynamoDB a file above one
    transaction (98 rows) is written in parts: `increment` then needs an Idempotency-Key
    (413 without), and a retry with the same key counts every row once."""
    data = await request.body()
    out = await run_in_threadpool(
        service.import_csv, store, experiment_id, data, mode, idempotency_key
    )
    if not out.replayed:
        telemetry.count(EVENTS_INGESTED, out.rows_imported)
    return out
