"""Stateful property-based run of the OpenAPI document: schemathesis follows its links
(create -> events -> allocation -> history, ...) so calls reach real experiments instead of
404s. Bounded; every response is checked against the document, and the links must carry
the run through a created experiment's events to its allocation."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import schemathesis
from banditkit import service
from banditkit.http.app import create_app
from banditkit.http.links import LINKS
from banditkit.store import ExperimentNotFound, Store, open_store
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from .conftest import config

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    use_after_free,
]


def realistic_events(case: Any, store: Store, n: int) -> bool:
    """Events for an experiment a link named get counts the API accepts: a date in range,
    the experiment's variants, clicks <= impressions (cross-field rules a JSON schema cannot
    say, so generated bodies almost never pass them; the stateless run fuzzes those). `n`
    numbers the calls of a scenario: a new day and a new Idempotency-Key each, so the outcome
    does not depend on server-made ids. False when the body is not from a link."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("experiment_id"), str):
        return False
    try:
        exp = store.get_experiment(body["experiment_id"])
    except (ExperimentNotFound, ValueError):
        return False  # not from a link: leave the generated body alone
    names = [v.name for v in exp.variants] or ["control", "variant_b"]
    body["date"] = (dt.date(2025, 1, 1) + dt.timedelta(days=n)).isoformat()
    body["variants"] = [
        {"variant_name": name, "impressions": 1000 + 37 * i + n, "clicks": 30 + i * (n % 7)}
        for i, name in enumerate(names)
    ]
    if body.get("mode") not in ("set", "increment"):
        body.pop("mode", None)
    if case.headers and "Idempotency-Key" in case.headers:
        case.headers["Idempotency-Key"] = f"stateful-{n}"
    return True


def realistic_experiment(case: Any, n: int) -> bool:
    """A create body the API accepts: names in one script (a rule no JSON schema can say, so
    generated names are refused often enough that the run may create nothing and never
    reach a link). The stateless run fuzzes create's bodies. False when not a create."""
    if not isinstance(case.body, dict):
        return False
    case.body = {"name": f"stateful {n}", "variants": ["control", "variant_b"]}
    return True


def test_every_link_is_in_the_document() -> None:
    spec = create_app(store=object(), config=config()).openapi()  # type: ignore[arg-type]
    for (path, method, status), links in LINKS.items():
        declared = spec["paths"][path][method]["responses"][status]["links"]
        assert set(declared) == set(links), (path, method)
        for name, (target, target_method, _) in links.items():
            assert (
                declared[name]["operationId"] == spec["paths"][target][target_method]["operationId"]
            )


