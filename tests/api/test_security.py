"""Security properties of the whole local app, checked by walking its routes rather than a
hand-kept list: keys on every route, reset hidden, problem bodies without internals,
dashboard headers, CORS closed by default."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from banditkit.config import AppConfig
from banditkit.http.app import create_app
from banditkit.local import build_app
from banditkit.store import Store, StoreUnavailable, open_store
from fastapi.testclient import TestClient
from starlette.routing import Mount

from .conftest import config

KEY = "key-3f9a1c"
ADMIN = "admin-77be02-4d1c9e"
# Open by design: liveness, the API's own description, and the static dashboard (the data it
# shows comes from API calls that need a key).
OPEN = {"/health", "/docs", "/docs/init.js", "/openapi.json", "/"}
MOUNTS = {"/dashboard", "/docs/assets"}  # static files: the dashboard, Swagger UI
SAMPLE_PATH_VALUES = {"experiment_id": "exp_1"}


def locked_app(store: Store, frontend: Path, **values: Any) -> Any:
    cfg = config(api_keys=KEY, admin_key=ADMIN, enable_reset=True, **values)
    return build_app(cfg, store, frontend=frontend, recompute_seconds=3600)


@pytest.fixture
def frontend(tmp_path: Path) -> Path:
    folder = tmp_path / "frontend"
    folder.mkdir()
    (folder / "index.html").write_text(
        '<!doctype html><html><head><script type="module" src="app.js"></script></head>'
        "<body></body></html>"
    )
    (folder / "app.js").write_text("export const x = 1;\n")
    return folder


def flat_routes(app: Any) -> list[Any]:
    """The app's routes, flattened: FastAPI >= 0.16x keeps included routers as one entry
    each (with their effective routes inside); older versions copy their routes."""
    out = []
    for route in app.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        out.extend(contexts() if callable(contexts) else [route])
    return out


def api_operations(app: Any) -> list[tuple[str, str]]:
    """(method, concrete path) for every route of the app that is not OPEN or the dashboard."""
    out = []
    for route in flat_routes(app):
        if isinstance(route, Mount):
            assert route.path in MOUNTS, route.path
            continue
        path = getattr(route, "path_format", None) or route.path
        methods = route.methods
        assert path, route
        assert methods, route
        if path in OPEN or path.startswith("/dashboard"):
            continue
        for name in route.param_convertors:
            path = path.replace("{" + name + "}", SAMPLE_PATH_VALUES[name])
        for method in sorted(methods):
            if method != "HEAD":
                out.append((method, path))
    return out


def test_the_walk_covers_every_openapi_operation(store: Store, frontend: Path) -> None:
    app = locked_app(store, frontend)
    walked = {(m, p) for m, p in api_operations(app)}
    spec = TestClient(app).get("/openapi.json").json()
    documented = set()
    for path, item in spec["paths"].items():
        for method in item:
            concrete = path
            for name, value in SAMPLE_PATH_VALUES.items():
                concrete = concrete.replace("{" + name + "}", value)
            documented.add((method.upper(), concrete))
    assert documented - {("GET", "/health")} == walked
    assert len(walked) >= 14


def test_every_route_rejects_a_missing_or_wrong_key(store: Store, frontend: Path, api: Any) -> None:
    api.create(id="exp_1", variants=["a"])
    before = api.state()
    c = TestClient(locked_app(store, frontend))
    operations = api_operations(c.app)
    for method, path in operations:
        # no body at all: the key is checked before the body is validated
        missing = c.request(method, path, headers={"x-admin-key": ADMIN})
        assert missing.status_code == 401, (method, path, missing.text)
        assert missing.headers["www-authenticate"] == "ApiKey"
        for wrong in (KEY + "x", KEY[:-1], "", " " + KEY, KEY.upper()):
            r = c.request(method, path, headers={"x-api-key": wrong, "x-admin-key": ADMIN})
            api.problem(r, 401 if wrong == "" else 403, "X-Api-Key")
    assert api.state() == before


def test_open_routes_answer_without_a_key(store: Store, frontend: Path) -> None:
    c = TestClient(locked_app(store, frontend))
    for path in ("/health", "/docs", "/openapi.json", "/dashboard/", "/dashboard/app.js"):
        assert c.get(path).status_code == 200, path
    assert c.get("/", follow_redirects=False).headers["location"] == "/dashboard/"


def test_reset_is_404_unless_enabled_and_then_needs_the_admin_key(
    make_client: Callable[..., TestClient], api: Any
) -> None:
    api.create(id="exp_1")
    for values in ({}, {"enable_reset": True}, {"admin_key": ADMIN}):
        c = make_client(api_keys=KEY, **values)
        r = c.post("/reset_data", headers={"x-api-key": KEY, "x-admin-key": ADMIN})
        api.problem(r, 404)
    c = make_client(api_keys=KEY, admin_key=ADMIN, enable_reset=True)
    # the API key alone is not enough, nor is the admin key in place of the API key
    api.problem(c.post("/reset_data", headers={"x-api-key": KEY}), 401, "X-Admin-Key")
    api.problem(c.post("/reset_data", headers={"x-api-key": KEY, "x-admin-key": KEY}), 403)
    api.problem(c.post("/reset_data", headers={"x-api-key": ADMIN, "x-admin-key": ADMIN}), 403)
    assert set(api.state()) == {"exp_1"}
    r = c.post("/reset_data", headers={"x-api-key": KEY, "x-admin-key": ADMIN})
    assert r.status_code == 200
    assert api.state() == {}


# What a problem body must never contain.
LEAKS = [
    re.compile(r"Traceback|File \"|line \d+, in "),
    re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE FROM|CREATE TABLE|ON CONFLICT)\b"),
    re.compile(r"sqlite3|psycopg|botocore|OperationalError|IntegrityError"),
    re.compile(r"(/tmp/|/home/|/work/|/usr/|\.py\b|\.db\b)"),
]


def assert_clean(r: Any, *secrets: str) -> None:
    assert r.headers["content-type"] == "application/problem+json", r.text
    for pattern in LEAKS:
        assert not pattern.search(r.text), (pattern.pattern, r.text)
    for secret in secrets:
        assert secret not in r.text, (secret, r.text)


def test_store_driver_errors_reach_no_body(tmp_path: Path, monkeypatch: Any) -> None:
    # Given an environment holding secrets and a real SQLite store whose tables are gone
    monkeypatch.setenv("BANDIT_API_KEYS", KEY)
    monkeypatch.setenv("BANDIT_ADMIN_KEY", ADMIN)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "aws-secret-9d8c")
    path = tmp_path / "broken.db"
    store = open_store(f"sqlite:///{path}")
    c = TestClient(create_app(store=store, config=config()), raise_server_exceptions=False)
    assert c.post("/experiments", json={"id": "exp_1", "name": "x"}).status_code == 201
    raw = sqlite3.connect(path, isolation_level=None)
    tables = raw.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    for (table,) in tables:
        raw.execute(f'DROP TABLE "{table}"')
    raw.close()
    event = {
        "experiment_id": "exp_1",
        "date": "2025-01-01",
        "variants": [{"variant_name": "a", "impressions": 10, "clicks": 1}],
    }
    # When every kind of route meets the broken store
    for method, url, body in [
        ("GET", "/experiments", None),
        ("GET", "/experiments/exp_1", None),
        ("POST", "/experiments", {"name": "y"}),
        ("POST", "/events", event),
        ("GET", "/allocation?experiment_id=exp_1", None),
        ("GET", "/experiments/exp_1/history", None),
        ("GET", "/experiments/exp_1/metrics", None),
        ("GET", "/experiments/exp_1/report", None),
    ]:
        r = c.request(method, url, json=body)
        # Then the answer is a problem (500 or 503) naming none of the internals
        assert r.status_code in (500, 503), (url, r.status_code, r.text)
        assert_clean(r, KEY, ADMIN, "aws-secret-9d8c", str(tmp_path), "broken")
    store.close()


class LeakyStore:
    """Every call fails with a message stuffed with internals, the way drivers do."""

    name = "sqlite"
    message = (
        'Traceback (most recent call last):\n  File "/work/app/store.py", line 12, in f\n'
        "psycopg.OperationalError: SELECT * FROM daily WHERE password='hunter2'"
    )

    def __init__(self, kind: type[Exception]) -> None:
        self.kind = kind

    def __getattr__(self, attr: str) -> Any:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise self.kind(self.message)

        return fail


@pytest.mark.parametrize("kind", [StoreUnavailable, RuntimeError, sqlite3.OperationalError])
def test_exception_messages_never_reach_a_body(kind: type[Exception]) -> None:
    app = create_app(store=LeakyStore(kind), config=config())  # type: ignore[arg-type]
    c = TestClient(app, raise_server_exceptions=False)
    for r in (
        c.get("/experiments/exp_1"),
        c.post("/experiments", json={"name": "x"}),
        c.get("/allocation", params={"experiment_id": "exp_1"}),
    ):
        assert r.status_code in (500, 503)
        assert_clean(r, "hunter2")


def test_validation_problems_do_not_echo_the_input(client: TestClient) -> None:
    marker = "MARK-<script>alert(1)</script>-" + KEY
    bad: list[tuple[str, str, Any]] = [
        ("POST", "/experiments", {"name": marker, "variants": [{"name": 5}], "extra": marker}),
        ("POST", "/experiments", {"name": "x", "settings": {"alpha_prior": marker}}),
        (
            "POST",
            "/events",
            {"experiment_id": marker, "date": marker, "variants": [{"variant_name": marker}]},
        ),
        ("POST", "/events", marker),
        ("POST", "/simulate", {"variants": [{"name": "a", "rate": marker}], "days": marker}),
        ("GET", "/allocation?experiment_id=" + marker, None),
        ("GET", "/experiments?limit=" + marker + "&cursor=" + marker, None),
        ("GET", "/experiments/exp_1/history?from=" + marker, None),
    ]
    for method, url, body in bad:
        r = client.request(method, url, json=body)
        assert r.status_code in (400, 404, 422), (url, r.text)
        assert_clean(r, marker, "<script>", KEY)
    raw = client.post(
        "/events",
        content=b'{"experiment_id": "' + marker.encode() + b'"',
        headers={"content-type": "application/json"},
    )
    assert raw.status_code == 400
    assert_clean(raw, marker, KEY)


CSP_DIRECTIVE = re.compile(r"\s*([a-z-]+)\s+([^;]*)")


def csp(header: str) -> dict[str, list[str]]:
    out = {}
    for part in header.split(";"):
        m = CSP_DIRECTIVE.match(part)
        if m:
            out[m.group(1)] = m.group(2).split()
    return out


@pytest.mark.parametrize("with_frontend", [True, False])
def test_dashboard_headers_forbid_inline_script_framing_and_sniffing(
    store: Store, frontend: Path, tmp_path: Path, with_frontend: bool
) -> None:
    folder = frontend if with_frontend else tmp_path / "nothing-here"
    c = TestClient(build_app(config(), store, frontend=folder, recompute_seconds=3600))
    paths = ["/dashboard/", "/dashboard/app.js"] if with_frontend else ["/dashboard/"]
    for path in paths:
        r = c.get(path)
        assert r.status_code == 200, path
        policy = csp(r.headers["content-security-policy"])
        script = policy.get("script-src", policy.get("default-src"))
        assert script == ["'self'"], policy
        sources = {source for values in policy.values() for source in values}
        assert not sources & {"'unsafe-inline'", "'unsafe-eval'", "*"}
        assert "data:" not in policy.get("script-src", [])
        assert policy["frame-ancestors"] == ["'none'"]
        assert policy["object-src"] == ["'none'"]
        assert r.headers["x-content-type-options"] == "nosniff"
    # an unknown dashboard path is still a dashboard response with the headers
    assert "content-security-policy" in c.get("/dashboard/nope.js").headers


def preflight(c: TestClient, origin: str) -> Any:
    return c.options(
        "/experiments",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )


def test_cors_is_closed_by_default(make_client: Callable[..., TestClient]) -> None:
    c = make_client()
    for origin in ("https://evil.example", "null", "http://127.0.0.1:9999"):
        r = c.get("/experiments", headers={"Origin": origin})
        assert r.status_code == 200
        assert "access-control-allow-origin" not in r.headers
        assert "access-control-allow-origin" not in preflight(c, origin).headers


def test_cors_opens_to_configured_origins_only(make_client: Callable[..., TestClient]) -> None:
    good = "https://dash.example.com"
    c = make_client(cors_origins=f"{good}, https://other.example.com")
    r = c.get("/experiments", headers={"Origin": good})
    assert r.headers["access-control-allow-origin"] == good
    pre = preflight(c, good)
    assert pre.status_code == 200
    assert pre.headers["access-control-allow-origin"] == good
    assert "x-api-key" in pre.headers["access-control-allow-headers"].lower()
    for origin in ("https://evil.example", "https://dash.example.com.evil.example", "null"):
        assert (
            "access-control-allow-origin"
            not in c.get("/experiments", headers={"Origin": origin}).headers
        )
        assert preflight(c, origin).status_code == 400
    assert AppConfig(cors_origins=f"{good},").cors_origins == (good,)  # type: ignore[arg-type]


REPO = Path(__file__).resolve().parents[2]
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+\s*=|javascript:", re.I)


def test_the_shipped_dashboard_needs_no_inline_script() -> None:
    """The CSP above forbids inline script, so the real pages must not rely on any."""
    pages = sorted((REPO / "frontend").glob("**/*.html"))
    assert pages
    for page in pages:
        found = INLINE_SCRIPT.findall(page.read_text())
        assert found == [], (page.name, found)


def test_keys_and_driver_text_never_reach_the_logs(
    make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    c = make_client(api_keys=KEY, admin_key=ADMIN, enable_reset=True)
    wrong = KEY + "-wrong"
    c.get("/experiments", headers={"x-api-key": wrong})
    c.post("/reset_data", headers={"x-api-key": KEY, "x-admin-key": ADMIN + "-wrong"})
    c.get("/experiments", headers={"x-api-key": KEY})
    for kind in (StoreUnavailable, RuntimeError):
        leaky = TestClient(
            create_app(store=LeakyStore(kind), config=config(api_keys=KEY)),  # type: ignore[arg-type]
            raise_server_exceptions=False,
        )
        leaky.get("/experiments/exp_1", headers={"x-api-key": KEY})
    # keys appear nowhere, tracebacks included; driver text only in the traceback an
    # unexpected error keeps for the operator, never in a log message
    for secret in (KEY, wrong, ADMIN):
        assert secret not in caplog.text, secret
    assert "hunter2" in caplog.text  # the RuntimeError's traceback (so the check sees logs)
    assert not any("hunter2" in r.getMessage() for r in caplog.records)


# The scope each operation needs, route by route: read < write < admin.
SCOPE_OF = {
    ("GET", "/experiments"): "read",
    ("GET", "/experiments/exp_1"): "read",
    ("GET", "/allocation"): "read",
    ("GET", "/assign"): "read",
    ("GET", "/experiments/exp_1/report"): "read",
    ("GET", "/experiments/exp_1/history"): "read",
    ("GET", "/experiments/exp_1/metrics"): "read",
    ("POST", "/simulate"): "read",
    ("POST", "/events"): "write",
    ("POST", "/experiments/exp_1/import"): "write",
    ("POST", "/import"): "write",
    ("POST", "/upload-data"): "write",
    ("GET", "/download-template"): "write",
    ("POST", "/experiments"): "admin",
    ("PATCH", "/experiments/exp_1"): "admin",
    ("DELETE", "/experiments/exp_1"): "admin",
    ("POST", "/reset_data"): "admin",
}
SCOPED_KEYS = {"read": "read-key-1a2b", "write": "write-key-3c4d", "admin": KEY}
ORDER = ["read", "write", "admin"]


def scoped_app(store: Store, frontend: Path) -> Any:
    cfg = config(
        api_keys=KEY,
        write_keys=SCOPED_KEYS["write"],
        read_keys=SCOPED_KEYS["read"],
        admin_key=ADMIN,
        enable_reset=True,
    )
    return build_app(cfg, store, frontend=frontend, recompute_seconds=3600)


def test_the_scope_matrix_covers_every_keyed_route(store: Store, frontend: Path) -> None:
    assert set(api_operations(scoped_app(store, frontend))) == set(SCOPE_OF)


def test_each_scope_reaches_exactly_its_routes(store: Store, frontend: Path, api: Any) -> None:
    c = TestClient(scoped_app(store, frontend))
    for (method, path), needed in sorted(SCOPE_OF.items()):
        for scope, key in SCOPED_KEYS.items():
            if "exp_1" not in api.state():  # an admin DELETE before removed it
                api.create(id="exp_1", variants=["a"])
            before = api.state()
            # no body: a key that may pass meets validation (422) or the missing data (404),
            # one that may not is refused before the body is read
            r = c.request(method, path, headers={"x-api-key": key, "x-admin-key": ADMIN + "x"})
            if ORDER.index(scope) < ORDER.index(needed):
                body = api.problem(r, 403, "X-Api-Key")
                assert needed in body["detail"], body
                assert api.state() == before, (method, path, scope)
            else:
                assert r.status_code not in (401, 403) or path == "/reset_data", (
                    method,
                    path,
                    scope,
                    r.text,
                )
                if path == "/reset_data":  # past the scope, the admin key is checked
                    api.problem(r, 403, "X-Admin-Key")


def lambda_call(app: Any, method: str, path: str, key_id: str | None) -> dict[str, Any]:
    """The app behind Mangum, fed the event API Gateway sends after it validated a key."""
    from banditkit.http.aws import lambda_app

    headers = {"Host": "abc.execute-api.eu-west-1.amazonaws.com", "x-api-key": "as-sent"}
    identity: dict[str, Any] = {"sourceIp": "203.0.113.9"}
    if key_id is not None:
        identity["apiKeyId"] = key_id
    event = {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"identity": identity, "resourcePath": path, "httpMethod": method},
        "body": None,
        "isBase64Encoded": False,
    }
    out: dict[str, Any] = lambda_app(app)(event, None)
    return out


@pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")
def test_behind_api_gateway_the_scope_is_that_of_the_validated_key_id(
    store: Store, api: Any
) -> None:
    api.create(id="exp_1", variants=["a"])
    ids = "kid-admin=admin,kid-write=write,kid-read=read"
    app = create_app(store=store, config=config(api_key_ids=ids))
    assert lambda_call(app, "GET", "/experiments/exp_1", "kid-read")["statusCode"] == 200
    refused = lambda_call(app, "DELETE", "/experiments/exp_1", "kid-read")
    assert refused["statusCode"] == 403
    assert "admin scope" in refused["body"]
    assert lambda_call(app, "DELETE", "/experiments/exp_1", "kid-write")["statusCode"] == 403
    assert lambda_call(app, "GET", "/experiments/exp_1", "kid-unknown")["statusCode"] == 403
    assert "exp_1" in api.state()
    assert lambda_call(app, "DELETE", "/experiments/exp_1", "kid-admin")["statusCode"] == 204
    assert api.state() == {}
    # without a validated key id (a route API Gateway did not key), the header decides
    assert lambda_call(app, "GET", "/experiments", None)["statusCode"] == 403
