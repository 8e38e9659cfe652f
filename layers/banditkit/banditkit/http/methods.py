"""OPTIONS and 405 name every method a path answers (`Allow: GET, POST, OPTIONS` for
/experiments), not only the first route that matched it, as Starlette's router does."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import Route, Router
from starlette.types import ASGIApp, Receive, Scope, Send

from banditkit.http.errors import problem_response

ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(router: Router, path: str) -> list[str]:
    """The methods of every route whose path matches `path`, in ORDER; [] when none does."""
    methods: set[str] = set()
    for route in router.routes:
        if isinstance(route, Route) and route.methods and route.path_regex.match(path):
            methods |= route.methods
    return [m for m in ORDER if m in methods]


class AllowedMethods:
    """OPTIONS on a known path: 204 with Allow. Another method the path does not answer: 405
    problem with the same Allow. Everything else passes through (unknown paths stay 404).
    A CORS preflight never gets here when CORS is on: the CORS middleware sits outside."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        methods = allowed_methods(self.router, scope["path"])
        method = scope["method"]
        if not methods or (method in methods and method != "OPTIONS"):
            await self.app(scope, receive, send)
            return
        allow = {"Allow": ", ".join([*methods, "OPTIONS"])}
        if method == "OPTIONS":
            response = Response(status_code=204, headers=allow)
        else:
            response = problem_response(405, "method-not-allowed", "method not allowed", (), allow)
        await response(scope, receive, send)