def test_stateful_links_create_events_allocation() -> None:
    folder = Path(tempfile.mkdtemp(prefix="banditkit-stateful-"))
    store = open_store(f"sqlite:///{folder}/api.db")
    seen: Counter[tuple[str, str, int]] = Counter()
    with_events: set[str] = set()
    try:
        app = create_app(store=store, config=config())  # reset disabled: 404, wipes nothing
        # the operations the links join (the stateless run covers every operation)
        spec = app.openapi()
        chained = {
            spec["paths"][path][method]["operationId"]
            for (source, source_method, _), links in LINKS.items()
            for path, method in [(source, source_method)] + [(t, m) for t, m, _ in links.values()]
        }
        schema = schemathesis.openapi.from_asgi("/openapi.json", app).include(
            operation_id=sorted(chained)
        )
        # valid data only: the chain must go through (the stateless run sends invalid data)
        schema.config.generation.update(modes=[GenerationMode.POSITIVE])
        base: Any = schema.as_state_machine()

        class Workflow(base):  # type: ignore[misc, valid-type]
            def setup(self) -> None:
                service.reset(store)  # each scenario starts empty: replays see the same state
                with_events.clear()  # an id of an earlier scenario may be made again, empty
                self.linked_events = 0
                self.created = 0

            def before_call(self, case: Any) -> None:
                super().before_call(case)
                if case.method.upper() == "POST" and case.path == "/events":
                    self.linked_events += realistic_events(case, store, self.linked_events)
                elif case.method.upper() == "POST" and case.path == "/experiments":
                    self.created += realistic_experiment(case, self.created)

            def after_call(self, response: Any, case: Any) -> None:
                super().after_call(response, case)
                key = (case.method.upper(), case.path, response.status_code)
                seen[key] += 1
                if key == ("POST", "/events", 200):
                    with_events.add(response.json()["experiment_id"])
                elif key == ("GET", "/allocation", 200):
                    data = response.json()
                    if data["experiment_id"] in with_events:
                        # create -> events -> allocation: the counts reached the engine
                        assert sum(v["impressions"] for v in data["variants"]) > 0
                        seen[("chain", "create -> events -> allocation", 200)] += 1

            def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
                case.validate_response(response, checks=CHECKS)

        Workflow.run(
            settings=settings(
                max_examples=100,
                stateful_step_count=10,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
        )
    finally:
        store.close()
        shutil.rmtree(folder, ignore_errors=True)
    # the links carried the run: ids exist only through them, so a 2xx on events or
    # allocation means a link was followed (the full chain is followed by hand below)
    assert seen[("POST", "/experiments", 201)] > 0, seen
    assert seen[("POST", "/events", 200)] > 0, seen
    assert seen[("GET", "/allocation", 200)] > 0, seen
    assert seen[("chain", "create -> events -> allocation", 200)] > 0, seen


def follow(spec: dict[str, Any], source: tuple[str, str, str], name: str, body: Any) -> Any:
    """The request a link describes: (method, path, query, json) from a response body."""
    link = spec["paths"][source[0]][source[1]]["responses"][source[2]]["links"][name]
    path, method = next(
        (p, m)
        for p, item in spec["paths"].items()
        for m, op in item.items()
        if op.get("operationId") == link["operationId"]
    )

    def value(expression: str) -> Any:
        assert expression.startswith("$response.body#/"), expression
        out = body
        for part in expression.removeprefix("$response.body#/").split("/"):
            out = out[part]
        return out

    query = {}
    for key, expression in link.get("parameters", {}).items():
        where, param = key.split(".", 1)
        if where == "path":
            path = path.replace("{" + param + "}", value(expression))
        else:
            query[param] = value(expression)
    json_body = {k: value(v) for k, v in link.get("requestBody", {}).items()} or None
    return method.upper(), path, query, json_body


def test_the_links_chain_create_events_allocation_history(store: Store) -> None:
    app = create_app(store=store, config=config())
    spec = app.openapi()
    c = TestClient(app)
    created = c.post("/experiments", json={"name": "chain", "variants": ["control", "b"]})
    assert created.status_code == 201
    method, path, query, body = follow(
        spec, ("/experiments", "post", "201"), "PostEvents", created.json()
    )
    assert body == {"experiment_id": created.json()["id"]}
    body |= {
        "date": "2025-01-01",
        "variants": [
            {"variant_name": "control", "impressions": 1000, "clicks": 30},
            {"variant_name": "b", "impressions": 1000, "clicks": 45},
        ],
    }
    events = c.request(method, path, params=query, json=body)
    assert events.status_code == 200, events.text
    method, path, query, _ = follow(
        spec, ("/events", "post", "200"), "GetAllocation", events.json()
    )
    allocation = c.request(method, path, params=query)
    assert allocation.status_code == 200
    assert sum(v["impressions"] for v in allocation.json()["variants"]) == 2000
    method, path, query, _ = follow(
        spec, ("/allocation", "get", "200"), "GetHistory", allocation.json()
    )
    history = c.request(method, path, params=query)
    assert history.status_code == 200
    assert len(history.json()["items"]) == 1
    for name in ("GetExperiment", "GetAllocation", "GetMetrics"):
        method, path, query, _ = follow(spec, ("/experiments", "post", "201"), name, created.json())
        assert c.request(method, path, params=query).status_code == 200, name


def test_a_function_serving_part_of_the_api_documents_only_links_it_can_serve() -> None:
    from banditkit.http.routers import allocation, events

    only_events = create_app([events.router], store=object(), config=config()).openapi()  # type: ignore[arg-type]
    assert "links" not in only_events["paths"]["/events"]["post"]["responses"]["200"]
    both = create_app([events.router, allocation.router], store=object(), config=config()).openapi()  # type: ignore[arg-type]
    assert set(both["paths"]["/events"]["post"]["responses"]["200"]["links"]) == {
        "GetAllocation",
        "GetReport",
    }
