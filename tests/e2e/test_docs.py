"""/docs in Chromium: Swagger UI from the package's own assets, offline (every request to
another origin is aborted by the `page` fixture) and under the dashboard's CSP."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from .conftest import Server, Watch

pytestmark = pytest.mark.e2e


def test_docs_render_from_same_origin_assets_under_the_csp(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    # Given the docs page as the server sends it
    r = api.get("/docs")
    assert r.status_code == 200
    assert "'unsafe-inline'" not in r.headers["content-security-policy"].split("script-src")[1]
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assert refs, r.text
    # Then it refers only to its own origin, and each asset loads
    for ref in refs:
        url = urljoin(f"{server.url}/docs", ref)
        assert url.startswith(f"{server.url}/"), ref
        assert api.get(url).status_code == 200, url
    assert "<script>" not in r.text  # no inline script: script-src 'self' would block it
    # When Chromium opens it
    page.goto(f"{server.url}/docs")
    # Then Swagger UI draws the API from /openapi.json
    page.wait_for_selector(".swagger-ui .info .title")
    assert "banditkit" in page.inner_text(".swagger-ui .info .title")
    page.wait_for_selector("#operations-experiments-create_experiment_experiments_post")
    assert f"{server.url}/openapi.json" in watch.requests
    # (the page fixture asserts no request left the origin and no console error, CSP
    # violations included)
