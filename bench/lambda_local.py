"""Lambda's surroundings, here: its interpreter, a stand-in for its /var/runtime, and the
events API Gateway hands a function. Shared by bench/cold_start.py, tests/infra (which run
the built handlers) and tests/api/test_lambda.py (which runs them in-process)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

# What /var/runtime puts on a python3.13 Lambda's path after the layers: boto3 and its deps.
RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"]


def python313() -> Path:
    """The CPython 3.13 the Lambda runtime runs (and that reads the layer's bytecode)."""
    if sys.version_info[:2] == (3, 13):
        return Path(sys.base_prefix) / "bin" / "python3.13"
    found = sorted((Path.home() / ".pyenv" / "versions").glob("3.13*/bin/python3.13"))
    if not found:
        raise SystemExit("no CPython 3.13: the Lambda runtime is python3.13")
    return found[-1]


def runtime_stand_in(folder: Path) -> Path:
    """Links to this interpreter's boto3 and its dependencies, as /var/runtime has them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not installed: run with the project's .venv")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source)
    return folder


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    resource: str | None = None,
) -> dict[str, Any]:
    """A REST API (payload v1) proxy event, shaped like `sam local generate-event apigateway
    aws-proxy`. `resource` is the route's template (`/experiments/{experiment_id}`, default
    `path`); its parameters are read off `path`."""
    resource = resource or path
    params = {
        name[1:-1]: part
        for name, part in zip(resource.split("/"), path.split("/"), strict=False)
        if name.startswith("{")
    }
    hdrs = {
        "Accept": "application/json",
        "Host": "abc123.execute-api.us-east-1.amazonaws.com",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Port": "443",
    }
    if body is not None and not isinstance(body, str):
        body = json.dumps(body)
        hdrs["Content-Type"] = "application/json"
    hdrs |= headers or {}
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": hdrs,
        "multiValueHeaders": {k: [v] for k, v in hdrs.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "123456",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "requestTime": "09/Apr/2015:12:34:56 +0000",
            "requestTimeEpoch": 1428582896000,
            "identity": {"sourceIp": "127.0.0.1", "userAgent": "pytest"},
            "path": f"/prod{path}",
            "resourcePath": resource,
            "httpMethod": method,
            "apiId": "1234567890",
            "protocol": "HTTP/1.1",
        },
        "body": body,
        "isBase64Encoded": False,
    }
