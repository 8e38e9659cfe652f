"""Request body limits (1 MB JSON, 5 MB CSV import) enforced before the app reads a byte,
and only whole bodies reach the app: a client that goes away mid-body (fewer bytes than its
Content-Length, or a chunked body without its final chunk) is dropped, so a cut-off upload
stores nothing.

The CSV cap is set by Lambda, not by the app: a synchronous invocation carries at most 6 MB
(6,291,456 bytes), and API Gateway sends the body JSON-escaped inside its event with the
headers. A 5 MB file fits with room for that (tests/api/test_lambda_payload.py); a larger
one would be refused by Lambda before the app could answer its own 413.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from banditkit.http.errors import problem_response
from banditkit.service.errors import FieldError

JSON_LIMIT = 1 * 1024 * 1024
CSV_LIMIT = 5 * 1024 * 1024


def limit_for(path: str) -> int:
    path = path.rstrip("/")
    return CSV_LIMIT if path.endswith("/import") or path == "/upload-data" else JSON_LIMIT


class BodyLimit:
    """Reads the whole body (bounded) before calling the app; 413 past the limit; a body the
    client never finished never reaches the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "DELETE"):
            await self.app(scope, receive, send)
            return
        limit = limit_for(scope["path"])
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await self._reject(limit, scope, receive, send)
                    return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away mid-body: nobody to answer, nothing to store
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._reject(limit, scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _reject(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        size = f"{limit // (1024 * 1024)} MB"
        what = "file" if limit == CSV_LIMIT else "request body"
        response = problem_response(
            413,
            "too-large",
            f"the {what} is larger than {size}; nothing was stored",
            [FieldError("body", f"is larger than {size}")],
        )
        await response(scope, receive, send)
