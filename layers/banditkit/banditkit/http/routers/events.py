"""events function: POST /events (one day of counts), the CSV imports (one experiment, or a
file of several), and the original API's /upload-data and /download-template."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from banditkit import service
from banditkit.http.auth import WriteDep
from banditkit.http.deps import StoreDep
from banditkit.http.errors import responses
from banditkit.http.params import ExperimentPath
from banditkit.http.telemetry import TelemetryDep
from banditkit.http.uploads import upload_bytes
from banditkit.models.common import WriteMode
from banditkit.models.events import EventsIn, EventsOut, FileImportOut, ImportOut, UploadOut
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
    """Import a CSV file `date,variant_name,impressions,clicks[,conversions][,experiment_id]`
    (the body, or the `file` field of a multipart form): every row is stored, or none (422
    lists every bad row). On DynamoDB a file above one
    transaction (98 rows) is written in parts: `increment` then needs an Idempotency-Key
    (413 without), and a retry with the same key counts every row once."""
    data = await upload_bytes(request)
    out = await run_in_threadpool(
        service.import_csv, store, experiment_id, data, mode, idempotency_key
    )
    if not out.replayed:
        telemetry.count(EVENTS_INGESTED, out.rows_imported)
    return out


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "text/csv": {
                "schema": {"type": "string"},
                "example": "experiment_id,date,variant_name,impressions,clicks,conversions\n"
                "homepage_cta,2025-01-15,control,1000,32,4\n"
                "pricing,2025-01-15,control,800,20,2\n",
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}


@router.post("/import", responses=responses(400, 409, 413), openapi_extra=UPLOAD_BODY)
async def import_file(
    request: Request,
    store: StoreDep,
    telemetry: TelemetryDep,
    mode: Annotated[WriteMode, Query(description="set replaces days; increment adds.")] = "set",
    idempotency_key: IdempotencyKey = None,
) -> FileImportOut:
    """Import a CSV file of several experiments,
    `experiment_id,date,variant_name,impressions,clicks[,conversions]`, as the body
    (text/csv) or the `file` field of a multipart form. Every row is checked first (422
    lists every bad row, nothing stored); then each experiment's rows are stored in one
    transaction. A 503 between two experiments leaves the earlier ones stored: retry (set
    replaces the same days; increment with the same Idempotency-Key counts each row once)."""
    data = await upload_bytes(request)
    out = await run_in_threadpool(service.import_file, store, data, mode, idempotency_key)
    if not out.replayed:
        telemetry.count(EVENTS_INGESTED, out.rows_imported)
    return out


@router.post("/upload-data", responses=responses(400, 413), openapi_extra=UPLOAD_BODY)
async def upload_data(request: Request, store: StoreDep, telemetry: TelemetryDep) -> UploadOut:
    """The original API's upload: `POST /import` in `set` mode, answered in that API's shape
    (`status`, `processed_rows`, `total_rows`, `errors`, `total_errors`, `experiment_ids`).
    A file with a bad row is a 422 problem listing every bad row, and nothing is stored."""
    data = await upload_bytes(request)
    out = await run_in_threadpool(service.upload_data, store, data)
    telemetry.count(EVENTS_INGESTED, out.processed_rows)
    return out


@router.get(
    "/download-template",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def download_template() -> PlainTextResponse:
    """The original API's CSV template: the header `POST /upload-data` and `POST /import`
    read."""
    return PlainTextResponse(
        service.template_csv(),
        media_type="text/csv",
        headers={"content-disposition": 'attachment; filename="template.csv"'},
    )
