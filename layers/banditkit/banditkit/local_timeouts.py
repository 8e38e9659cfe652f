"""Read deadlines for the local server: uvicorn waits forever for a request's headers and
body, so a client that sends half a request holds its connection open indefinitely.

`timed_protocol()` is uvicorn's httptools protocol with two deadlines: a request's headers
must arrive within `header_timeout` of the connection opening (or, on a kept-alive
connection, of the request's first byte), and its body within `body_timeout` of the
headers. A connection past its deadline is closed without an answer. Idle kept-alive
connections close after uvicorn's own timeout_keep_alive, and connections beyond uvicorn's
limit_concurrency are answered 503 (see local.py for the values).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_TIMEOUT = 10.0  # seconds from connection (or request start) to the end of headers
BODY_TIMEOUT = 30.0  # seconds from the end of headers to the end of the body (5 MB: 175 kB/s)


class TimedHttpProtocol(HttpToolsProtocol):
    header_timeout = HEADER_TIMEOUT
    body_timeout = BODY_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            self.logger.info("closing a connection that did not send its request in time")
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._arm(self.body_timeout)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()


def timed_protocol(
    header_timeout: float = HEADER_TIMEOUT, body_timeout: float = BODY_TIMEOUT
) -> type[TimedHttpProtocol]:
    """The protocol class to hand uvicorn as `http=`, with these deadlines."""
    return type(
        "TimedHttpProtocol",
        (TimedHttpProtocol,),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )
