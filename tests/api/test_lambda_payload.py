"""The CSV import limit fits Lambda: an API Gateway event carrying a body at the limit stays
under Lambda's 6 MB synchronous payload, so the app (not Lambda) answers every body past it
with its own 413 problem."""

from __future__ import annotations

import json

import pytest
from banditkit.http.limits import CSV_LIMIT
from fastapi.testclient import TestClient

LAMBDA_SYNC_PAYLOAD = 6 * 1024 * 1024  # 6,291,456 bytes: request and response each


def csv_of(size: int, quoted: bool) -> str:
    """A CSV of exactly `size` bytes; `quoted` rows carry quotes, which JSON escapes too."""
    row = '2025-01-15,"variant ""b""",1000,41,6\n' if quoted else "2025-01-15,variant_b,1000,41,6\n"
    head = "date,variant_name,impressions,clicks,conversions\n"
    body = head + row * ((size - len(head)) // len(row))
    return body + "x" * (size - len(body))


def event_size(body: str) -> int:
    """Bytes of the invocation API Gateway makes for this body (REST proxy, payload v1),
    with generous headers (a browser's, about 2 KB, sent in both header forms)."""
    headers = {f"x-header-{i}": "v" * 100 for i in range(20)}
    event = {
        "resource": "/experiments/{experiment_id}/import",
        "path": "/experiments/exp_1/import",
        "httpMethod": "POST",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {"mode": "increment"},
        "requestContext": {"identity": {"apiKeyId": "k" * 10, "sourceIp": "203.0.113.9"}},
        "body": body,
        "isBase64Encoded": False,
    }
    return len(json.dumps(event).encode())


@pytest.mark.parametrize("quoted", [False, True])
def test_a_body_at_the_csv_limit_fits_in_a_lambda_invocation(quoted: bool) -> None:
    assert event_size(csv_of(CSV_LIMIT, quoted)) < LAMBDA_SYNC_PAYLOAD


def test_one_byte_past_the_limit_is_the_apps_413(client: TestClient, api) -> None:
    api.create(id="exp_1", variants=["control", "variant_b"])
    r = client.post(
        "/experiments/exp_1/import",
        content=csv_of(CSV_LIMIT + 1, quoted=False).encode(),
        headers={"content-type": "text/csv"},
    )
    body = api.problem(r, 413)
    assert "5 MB" in body["detail"]
