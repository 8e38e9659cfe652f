"""OPTIONS and 405 name every method a path answers (`Allow: GET, POST, OPTIONS` for
/experiments), not only those of the first route that matched it, as Starlette's router
does."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(router: Router, path: str) -> list[str]:
    """The methods of every route whose path matches `path`, in ORDER; [] when none does."""
    methods: set[str] = set()
    for route in router.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return [m for m in ORDER if m in methods]


class AllowedMethods:
    """OPTIONS on a known path: 204 with Allow; a 405 gets the same Allow. Everything else
    passes through untouched (unknown paths stay 404), and the routes are scanned only for
    those two answers (a scan costs ~25 us, more than some whole requests). A CORS
    preflight never gets here when CORS is on: the CORS middleware sits outside."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    def _allow(self, path: str) -> list[str]:
        return [*allowed_methods(self.router, path), "OPTIONS"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            allow = self._allow(scope["path"])
            if len(allow) > 1:
                headers = {"Allow": ", ".join(allow)}
                await Response(status_code=204, headers=headers)(scope, receive, send)
                return

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                allow = self._allow(scope["path"])
                if len(allow) > 1:  # a route's path (a mount, such as the dashboard, says its own)
                    headers = [(k, v) for k, v in message.get("headers", []) if k != b"allow"]
                    headers.append((b"allow", ", ".join(allow).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_allow)
