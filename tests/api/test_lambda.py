"""Every function's handler fed API Gateway REST proxy (v1) events through Mangum, and the
recompute handler fed EventBridge scheduled events."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from banditkit.config import get_config
from banditkit.runtime import close_default_stores, default_store
from banditkit.store import Store
from lambda_local import api_event as apigw_event  # bench/lambda_local.py

ROOT = Path(__file__).resolve().parents[2]
# Mangum asks asyncio for the current loop at construction; Python 3.12+ warns when none is set.
pytestmark = pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning")
FUNCTIONS = [
    "experiments",
    "events",
    "allocation",
    "history",
    "admin",
    "recompute",
    "recompute_worker",
]
ADMIN_KEY = "admin-key-0123456789"


class Context:
    """The parts of the Lambda context that Powertools and the recompute job read."""

    function_name = "banditkit-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:banditkit-test"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def __init__(self, remaining_ms: int = 60_000) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def scheduled_event() -> dict[str, Any]:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2025-01-15T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/banditkit-recompute"],
        "detail": {},
    }


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"banditkit_fn_{name}", ROOT / "functions" / name / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLES = {"table": "bandit", "idempotency_table": "bandit-idempotency"}
STORE_URL = "dynamodb://bandit?region=us-east-1&idempotency_table=bandit-idempotency"


@pytest.fixture
def lambda_store(monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """moto DynamoDB tables from store/dynamodb_tables.py, and the store the handlers open
    from BANDIT_STORE_URL (configuration is read at first use)."""
    import boto3
    from banditkit.store import dynamodb_tables
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("BANDIT_STORE_URL", STORE_URL)
    for name in ("BANDIT_API_KEYS", "BANDIT_ADMIN_KEY", "BANDIT_ENABLE_RESET", "BANDIT_TRACING"):
        monkeypatch.delenv(name, raising=False)
    get_config.cache_clear()
    close_default_stores()
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        for spec in dynamodb_tables.create_table_kwargs(**TABLES):
            client.create_table(**spec)
        yield default_store(get_config())
        close_default_stores()
    get_config.cache_clear()


@pytest.fixture
def fns(lambda_store: Store) -> dict[str, ModuleType]:
    return {name: load(name) for name in FUNCTIONS}


def call(fns: dict[str, ModuleType], fn: str, event: dict[str, Any]) -> tuple[int, Any]:
    out = fns[fn].handler(event, Context())
    body = json.loads(out["body"]) if out.get("body") else None
    return out["statusCode"], body


def test_import_reads_no_configuration(lambda_store: Store) -> None:
    get_config.cache_clear()
    for name in FUNCTIONS:
        load(name)
    assert get_config.cache_info().currsize == 0
    assert "aws_xray_sdk" not in sys.modules


def test_api_functions_serve_their_routes(fns, capsys: pytest.CaptureFixture[str]) -> None:
    status, exp = call(
        fns,
        "experiments",
        apigw_event(
            "POST",
            "/experiments",
            body={"id": "exp_1", "name": "lambda", "variants": ["control", "b"]},
        ),
    )
    assert status == 201
    assert exp["id"] == "exp_1"
    status, health = call(fns, "experiments", apigw_event("GET", "/health"))
    assert (status, health["store"]) == (200, "dynamodb")
    for i in range(7):
        status, out = call(
            fns,
            "events",
            apigw_event(
                "POST",
                "/events",
                body={
                    "experiment_id": "exp_1",
                    "date": (dt.date(2025, 1, 1) + dt.timedelta(days=i)).isoformat(),
                    "variants": [
                        {"variant_name": "control", "impressions": 1000, "clicks": 30},
                        {"variant_name": "b", "impressions": 1000, "clicks": 45},
                    ],
                },
            ),
        )
        assert (status, out["variants_processed"]) == (200, 2)
    logs = capsys.readouterr().out
    assert '"EventsIngested"' in logs  # EMF metric
    # the correlation id comes from the API Gateway request
    logger = fns["events"].handler.logger
    assert logger.get_correlation_id() == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
    csv = "date,variant_name,impressions,clicks\n2025-01-08,control,1000,31\n2025-01-08,b,1000,44\n"
    status, out = call(
        fns,
        "events",
        apigw_event(
            "POST",
            "/experiments/exp_1/import",
            body=csv,
            headers={"Content-Type": "text/csv"},
            resource="/experiments/{experiment_id}/import",
        ),
    )
    assert (status, out["rows_imported"]) == (200, 2)
    status, alloc = call(
        fns, "allocation", apigw_event("GET", "/allocation", query={"experiment_id": "exp_1"})
    )
    assert status == 200
    assert alloc["allocations"]["b"] > alloc["allocations"]["control"]
    assert '"SnapshotsWritten"' in capsys.readouterr().out
    status, rep = call(fns, "allocation", apigw_event("GET", "/experiments/exp_1/report"))
    assert (status, rep["control"]) == (200, "control")
    status, assigned = call(
        fns,
        "allocation",
        apigw_event("GET", "/assign", query={"experiment_id": "exp_1", "unit_id": "u-1"}),
    )
    assert status == 200
    assert assigned["variant"] in ("control", "b")
    status, sim = call(
        fns,
        "allocation",
        apigw_event(
            "POST",
            "/simulate",
            body={
                "variants": [{"name": "a", "rate": 0.1}, {"name": "b", "rate": 0.2}],
                "daily_impressions": 100,
                "days": 3,
            },
        ),
    )
    assert (status, len(sim["days"])) == (200, 3)
    status, hist = call(fns, "history", apigw_event("GET", "/experiments/exp_1/history"))
    assert (status, len(hist["items"])) == (200, 1)
    status, met = call(fns, "history", apigw_event("GET", "/experiments/exp_1/metrics"))
    assert (status, len(met["days"])) == (200, 8)
    status, page = call(
        fns, "experiments", apigw_event("GET", "/experiments", query={"limit": "5"})
    )
    assert (status, [e["id"] for e in page["items"]]) == (200, ["exp_1"])
    status, _ = call(
        fns, "experiments", apigw_event("PATCH", "/experiments/exp_1", body={"status": "paused"})
    )
    assert status == 200
    status, body = call(fns, "experiments", apigw_event("DELETE", "/experiments/exp_1"))
    assert (status, body) == (204, None)


def test_a_function_serves_only_its_own_routes(fns) -> None:
    status, body = call(
        fns, "events", apigw_event("GET", "/allocation", query={"experiment_id": "x"})
    )
    assert status == 404
    assert body["type"].endswith("/not-found")


def test_errors_are_problems_through_lambda(fns) -> None:
    event = apigw_event("POST", "/events", body='{"experiment_id": ')
    event["headers"]["Content-Type"] = "application/json"
    out = fns["events"].handler(event, Context())
    assert out["statusCode"] == 400
    assert out["headers"]["content-type"] == "application/problem+json"
    status, body = call(
        fns,
        "events",
        apigw_event(
            "POST",
            "/events",
            body={
                "experiment_id": "nope",
                "date": "2025-01-01",
                "variants": [{"variant_name": "a", "impressions": 1, "clicks": 2}],
            },
        ),
    )
    assert status == 422
    assert body["errors"][0]["field"] == "variants.0.clicks"


def test_admin_reset_is_404_unless_enabled(fns, monkeypatch: pytest.MonkeyPatch) -> None:
    status, _ = call(
        fns, "admin", apigw_event("POST", "/reset_data", headers={"x-admin-key": ADMIN_KEY})
    )
    assert status == 404
    monkeypatch.setenv("BANDIT_ENABLE_RESET", "1")
    monkeypatch.setenv("BANDIT_ADMIN_KEY", ADMIN_KEY)
    get_config.cache_clear()
    created, _ = call(fns, "experiments", apigw_event("POST", "/experiments", body={"name": "x"}))
    assert created == 201
    status, body = call(
        fns, "admin", apigw_event("POST", "/reset_data", headers={"x-admin-key": ADMIN_KEY})
    )
    assert (status, body) == (200, {"status": "reset"})
    status, page = call(fns, "experiments", apigw_event("GET", "/experiments"))
    assert page["items"] == []


def test_api_keys_are_checked_in_lambda(fns, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANDIT_API_KEYS", "secret-1")
    get_config.cache_clear()
    status, _ = call(fns, "experiments", apigw_event("GET", "/experiments"))
    assert status == 401
    status, _ = call(
        fns, "experiments", apigw_event("GET", "/experiments", headers={"x-api-key": "secret-1"})
    )
    assert status == 200


def _seed(fns, ids: list[str]) -> None:
    for eid in ids:
        call(
            fns,
            "experiments",
            apigw_event(
                "POST", "/experiments", body={"id": eid, "name": eid, "variants": ["control", "b"]}
            ),
        )
        call(
            fns,
            "events",
            apigw_event(
                "POST",
                "/events",
                body={
                    "experiment_id": eid,
                    "date": "2025-01-01",
                    "variants": [
                        {"variant_name": "control", "impressions": 2000, "clicks": 60},
                        {"variant_name": "b", "impressions": 2000, "clicks": 90},
                    ],
                },
            ),
        )


def test_recompute_writes_snapshots_once_and_isolates_failures(fns, lambda_store) -> None:
    _seed(fns, ["e1", "e2", "e3"])
    call(fns, "experiments", apigw_event("PATCH", "/experiments/e3", body={"status": "paused"}))
    # break e2: a stored setting the engine refuses
    broken = lambda_store.get_experiment("e2")
    import dataclasses

    lambda_store.update_experiment(
        dataclasses.replace(broken, settings={"alpha_prior": -1}), broken.version
    )
    result = fns["recompute"].handler(scheduled_event(), Context())
    assert result["considered"] == 2  # e3 is paused
    assert result["snapshots_written"] == 1
    assert result["failed"] == 1
    assert result["failures"] == [{"experiment_id": "e2", "error": "InvalidRequest"}]
    snaps = lambda_store.list_snapshots("e1").items
    assert [s.trigger for s in snaps] == ["schedule"]
    again = fns["recompute"].handler(scheduled_event(), Context())
    assert (again["unchanged"], again["snapshots_written"]) == (1, 0)


def test_recompute_stops_before_the_deadline(fns, lambda_store) -> None:
    _seed(fns, ["e1", "e2", "e3"])
    result = fns["recompute"].handler(scheduled_event(), Context(remaining_ms=3_000))
    assert result["stopped_early"] is True
    assert result["considered"] == 0
    assert result["remaining"] == 3
    assert all(lambda_store.latest_snapshot(e) is None for e in ("e1", "e2", "e3"))


def import_event(body: str, *, query: dict[str, str] | None = None, key: str | None = None):
    headers = {"Content-Type": "text/csv"} | ({"Idempotency-Key": key} if key else {})
    return apigw_event(
        "POST",
        "/experiments/big/import",
        body=body,
        query=query,
        headers=headers,
        resource="/experiments/{experiment_id}/import",
    )


def metrics_totals(fns: dict[str, ModuleType]) -> tuple[int, dict[str, tuple[int, int, int]]]:
    """Rows and per-variant totals as GET /experiments/{id}/metrics answers them."""
    status, body = call(fns, "history", apigw_event("GET", "/experiments/big/metrics"))
    assert status == 200
    totals: dict[str, tuple[int, int, int]] = {}
    rows = 0
    for one in body["days"]:
        for v in one["variants"]:
            i, c, k = totals.get(v["variant_name"], (0, 0, 0))
            totals[v["variant_name"]] = (
                i + v["impressions"],
                c + v["clicks"],
                k + v["conversions"],
            )
            rows += 1
    return rows, totals


def year_csv(days: int, variants: tuple[str, ...]) -> str:
    start = dt.date(2025, 1, 1)
    lines = ["date,variant_name,impressions,clicks,conversions"] + [
        f"{(start + dt.timedelta(days=d)).isoformat()},{v},{100 + d},{d % 9},{d % 3}"
        for d in range(days)
        for v in variants
    ]
    return "\n".join(lines) + "\n"


def test_csv_import_beyond_one_dynamodb_transaction_is_stored(fns, lambda_store) -> None:
    # 30 days x 5 variants = 150 rows: two DynamoDB transactions
    call(fns, "experiments", apigw_event("POST", "/experiments", body={"id": "big", "name": "b"}))
    variants = ("a", "b", "c", "d", "e")
    csv = year_csv(30, variants)
    status, body = call(fns, "events", import_event(csv))
    assert (status, body["rows_imported"], body["days"]) == (200, 150, 30)
    impressions = sum(100 + d for d in range(30))
    clicks = sum(d % 9 for d in range(30))
    conversions = sum(d % 3 for d in range(30))
    assert body["total_impressions"] == 5 * impressions
    expected = dict.fromkeys(variants, (impressions, clicks, conversions))
    assert metrics_totals(fns) == (150, expected)
    # set mode: sending the file again replaces the days, nothing is added
    status, body = call(fns, "events", import_event(csv))
    assert (status, body["rows_imported"]) == (200, 150)
    assert metrics_totals(fns) == (150, expected)


def test_large_increment_import_needs_a_key_and_counts_once(fns, lambda_store) -> None:
    call(fns, "experiments", apigw_event("POST", "/experiments", body={"id": "big", "name": "b"}))
    variants = ("a", "b", "c", "d", "e")
    csv = year_csv(60, variants)  # 300 rows: four transactions with a key
    increment = {"mode": "increment"}
    # without an Idempotency-Key the parts could be counted twice by a retry: refused
    status, body = call(fns, "events", import_event(csv, query=increment))
    assert status == 413
    assert body["type"].endswith("/too-large")
    assert "Idempotency-Key" in body["detail"]
    assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]
    assert lambda_store.read_daily("big") == []
    # with a key: stored; the retry answers the first response and adds nothing
    status, first = call(fns, "events", import_event(csv, query=increment, key="imp-1"))
    assert (status, first["rows_imported"], first["replayed"]) == (200, 300, False)
    status, again = call(fns, "events", import_event(csv, query=increment, key="imp-1"))
    assert (status, again) == (200, {**first, "replayed": True})
    totals = (
        sum(100 + d for d in range(60)),
        sum(d % 9 for d in range(60)),
        sum(d % 3 for d in range(60)),
    )
    assert metrics_totals(fns) == (300, dict.fromkeys(variants, totals))
    # the same key with another file: 409, nothing added
    status, body = call(
        fns, "events", import_event(year_csv(61, variants), query=increment, key="imp-1")
    )
    assert status == 409
    assert metrics_totals(fns) == (300, dict.fromkeys(variants, totals))


def test_csv_import_over_10_mb_is_413_through_lambda(fns, lambda_store) -> None:
    call(fns, "experiments", apigw_event("POST", "/experiments", body={"id": "big", "name": "b"}))
    big = "date,variant_name,impressions,clicks\n" + "2025-01-01,a,1,0\n" * 700_000
    assert len(big.encode()) > 10 * 1024 * 1024
    status, body = call(fns, "events", import_event(big))
    assert status == 413
    assert body["type"].endswith("/too-large")
    assert lambda_store.read_daily("big") == []
