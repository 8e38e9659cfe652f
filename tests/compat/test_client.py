"""banditkit.Client end to end against the local server: typed answers, paging, CSV and
row imports, automatic Idempotency-Keys, retries, and problems as exceptions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest
from banditkit import Client, models
from banditkit.client import ApiError, InvalidRequest, NotFound, TransportError, Unauthorized

from .conftest import API_KEY


@pytest.fixture
def api(base_url: str) -> Client:
    return Client(base_url, API_KEY)


def test_a_whole_experiment_through_the_client(api: Client, int_id: int) -> None:
    exp = api.create_experiment(
        "Pricing page",
        id=int_id,
        variants=["control", "annual_first"],
        settings={"min_impressions": 100},
    )
    assert isinstance(exp, models.ExperimentOut)
    assert (exp.id, exp.control) == (str(int_id), "control")
    for i in range(5):
        day = dt.date(2025, 1, 1) + dt.timedelta(days=i)
        out = api.post_day(exp.id, day, {"control": (5000, 150), "annual_first": (5000, 185, 9)})
        assert (out.total_impressions, out.total_conversions) == (10000, 9)
    allocation = api.allocation(exp.id)
    assert isinstance(allocation, models.AllocationOut)
    assert allocation.allocations["annual_first"] > allocation.allocations["control"]
    assert allocation.summary.total_impressions == 50000
    windowed = api.allocation(exp.id, window_days=2)
    assert windowed.summary.total_impressions == 20000
    report = api.report(exp.id)
    assert isinstance(report, models.ReportOut)
    assert [lf.variant for lf in report.lifts] == ["annual_first"]
    assert report.lifts[0].lift > 0
    history = api.history(exp.id)
    assert len(history) == 1
    assert history[0].allocations == allocation.allocations
    assert api.history(exp.id, start_date=dt.date(2099, 1, 1)) == []
    assign = api.assign(exp.id, "user-42")
    assert assign.variant in {"control", "annual_first"}
    assert api.assign(exp.id, "user-42").variant == assign.variant
    assert len(api.metrics(exp.id).days) == 5
    paused = api.update_experiment(exp.id, status="paused")
    assert paused.status == "paused"
    api.delete_experiment(exp.id)
    with pytest.raises(NotFound) as caught:
        api.get_experiment(exp.id)
    assert caught.value.status == 404
    assert caught.value.problem["type"].endswith("/experiment-not-found")


def test_listing_follows_every_page(api: Client) -> None:
    made = {api.create_experiment(f"page test {i}").id for i in range(7)}
    listed = {e.id for e in api.experiments(page_size=2)}
    assert made <= listed
    assert [e.id for e in api.list_experiments()] == [e.id for e in api.experiments(page_size=3)]


def test_increments_get_an_idempotency_key_that_holds_across_retries(
    base_url: str, int_id: int
) -> None:
    api = Client(base_url, API_KEY)
    api.create_experiment("increments", id=int_id)
    sent: list[dict[str, str]] = []
    original = Client.request

    def spy(self: Client, method: str, path: str, **kw: Any) -> tuple[int, bytes]:
        sent.append(dict(kw.get("headers") or {}))
        return original(self, method, path, **kw)

    Client.request = spy  # type: ignore[method-assign]
    try:
        api.post_day(int_id, "2025-01-01", {"a": (100, 5)}, mode="increment")
        api.post_day(int_id, "2025-01-01", {"a": (100, 5)}, mode="increment")
        api.post_day(int_id, "2025-01-02", {"a": (100, 5)})
    finally:
        Client.request = original  # type: ignore[method-assign]
    keys = [h.get("Idempotency-Key") for h in sent]
    assert keys[0]
    assert keys[1]
    assert keys[0] != keys[1]
    assert keys[2] is None  # set is safe to repeat without one
    days = api.metrics(int_id).days
    assert [(d.date.isoformat(), d.variants[0].impressions) for d in days] == [
        ("2025-01-01", 200),
        ("2025-01-02", 100),
    ]
    # The same key again (a retry) is answered with the first response, counted once.
    first = api.post_day(
        int_id, "2025-01-03", {"a": (10, 1)}, mode="increment", idempotency_key="k-1"
    )
    again = api.post_day(
        int_id, "2025-01-03", {"a": (10, 1)}, mode="increment", idempotency_key="k-1"
    )
    assert (first.replayed, again.replayed) == (False, True)
    assert api.metrics(int_id).days[-1].variants[0].impressions == 10


def test_csv_and_row_imports(api: Client, int_id: int, tmp_csv: Any) -> None:
    a, b = str(int_id), str(int_id + 100_000)
    api.create_experiment("a", id=a)
    api.create_experiment("b", id=b)
    tmp_csv.write_text(
        "date,variant_name,impressions,clicks,conversions\n2025-01-01,control,100,3,1\n"
    )
    one = api.import_csv(tmp_csv, a)
    assert isinstance(one, models.ImportOut)
    assert one.rows_imported == 1
    # A DataFrame-like iterable of row dicts, several experiments, date objects.
    rows = [
        {
            "experiment_id": a,
            "date": dt.date(2025, 1, 2),
            "variant_name": "control",
            "impressions": 200,
            "clicks": 4,
        },
        {
            "experiment_id": b,
            "date": "2025-01-02",
            "variant_name": "control",
            "impressions": 300,
            "clicks": 5,
            "conversions": 2,
        },
    ]
    many = api.import_rows(rows)
    assert isinstance(many, models.FileImportOut)
    assert [(p.experiment_id, p.rows_imported) for p in many.experiments] == [(a, 1), (b, 1)]
    again = api.import_rows(rows, mode="increment")
    assert again.total_impressions == 500
    assert api.metrics(b).days[0].variants[0].impressions == 600
    with pytest.raises(InvalidRequest) as caught:
        api.import_rows([{**rows[0], "clicks": 999}])
    assert caught.value.status == 422
    assert caught.value.errors == [
        {
            "field": "line.2.clicks",
            "message": "clicks (999) can't exceed impressions (200) for control",
        }
    ]


def test_simulate(api: Client) -> None:
    body = models.SimulateIn.model_validate(
        {
            "variants": [{"name": "a", "rate": 0.03}, {"name": "b", "rate": 0.05}],
            "daily_impressions": 2000,
            "days": 10,
        }
    )
    out = api.simulate(body)
    assert isinstance(out, models.SimulateOut)
    assert out.variants == ["a", "b"]
    assert len(out.days) == 10
    same = body.model_dump(mode="json", exclude_unset=True)
    assert api.simulate({**same, "seed": 0}).successes == out.successes


def test_problems_are_typed_exceptions(base_url: str) -> None:
    with pytest.raises(Unauthorized) as caught:
        Client(base_url).list_experiments()
    assert caught.value.status == 401
    with pytest.raises(Unauthorized):
        Client(base_url, "wrong").list_experiments()
    with pytest.raises(InvalidRequest) as bad:
        Client(base_url, API_KEY).create_experiment("x", settings={"control_floor": 2})
    assert bad.value.errors[0]["field"] == "settings.control_floor"
    assert "settings.control_floor" in str(bad.value)
    with pytest.raises(ValueError, match="http"):
        Client("file:///etc/passwd")


class Flaky(http.server.BaseHTTPRequestHandler):
    """Answers 503 with Retry-After twice, then 200."""

    calls: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Flaky.calls.append(self.path)
        if len(Flaky.calls) <= 2:
            body = json.dumps(
                {
                    "type": "x",
                    "title": "Service unavailable",
                    "status": 503,
                    "detail": "busy",
                    "errors": [],
                }
            ).encode()
            self.send_response(503)
            self.send_header("Retry-After", "1")
        else:
            body = json.dumps(
                {
                    "status": "ok",
                    "store": "sqlite",
                    "version": "0",
                    "reset_enabled": False,
                    "auth_required": False,
                }
            ).encode()
            self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def flaky() -> Iterator[str]:
    Flaky.calls = []
    server = http.server.HTTPServer(("127.0.0.1", 0), Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_503_is_retried_after_retry_after(flaky: str) -> None:
    waits: list[float] = []
    assert Client(flaky, sleep=waits.append).health().status == "ok"
    assert waits == [1.0, 1.0]
    Flaky.calls = []
    with pytest.raises(ApiError) as caught:
        Client(flaky, retries=1, sleep=waits.append).health()
    assert caught.value.status == 503
    assert caught.value.detail == "busy"


def test_an_unreachable_server_is_retried_with_backoff_then_raised() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits: list[float] = []
    with pytest.raises(TransportError):
        Client(f"http://127.0.0.1:{port}", retries=3, backoff=0.5, sleep=waits.append).health()
    assert waits == [0.5, 1.0, 2.0]


def test_fields_of_a_newer_server_are_dropped_not_refused() -> None:
    from banditkit.client import parse
    from banditkit.engine import Settings
    from pydantic import ValidationError

    raw = json.dumps(
        {
            "items": [
                {
                    "id": "1",
                    "name": "a",
                    "description": "",
                    "status": "running",
                    "variants": [{"name": "control", "is_control": True, "colour": "red"}],
                    "variants_declared": True,
                    "control": "control",
                    # every setting this server has, and one it does not know yet
                    "settings": {**dataclasses.asdict(Settings()), "new_knob": 3},
                    "created_at": "2025-01-01T00:00:00Z",
                    "updated_at": "2025-01-01T00:00:00Z",
                    "owner": "team-a",
                }
            ],
            "next_cursor": None,
            "total": 1,
        }
    ).encode()
    page = parse(models.ExperimentPage, raw)
    assert page.items[0].variants[0].name == "control"
    assert page.items[0].settings.min_impressions == 1000
    with pytest.raises(ValidationError):  # a wrong type is still an error
        parse(
            models.HealthOut,
            b'{"status": "ok", "store": 1, "version": "0",'
            b' "reset_enabled": false, "auth_required": false}',
        )
