"""OpenAPI links between operations: the id a response returns feeds the next call.

A created experiment leads to its events, allocation, report, history and metrics; posted
events lead to the allocation. Clients (and schemathesis' stateful tests) follow them. Added
to the generated document by path and method, so routers keep their own declarations; a
link is only added when both ends are served by the app (each Lambda serves a subset).
"""

from __future__ import annotations

from typing import Any

EXPERIMENT = "/experiments/{experiment_id}"
# (source path, method, status) -> link name -> (target path, method, link fields)
LINKS: dict[tuple[str, str, str], dict[str, tuple[str, str, dict[str, Any]]]] = {
    ("/experiments", "post", "201"): {
        "GetExperiment": (
            EXPERIMENT,
            "get",
            {"parameters": {"path.experiment_id": "$response.body#/id"}},
        ),
        "PostEvents": ("/events", "post", {"requestBody": {"experiment_id": "$response.body#/id"}}),
        "GetAllocation": (
            "/allocation",
            "get",
            {"parameters": {"query.experiment_id": "$response.body#/id"}},
        ),
        "GetMetrics": (
            EXPERIMENT + "/metrics",
            "get",
            {"parameters": {"path.experiment_id": "$response.body#/id"}},
        ),
    },
    ("/events", "post", "200"): {
        "GetAllocation": (
            "/allocation",
            "get",
            {"parameters": {"query.experiment_id": "$response.body#/experiment_id"}},
        ),
        "GetReport": (
            EXPERIMENT + "/report",
            "get",
            {"parameters": {"path.experiment_id": "$response.body#/experiment_id"}},
        ),
        "GetMetrics": (
            EXPERIMENT + "/metrics",
            "get",
            {"parameters": {"path.experiment_id": "$response.body#/experiment_id"}},
        ),
    },
    ("/allocation", "get", "200"): {
        "GetHistory": (
            EXPERIMENT + "/history",
            "get",
            {"parameters": {"path.experiment_id": "$response.body#/experiment_id"}},
        ),
        "Assign": (
            "/assign",
            "get",
            {"parameters": {"query.experiment_id": "$response.body#/experiment_id"}},
        ),
    },
}


def add_links(spec: dict[str, Any]) -> dict[str, Any]:
    """Add LINKS to an OpenAPI document in place (idempotent) and return it."""
    paths: dict[str, Any] = spec.get("paths", {})
    for (path, method, status), links in LINKS.items():
        response = paths.get(path, {}).get(method, {}).get("responses", {}).get(status)
        if response is None:
            continue
        for name, (target_path, target_method, fields) in links.items():
            target = paths.get(target_path, {}).get(target_method)
            if target is None or "operationId" not in target:
                continue
            response.setdefault("links", {})[name] = {
                "operationId": target["operationId"],
                **fields,
            }
    return spec
