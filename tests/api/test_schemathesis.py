"""Property-based run of the OpenAPI document against the app itself (bounded): no server
error, no undocumented status code or content type, every body matching its schema."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from banditkit.config import AppConfig
from banditkit.http.app import create_app
from banditkit.store import open_store
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

_DIR = Path(tempfile.mkdtemp(prefix="banditkit-schemathesis-"))
ADMIN = "admin-key-0123456789"
STORE = open_store(f"sqlite:///{_DIR}/api.db")
APP = create_app(
    store=STORE,
    config=AppConfig(
        store_url="sqlite:///unused.db",
        api_keys="",
        cors_origins="",  # type: ignore[arg-type]
        admin_key=ADMIN,
        enable_reset=True,
    ),
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module", autouse=True)
def _seeded() -> Iterator[None]:
    """An experiment generated ids can hit ('exp_1' matches the id pattern)."""
    from fastapi.testclient import TestClient

    c = TestClient(APP)
    c.post("/experiments", json={"id": "exp_1", "name": "x", "variants": ["control", "b"]})
    c.post(
        "/events",
        json={
            "experiment_id": "exp_1",
            "date": "2025-01-01",
            "variants": [
                {"variant_name": "control", "impressions": 2000, "clicks": 60},
                {"variant_name": "b", "impressions": 2000, "clicks": 80},
            ],
        },
    )
    yield
    STORE.close()
    shutil.rmtree(_DIR, ignore_errors=True)


@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_openapi_conformance(case: schemathesis.Case) -> None:
    if case.operation.path == "/reset_data":
        case.headers = {**(case.headers or {}), "x-admin-key": "wrong"}  # never wipe the seed
    case.call_and_validate(checks=CHECKS)
