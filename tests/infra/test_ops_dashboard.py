"""Every metric the operations dashboard and the alarms read from the banditkit namespace is
one the functions really emit, with the same dimensions: the handlers are run (moto
DynamoDB, API Gateway events through Mangum, the scheduled recompute) and their EMF output
is read back."""

from __future__ import annotations

import asyncio
import concurrent.futures
import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = [
    pytest.mark.infra,
    pytest.mark.filterwarnings("ignore:There is no current event loop:DeprecationWarning"),
]
ROOT = Path(__file__).resolve().parents[2]
STORE_URL = "dynamodb://bandit?region=us-east-1&idempotency_table=bandit-idempotency"
Metric = tuple[str, frozenset[tuple[str, str]]]  # (name, dimensions)


class Context:
    function_name = "banditkit-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:banditkit-test"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def event(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
    headers = {"Host": "abc.execute-api.us-east-1.amazonaws.com", "X-Forwarded-Proto": "https"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": path,
            "httpMethod": method,
            "path": f"/dev{path}",
            "stage": "dev",
            "requestId": "r-1",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }


def handler(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"ops_fn_{name}", ROOT / "functions" / name / "app.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


@pytest.fixture
def emitted(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> set[Metric]:
    """Runs the functions on moto tables; returns what their EMF lines declared."""
    import boto3
    from banditkit.config import get_config
    from banditkit.runtime import close_default_stores
    from banditkit.store import dynamodb_tables
    from moto import mock_aws

    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "BANDIT_STORE_URL": STORE_URL,
        # as the template sets them for every function
        "POWERTOOLS_SERVICE_NAME": "banditkit",
        "POWERTOOLS_METRICS_NAMESPACE": "banditkit",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("BANDIT_API_KEYS", "BANDIT_API_KEY_IDS", "BANDIT_TRACING"):
        monkeypatch.delenv(name, raising=False)
    get_config.cache_clear()
    close_default_stores()

    def run() -> None:
        loop = asyncio.new_event_loop()  # the thread's own, closed when done
        asyncio.set_event_loop(loop)
        try:
            requests()
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    def requests() -> None:
        with mock_aws():
            client = boto3.client("dynamodb", region_name="us-east-1")
            for spec in dynamodb_tables.create_table_kwargs(
                table="bandit", idempotency_table="bandit-idempotency"
            ):
                client.create_table(**spec)
            ctx = Context()
            create = event(
                "POST", "/experiments", {"id": "exp_1", "name": "ops", "variants": ["a", "b"]}
            )
            assert handler("experiments")(create, ctx)["statusCode"] == 201
            for day in range(1, 4):
                body = {
                    "experiment_id": "exp_1",
                    "date": f"2025-01-0{day}",
                    "variants": [
                        {"variant_name": "a", "impressions": 1000, "clicks": 30},
                        {"variant_name": "b", "impressions": 1000, "clicks": 40},
                    ],
                }
                assert handler("events")(event("POST", "/events", body), ctx)["statusCode"] == 200
            allocation = event("GET", "/allocation", query={"experiment_id": "exp_1"})
            assert handler("allocation")(allocation, ctx)["statusCode"] == 200
            handler("recompute")({"source": "aws.scheduler", "detail": {}}, ctx)
            close_default_stores()

    # On a thread of its own: Mangum runs each request on this thread's event loop, which a
    # test of an earlier tier (Playwright's sync API, session-scoped) may hold running.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()
    get_config.cache_clear()
    return emf_metrics(capsys.readouterr().out)


def emf_metrics(output: str) -> set[Metric]:
    found = set()
    for line in output.splitlines():
        if '"_aws"' not in line:
            continue
        record = json.loads(line)
        for directive in record["_aws"]["CloudWatchMetrics"]:
            assert directive["Namespace"] == "banditkit"
            for dimension_set in directive["Dimensions"]:
                dims = frozenset((d, str(record[d])) for d in dimension_set)
                found |= {(m["Name"], dims) for m in directive["Metrics"]}
    return found


def dashboard_metrics(template: dict[str, Any]) -> set[Metric]:
    """The banditkit-namespace metrics of the dashboard, with CloudWatch's "." and "..."
    shorthand expanded (`.`: the previous row's item; `...`: the rest of the previous row)."""
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    text = re.sub(r"\$\{[^}]+\}", "X", body[0])  # the values do not matter here
    found = set()
    for widget in json.loads(text)["widgets"]:
        previous: list[Any] = []
        for row in widget["properties"]["metrics"]:
            items = [i for i in row if not isinstance(i, dict)]
            if items and items[0] == "...":
                items = previous[: len(previous) - len(items) + 1] + items[1:]
            else:
                items = [previous[i] if v == "." else v for i, v in enumerate(items)]
            previous = items
            if items[0] == "banditkit":
                dims = frozenset(zip(items[2::2], items[3::2], strict=True))
                found.add((items[1], dims))
    return found


def alarm_metrics(template: dict[str, Any]) -> set[Metric]:
    found = set()
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        stats = [m["MetricStat"]["Metric"] for m in props.get("Metrics", []) if "MetricStat" in m]
        if "MetricName" in props:
            stats.append(props)
        for metric in stats:
            if metric["Namespace"] == "banditkit":
                dims = frozenset((d["Name"], d["Value"]) for d in metric["Dimensions"])
                found.add((metric["MetricName"], dims))
    return found


def test_dashboard_expands_its_shorthand_as_cloudwatch_does(template: dict[str, Any]) -> None:
    shown = dashboard_metrics(template)
    assert ("SnapshotsWritten", frozenset({("service", "recompute")})) in shown
    assert ("RecomputeFailures", frozenset({("service", "recompute")})) in shown


def test_every_business_widget_and_alarm_reads_a_metric_the_functions_emit(
    template: dict[str, Any], emitted: set[Metric]
) -> None:
    shown = dashboard_metrics(template)
    assert len(shown) >= 5
    assert shown - emitted == set()
    watched = alarm_metrics(template)
    assert watched
    assert watched - emitted == set()
    # and the dashboard shows every business metric the functions emit
    assert {name for name, _ in emitted} <= {name for name, _ in shown}
