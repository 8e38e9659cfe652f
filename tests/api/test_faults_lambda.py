"""DynamoDB throttling seen through the deployed shape: the events Lambda handler fed an API
Gateway event (Mangum), its store opened from BANDIT_STORE_URL with the production retry
configuration. The 503 and its Retry-After reach API Gateway; nothing is stored."""

from __future__ import annotations

from types import ModuleType

import pytest
from banditkit.store import Store

from ..contract.test_faults_dynamodb import FaultyServer
from .test_lambda import Context, apigw_event, call, fns, lambda_store  # noqa: F401 (fixtures)

pytestmark = pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")
PRODUCTION_ATTEMPTS = 5  # open_store's default for dynamodb:// URLs (store/__init__.py)
EVENT = {
    "experiment_id": "exp_1",
    "date": "2025-01-01",
    "mode": "increment",
    "variants": [
        {"variant_name": "control", "impressions": 1000, "clicks": 30},
        {"variant_name": "b", "impressions": 1000, "clicks": 45},
    ],
}


def test_throttled_events_lambda_answers_503_with_retry_after_and_stores_nothing(
    fns: dict[str, ModuleType],  # noqa: F811
    lambda_store: Store,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    create = apigw_event("POST", "/experiments", body={"id": "exp_1", "name": "x"})
    assert call(fns, "experiments", create)[0] == 201
    server = FaultyServer(monkeypatch)  # botocore's backoff is computed, not slept
    server.plan, server.forever = ["throttle"], True
    post = apigw_event("POST", "/events", body=EVENT, headers={"Idempotency-Key": "day-1"})
    out = fns["events"].handler(post, Context())
    assert out["statusCode"] == 503
    headers = {k.lower(): v for k, v in out.get("headers", {}).items()}
    headers |= {k.lower(): v[-1] for k, v in out.get("multiValueHeaders", {}).items()}
    assert headers["retry-after"] == "5"
    assert headers["content-type"] == "application/problem+json"
    assert server.seen == PRODUCTION_ATTEMPTS
    assert len(server.delays) == PRODUCTION_ATTEMPTS - 1
    assert lambda_store.read_daily("exp_1") == []
    # the client's retry once the throttling stops is applied once
    server.plan, server.forever = [], False
    for replayed in (False, True):
        status, body = call(fns, "events", post)
        assert status == 200
        assert body["replayed"] is replayed
    rows = {r.variant_name: (r.impressions, r.clicks) for r in lambda_store.read_daily("exp_1")}
    assert rows == {"control": (1000, 30), "b": (1000, 45)}
