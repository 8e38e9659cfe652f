"""Every route of the FastAPI routers is an API method of the right function, keyed exactly
when the app asks for a key, and every API method of the stack has a route behind it.

Read off the deployed form: the REST API body after the offline SAM transform (so a route
that SAM drops, e.g. without MergeDefinitions, fails here) for a dev stack (which has the
admin function) and a prod stack (which must not route /reset_data anywhere)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from banditkit.http.app import create_app
from banditkit.http.routers import admin, allocation, events, experiments, history

pytestmark = pytest.mark.infra

Deployed = Callable[..., dict[str, dict[str, Any]]]
ROUTERS = {
    "ExperimentsFunction": experiments,
    "EventsFunction": events,
    "AllocationFunction": allocation,
    "HistoryFunction": history,
    "AdminFunction": admin,
}
DASHBOARD = {("GET", "/dashboard"), ("GET", "/dashboard/{proxy+}")}
# {experiment_id} and {id} name the same segment: API Gateway passes the raw path through.
PARAM = re.compile(r"\{[^}+]+\}")
# The function an aws_proxy integration invokes: its alias (AutoPublishAlias) or itself.
TARGET = re.compile(r"\$\{(\w+?Function)(?:Aliaslive|\.Arn)\}")

Route = tuple[str, str]  # (METHOD, /path with {} for parameters)


def needs_key(operation: dict[str, Any], schemes: dict[str, Any]) -> bool:
    for requirement in operation.get("security", []):
        for name in requirement:
            scheme = schemes[name]
            if scheme["type"] == "apiKey" and scheme["name"].lower() == "x-api-key":
                return True
    return False


def app_routes(function: str) -> dict[Route, bool]:
    """(method, path) -> whether the app asks for an x-api-key, from the router's OpenAPI."""
    doc = create_app(routers=[ROUTERS[function].router]).openapi()
    schemes = doc.get("components", {}).get("securitySchemes", {})
    return {
        (method.upper(), PARAM.sub("{}", path)): needs_key(operation, schemes)
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
    }


def stack_routes(resources: dict[str, dict[str, Any]]) -> dict[Route, tuple[str, bool]]:
    """(method, path) -> (function invoked, whether API Gateway asks for the key)."""
    body = resources["BanditApi"]["Properties"]["Body"]
    schemes = body["components"]["securitySchemes"]
    routes: dict[Route, tuple[str, bool]] = {}
    for path, operations in body["paths"].items():
        for method, operation in operations.items():
            if (method.upper(), path) in DASHBOARD:
                continue
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            match = TARGET.search(uri)
            assert match, f"{method} {path} does not invoke a function: {uri}"
            assert operation["x-amazon-apigateway-integration"]["type"] == "aws_proxy"
            routes[(method.upper(), PARAM.sub("{}", path))] = (
                match.group(1),
                needs_key(operation, schemes),
            )
    return routes


@pytest.mark.parametrize("stage", ["dev", "prod"])
def test_every_route_is_an_api_event_of_its_function_with_its_auth(
    stage: str, deployed: Deployed
) -> None:
    routes = stack_routes(deployed(Stage=stage))
    expected = {
        route: (function, keyed)
        for function in ROUTERS
        if stage == "dev" or function != "AdminFunction"
        for route, keyed in app_routes(function).items()
    }
    assert routes == expected


def test_routes_cover_the_architecture_table(deployed: Deployed) -> None:
    """The route table of docs/architecture.md, spelled out, so that a router losing a route
    cannot pass the test above."""
    routes = stack_routes(deployed(Stage="dev"))
    assert routes[("GET", "/health")] == ("ExperimentsFunction", False)
    assert routes[("POST", "/events")] == ("EventsFunction", True)
    assert routes[("POST", "/experiments/{}/import")] == ("EventsFunction", True)
    assert routes[("POST", "/import")] == ("EventsFunction", True)
    assert routes[("POST", "/upload-data")] == ("EventsFunction", True)
    assert routes[("GET", "/download-template")] == ("EventsFunction", True)
    assert routes[("GET", "/allocation")] == ("AllocationFunction", True)
    assert routes[("POST", "/simulate")] == ("AllocationFunction", True)
    assert routes[("GET", "/experiments/{}/metrics")] == ("HistoryFunction", True)
    assert routes[("POST", "/reset_data")] == ("AdminFunction", True)
    assert {r for r, (f, _) in routes.items() if f == "ExperimentsFunction"} == {
        ("GET", "/health"),
        ("POST", "/experiments"),
        ("GET", "/experiments"),
        ("GET", "/experiments/{}"),
        ("PATCH", "/experiments/{}"),
        ("DELETE", "/experiments/{}"),
    }
    assert len(routes) == 18


def test_only_health_is_open(deployed: Deployed) -> None:
    routes = stack_routes(deployed(Stage="dev"))
    assert [route for route, (_, keyed) in routes.items() if not keyed] == [("GET", "/health")]
