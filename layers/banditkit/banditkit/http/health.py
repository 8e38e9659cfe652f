"""The store check behind GET /health: bounded in time, and on threads of its own.

The ping runs on a small thread limiter of its own, so /health never queues behind requests
that hold every worker thread, and is abandoned after HEALTH_TIMEOUT: a store that stopped
answering is reported down within 2 s instead of after the driver's own timeouts.
"""

from __future__ import annotations

import asyncio
import weakref

import anyio
import anyio.to_thread

from banditkit.http.errors import RETRY_AFTER_SECONDS, ProblemError
from banditkit.service.errors import FieldError
from banditkit.store import Store, StoreUnavailable

HEALTH_TIMEOUT = 1.5  # seconds
PING_THREADS = 2  # pings abandoned on a hung store hold these until the driver gives up

_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)  # one per event loop: a Lambda may run each request on a new one


def _limiter() -> anyio.CapacityLimiter:
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters.setdefault(loop, anyio.CapacityLimiter(PING_THREADS))
    return limiter


async def store_problem(store: Store) -> str | None:
    """None when the store answered a ping within HEALTH_TIMEOUT, else what went wrong."""
    with anyio.move_on_after(HEALTH_TIMEOUT):
        try:
            await anyio.to_thread.run_sync(store.ping, abandon_on_cancel=True, limiter=_limiter())
        except StoreUnavailable:
            return "unreachable or busy"  # a fixed reason: no text from the store or driver
        return None
    return f"no answer within {HEALTH_TIMEOUT:g} s"


async def check_store(store: Store) -> None:
    """ProblemError 503 naming the store and the reason when it is down."""
    problem = await store_problem(store)
    if problem is not None:
        raise ProblemError(
            503,
            "store-unavailable",
            f"the store ({store.name}) is unavailable: {problem}",
            [FieldError("store", f"{store.name}: {problem}")],
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
