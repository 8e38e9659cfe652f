"""Every schema the OpenAPI document of each function's app refers to is in the document:
the problem responses name Problem without FastAPI building a model field for each of them
(banditkit.http.errors adds its schema once)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from banditkit.http.app import create_app
from banditkit.http.routers import admin, allocation, events, experiments, history

ROUTERS = {
    "all": None,
    **{
        m.__name__.rsplit(".", 1)[1]: [m.router]
        for m in (admin, allocation, events, experiments, history)
    },
}


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from refs(item)


@pytest.mark.parametrize("name", list(ROUTERS))
def test_every_ref_resolves(name: str) -> None:
    doc = create_app(ROUTERS[name]).openapi()
    schemas = doc["components"]["schemas"]
    found = set(refs(doc))
    assert "#/components/schemas/Problem" in found
    missing = {r for r in found if r.removeprefix("#/components/schemas/") not in schemas}
    assert missing == set()
    problem = schemas["Problem"]
    assert problem["required"] == ["type", "title", "status", "detail"]
    assert problem["properties"]["errors"]["items"] == {"$ref": "#/components/schemas/FieldProblem"}


def test_a_problem_response_documents_both_media_types() -> None:
    doc = create_app([events.router]).openapi()
    content = doc["paths"]["/events"]["post"]["responses"]["409"]["content"]
    assert set(content) == {"application/problem+json", "application/json"}


def test_the_document_is_built_once() -> None:
    app = create_app([history.router])
    assert app.openapi() is app.openapi()
