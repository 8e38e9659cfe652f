"""The store check behind GET /health: bounded in time, on threads of its own, and cached a
few seconds per store.

The ping runs on a small thread limiter of its own, so /health never queues behind requests
that hold every worker thread, and is abandoned after HEALTH_TIMEOUT: a store that stopped
answering is reported down within 2 s instead of after the driver's own timeouts. The route
needs no key, so without the cache every anonymous request would be a store call
(DescribeTable on DynamoDB); a failed check is kept as long as a good one, so the answer is
the same 503 until the next check.
"""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable

import anyio
import anyio.to_thread

from banditkit.http.errors import RETRY_AFTER_SECONDS, ProblemError
from banditkit.service.errors import FieldError
from banditkit.store import Store, StoreUnavailable

HEALTH_TIMEOUT = 1.5  # seconds
PING_THREADS = 2  # pings abandoned on a hung store hold these until the driver gives up
PING_SECONDS = 5.0  # how long one check's outcome is answered again

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


class PingCache:
    """The outcome of store_problem per store, answered again for `seconds`."""

    def __init__(
        self, seconds: float = PING_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self._checked: weakref.WeakKeyDictionary[Store, tuple[float, str | None]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    async def problem(self, store: Store) -> str | None:
        with self._lock:
            last = self._checked.get(store)
        if last is None or self.clock() - last[0] >= self.seconds:
            last = (self.clock(), await store_problem(store))
            with self._lock:
                self._checked[store] = last
        return last[1]


store_check = PingCache()


async def check_store(store: Store) -> None:
    """ProblemError 503 naming the store and the reason when it is down."""
    problem = await store_check.problem(store)
    if problem is not None:
        raise ProblemError(
            503,
            "store-unavailable",
            f"the store ({store.name}) is unavailable: {problem}",
            [FieldError("store", f"{store.name}: {problem}")],
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
