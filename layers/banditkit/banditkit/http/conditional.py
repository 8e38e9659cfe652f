"""Conditional GETs: an ETag of what a read depends on, and 304 Not Modified when the
client's `If-None-Match` has it, answered before anything is computed. A dashboard that
polls then costs two small store reads per unchanged panel."""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

from fastapi import Header, Response
from starlette.concurrency import run_in_threadpool

from banditkit import service
from banditkit.store import Store

NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified: the If-None-Match ETag still holds (no body)."}
}
# Revalidate every time: a browser keeps the body and asks with If-None-Match.
CACHE_CONTROL = "private, no-cache"
# Left out of the OpenAPI document (docs/api.md describes it): generated requests would send
# `*`, which rightly answers 304, and never see a body.
IfNoneMatch = Annotated[
    str | None,
    Header(
        description="An ETag of an earlier answer: 304 Not Modified when it still holds.",
        include_in_schema=False,
    ),
]


def etag(*parts: object) -> str:
    """A weak validator (the answer's `computed_at` may differ; its content does not)."""
    digest = hashlib.sha256(repr(parts).encode()).hexdigest()[:20]
    return f'W/"{digest}"'


def fresh(if_none_match: str | None, tag: str) -> bool:
    """True when `If-None-Match` names `tag` (weak comparison, RFC 9110 13.1.2) or is *."""
    if not if_none_match:
        return False
    wanted = tag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == wanted:
            return True
    return False


def not_modified(tag: str) -> Response:
    return Response(status_code=304, headers={"ETag": tag, "Cache-Control": CACHE_CONTROL})


def tagged(response: Response, tag: str) -> None:
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = CACHE_CONTROL


async def state_tag(store: Store, experiment_id: str, *query: object) -> str:
    """The ETag of a read of `experiment_id` with these query values (two store reads)."""
    state = await run_in_threadpool(service.experiment_state, store, experiment_id)
    return etag(*state, *query)
