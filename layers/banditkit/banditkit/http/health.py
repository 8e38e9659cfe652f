"""GET /health's store check, cached a few seconds per store.

The route needs no key, so without the cache every anonymous request would be a store call
(DescribeTable on DynamoDB). A failed check is kept as long as a good one: the answer is the
same 503 until the next check.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable

from banditkit.store import Store

PING_SECONDS = 5.0


class PingCache:
    def __init__(
        self, seconds: float = PING_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.clock = clock
        self._checked: weakref.WeakKeyDictionary[Store, tuple[float, Exception | None]] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()

    def ping(self, store: Store) -> None:
        """store.ping(), or its outcome of less than `seconds` ago."""
        with self._lock:
            last = self._checked.get(store)
        if last is None or self.clock() - last[0] >= self.seconds:
            error: Exception | None = None
            try:
                store.ping()
            except Exception as exc:  # kept, and raised again until the next check
                error = exc
            last = (self.clock(), error)
            with self._lock:
                self._checked[store] = last
        if last[1] is not None:
            raise last[1].with_traceback(None)


store_check = PingCache()
