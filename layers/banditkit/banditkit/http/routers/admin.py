"""admin function (dev stage only): POST /reset_data deletes everything."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from banditkit import service
from banditkit.http.auth import AdminDep, AdminScopeDep
from banditkit.http.deps import StoreDep
from banditkit.http.errors import responses
from banditkit.models.admin import ResetOut

router = APIRouter(tags=["admin"], dependencies=[AdminScopeDep])


@router.post("/reset_data", dependencies=[AdminDep], responses=responses(401, 403, 404, 503))
async def reset_data(store: StoreDep) -> ResetOut:
    """Delete every experiment and all data. 404 unless BANDIT_ENABLE_RESET=1 and
    BANDIT_ADMIN_KEY are set; needs the admin key in the x-admin-key header."""
    await run_in_threadpool(service.reset, store)
    return ResetOut(status="reset")
