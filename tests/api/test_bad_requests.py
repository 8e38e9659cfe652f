"""A table of bad requests: each answered 4xx problem+json naming the field, nothing stored,
on SQLite and on PostgreSQL (run under scripts/with_postgres.sh)."""

from __future__ import annotations

from typing import Any

import pytest
from banditkit.store import Store
from banditkit.store._common import encode_cursor

from ..contract.conftest import postgres_store, sqlite_store  # noqa: F401 (fixtures)

EXP = "exp_1"  # declared variants control, variant_b
GOOD_VARIANT = {"variant_name": "control", "impressions": 100, "clicks": 3}


def events(**changes: Any) -> dict[str, Any]:
    return {"experiment_id": EXP, "date": "2025-01-15", "variants": [GOOD_VARIANT]} | changes


def variant(**changes: Any) -> dict[str, Any]:
    return events(variants=[GOOD_VARIANT | changes])


LONG = "x" * 101
A_TIME = "2025-01-01T00:00:00.000000Z"  # a cursor's instant, as the stores write it
# Field paths are plain dotted names: no validator internals (reprs, brackets) leak out.
FIELD_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-[]"
# (id, method, path, json body or raw bytes, status, field)
CASES: list[tuple[str, str, str, Any, int, str]] = [
    # POST /events
    (
        "negative impressions",
        "POST",
        "/events",
        variant(impressions=-1),
        422,
        "variants.0.impressions",
    ),
    ("negative clicks", "POST", "/events", variant(clicks=-5), 422, "variants.0.clicks"),
    ("clicks above impressions", "POST", "/events", variant(clicks=101), 422, "variants.0.clicks"),
    (
        "conversions above impressions",
        "POST",
        "/events",
        variant(conversions=101),
        422,
        "variants.0.conversions",
    ),
    ("float count", "POST", "/events", variant(impressions=10.5), 422, "variants.0.impressions"),
    ("string count", "POST", "/events", variant(clicks="3"), 422, "variants.0.clicks"),
    ("boolean count", "POST", "/events", variant(clicks=True), 422, "variants.0.clicks"),
    ("huge count", "POST", "/events", variant(impressions=10**13), 422, "variants.0.impressions"),
    (
        "missing impressions",
        "POST",
        "/events",
        events(variants=[{"variant_name": "control", "clicks": 1}]),
        422,
        "variants.0.impressions",
    ),
    (
        "missing variant name",
        "POST",
        "/events",
        events(variants=[{"impressions": 1, "clicks": 1}]),
        422,
        "variants.0.variant_name",
    ),
    ("both name spellings", "POST", "/events", variant(name="control"), 422, "variants.0.name"),
    (
        "empty variant name",
        "POST",
        "/events",
        variant(variant_name=""),
        422,
        "variants.0.variant_name",
    ),
    (
        "long variant name",
        "POST",
        "/events",
        variant(variant_name=LONG),
        422,
        "variants.0.variant_name",
    ),
    (
        "control character in name",
        "POST",
        "/events",
        variant(variant_name="a\nb"),
        422,
        "variants.0.variant_name",
    ),
    (
        "variant name mixing Latin and Cyrillic",
        "POST",
        "/events",
        variant(variant_name="c\u043entrol"),
        422,
        "variants.0.variant_name",
    ),
    (
        "zero-width space in a variant name",
        "POST",
        "/events",
        variant(variant_name="control\u200b"),
        422,
        "variants.0.variant_name",
    ),
    (
        "undeclared variant",
        "POST",
        "/events",
        variant(variant_name="variant_z"),
        422,
        "variants.0.variant_name",
    ),
    (
        "duplicate variant",
        "POST",
        "/events",
        events(variants=[GOOD_VARIANT, GOOD_VARIANT]),
        422,
        "variants",
    ),
    ("no variants", "POST", "/events", events(variants=[]), 422, "variants"),
    (
        "51 variants",
        "POST",
        "/events",
        events(variants=[GOOD_VARIANT | {"variant_name": f"v{i}"} for i in range(51)]),
        422,
        "variants",
    ),
    ("bad date", "POST", "/events", events(date="2025-02-30"), 422, "date"),
    ("date as a unix time", "POST", "/events", events(date=1735689600), 422, "date"),
    ("date as unix time text", "POST", "/events", events(date="1735689600"), 422, "date"),
    ("date with a time", "POST", "/events", events(date="2025-01-15T00:00:00"), 422, "date"),
    ("date before 2000", "POST", "/events", events(date="1999-12-31"), 422, "date"),
    ("date far in the future", "POST", "/events", events(date="2999-01-01"), 422, "date"),
    ("unknown mode", "POST", "/events", events(mode="add"), 422, "mode"),
    ("unknown field", "POST", "/events", events(experiment="x"), 422, "experiment"),
    (
        "unknown field in a variant",
        "POST",
        "/events",
        variant(revenue=3),
        422,
        "variants.0.revenue",
    ),
    ("unknown experiment", "POST", "/events", events(experiment_id="nope"), 404, "experiment_id"),
    ("bad experiment id", "POST", "/events", events(experiment_id="a b"), 422, "experiment_id"),
    ("malformed JSON", "POST", "/events", b'{"experiment_id": ', 400, "body"),
    (
        "number past the parser's digit limit",
        "POST",
        "/events",
        b'{"experiment_id": "exp_1", "date": "2025-01-15", "variants": [{"variant_name": '
        b'"control", "impressions": ' + b"9" * 5000 + b', "clicks": 0}]}',
        400,
        "body",
    ),
    ("JSON nested too deep", "POST", "/events", b"[" * 100_000 + b"]" * 100_000, 400, "body"),
    (
        "NaN count",
        "POST",
        "/events",
        b'{"experiment_id": "exp_1", "date": "2025-01-15", "variants": [{"variant_name": '
        b'"control", "impressions": NaN, "clicks": 0}]}',
        422,
        "variants.0.impressions",
    ),
    ("JSON array body", "POST", "/events", [1, 2], 422, "body"),
    ("empty body", "POST", "/events", b"", 422, "body"),
    # POST /experiments
    ("missing name", "POST", "/experiments", {"variants": ["a"]}, 422, "name"),
    ("blank name", "POST", "/experiments", {"name": "   "}, 422, "name"),
    (
        "duplicate declared variants",
        "POST",
        "/experiments",
        {"name": "x", "variants": ["a", "a"]},
        422,
        "variants",
    ),
    (
        "two controls",
        "POST",
        "/experiments",
        {
            "name": "x",
            "variants": [{"name": "a", "is_control": True}, {"name": "b", "is_control": True}],
        },
        422,
        "variants",
    ),
    (
        "misspelt setting",
        "POST",
        "/experiments",
        {"name": "x", "settings": {"control_flor": 0.2}},
        422,
        "settings.control_flor",
    ),
    (
        "setting out of range",
        "POST",
        "/experiments",
        {"name": "x", "settings": {"min_explore_rate": 1.5}},
        422,
        "settings.min_explore_rate",
    ),
    (
        "infeasible settings",
        "POST",
        "/experiments",
        {
            "name": "x",
            "variants": ["control", "b"],
            "settings": {"control_floor": 0.99, "min_explore_rate": 0.5},
        },
        422,
        "settings.control_floor",
    ),
    (
        "zero prior",
        "POST",
        "/experiments",
        {"name": "x", "settings": {"alpha_prior": 0}},
        422,
        "settings.alpha_prior",
    ),
    (
        "no declared variants",
        "POST",
        "/experiments",
        {"name": "x", "variants": []},
        422,
        "variants",
    ),
    (
        "is_control as a number",
        "POST",
        "/experiments",
        {"name": "x", "variants": [{"name": "a", "is_control": 0}]},
        422,
        "variants.0.is_control",
    ),
    (
        "is_control as a string",
        "POST",
        "/experiments",
        {"name": "x", "variants": [{"name": "a", "is_control": "true"}]},
        422,
        "variants.0.is_control",
    ),
    (
        "unknown exploration",
        "POST",
        "/experiments",
        {"name": "x", "settings": {"exploration": "sometimes"}},
        422,
        "settings.exploration",
    ),
    ("existing id", "POST", "/experiments", {"id": EXP, "name": "x"}, 409, ""),
    (
        "unknown field in a declared variant",
        "POST",
        "/experiments",
        {"name": "x", "variants": [{"name": "a", "colour": "red"}]},
        422,
        "variants.0.colour",
    ),
    (
        "variant neither name nor object",
        "POST",
        "/experiments",
        {"name": "x", "variants": [7]},
        422,
        "variants.0",
    ),
    (
        "blank declared variant",
        "POST",
        "/experiments",
        {"name": "x", "variants": ["b", " "]},
        422,
        "variants.1.name",
    ),
    (
        "NUL in description",
        "POST",
        "/experiments",
        {"name": "x", "description": "a\x00b"},
        422,
        "description",
    ),
    (
        "lone surrogate in description",
        "POST",
        "/experiments",
        b'{"name": "x", "description": "a\\ud800b"}',
        422,
        "description",
    ),
    (
        "control character in description",
        "POST",
        "/experiments",
        {"name": "x", "description": "a\x1bb"},
        422,
        "description",
    ),
    (
        "declared variant mixing scripts",
        "POST",
        "/experiments",
        {"name": "x", "variants": ["a", "\u0440\u0430y"]},
        422,
        "variants.1.name",
    ),
    (
        "declared variant with a bidi override",
        "POST",
        "/experiments",
        {"name": "x", "variants": [{"name": "\u202elortnoc"}]},
        422,
        "variants.0.name",
    ),
    (
        "declared variant with a Hangul filler",
        "POST",
        "/experiments",
        {"name": "x", "variants": ["a\u3164"]},
        422,
        "variants.0.name",
    ),
    # PATCH /experiments/{id}
    (
        "patch adds a look-alike variant",
        "PATCH",
        f"/experiments/{EXP}",
        {"variants": ["c\u043entrol"]},
        422,
        "variants.0.name",
    ),
    (
        "patch NUL in description",
        "PATCH",
        f"/experiments/{EXP}",
        {"description": "\x00"},
        422,
        "description",
    ),
    ("bad status", "PATCH", f"/experiments/{EXP}", {"status": "active"}, 422, "status"),
    (
        "patch re-adds a variant",
        "PATCH",
        f"/experiments/{EXP}",
        {"variants": ["control"]},
        422,
        "variants.0.name",
    ),
    (
        "patch infeasible",
        "PATCH",
        f"/experiments/{EXP}",
        {"settings": {"control_floor": 1.0}},
        422,
        "settings.control_floor",
    ),
    ("patch unknown field", "PATCH", f"/experiments/{EXP}", {"colour": "red"}, 422, "colour"),
    ("patch unknown experiment", "PATCH", "/experiments/nope", {"name": "y"}, 404, "experiment_id"),
    # GET routes
    ("allocation without id", "GET", "/allocation", None, 422, "experiment_id"),
    ("allocation unknown", "GET", "/allocation?experiment_id=nope", None, 404, "experiment_id"),
    (
        "allocation window 0",
        "GET",
        f"/allocation?experiment_id={EXP}&window_days=0",
        None,
        422,
        "window_days",
    ),
    ("list limit 0", "GET", "/experiments?limit=0", None, 422, "limit"),
    ("list bad status", "GET", "/experiments?status=active", None, 422, "status"),
    ("list bad cursor", "GET", "/experiments?cursor=zzz", None, 400, "cursor"),
    (
        "list cursor with a NUL",
        "GET",
        "/experiments?cursor=" + encode_cursor(A_TIME, "a\x00b"),
        None,
        400,
        "cursor",
    ),
    (
        "list cursor with a lone surrogate",
        "GET",
        "/experiments?cursor=" + encode_cursor(A_TIME, "\ud800"),
        None,
        400,
        "cursor",
    ),
    (
        "history cursor id 2^70",
        "GET",
        f"/experiments/{EXP}/history?cursor={encode_cursor(A_TIME, 2**70)}",
        None,
        400,
        "cursor",
    ),
    (
        "history cursor id below int64",
        "GET",
        f"/experiments/{EXP}/history?cursor={encode_cursor(A_TIME, -(2**63) - 1)}",
        None,
        400,
        "cursor",
    ),
    ("metrics to=0", "GET", f"/experiments/{EXP}/metrics?to=0", None, 422, "to"),
    (
        "metrics from unix time",
        "GET",
        f"/experiments/{EXP}/metrics?from=1735689600",
        None,
        422,
        "from",
    ),
    (
        "history from past year 9999 in UTC",
        "GET",
        f"/experiments/{EXP}/history?from=9999-12-31T23:59:59-23:59",
        None,
        422,
        "from",
    ),
    (
        "history to before year 1 in UTC",
        "GET",
        f"/experiments/{EXP}/history?to=0001-01-01T00:00:00%2B23:59",
        None,
        422,
        "to",
    ),
    ("history from=0", "GET", f"/experiments/{EXP}/history?from=0", None, 422, "from"),
    ("history bad from", "GET", f"/experiments/{EXP}/history?from=yesterday", None, 422, "from"),
    ("assign without unit", "GET", f"/assign?experiment_id={EXP}", None, 422, "unit_id"),
    # POST /simulate
    (
        "simulate rate above 1",
        "POST",
        "/simulate",
        {"variants": [{"name": "a", "rate": 1.5}], "daily_impressions": 10, "days": 2},
        422,
        "variants.0.rate",
    ),
    (
        "simulate is_control as a number",
        "POST",
        "/simulate",
        {
            "variants": [{"name": "a", "rate": 0.1, "is_control": 1}],
            "daily_impressions": 10,
            "days": 2,
        },
        422,
        "variants.0.is_control",
    ),
    (
        "simulate too many days",
        "POST",
        "/simulate",
        {"variants": [{"name": "a", "rate": 0.1}], "daily_impressions": 10, "days": 10**6},
        422,
        "days",
    ),
    # CSV import
    (
        "csv wrong header",
        "POST",
        f"/experiments/{EXP}/import",
        b"day,variant,imps\n",
        422,
        "header",
    ),
    ("csv not utf-8", "POST", f"/experiments/{EXP}/import", b"\xff\xfe\x00", 422, "body"),
    (
        "csv only header",
        "POST",
        f"/experiments/{EXP}/import",
        b"date,variant_name,impressions,clicks\n",
        422,
        "body",
    ),
    (
        "csv superscript digits",
        "POST",
        f"/experiments/{EXP}/import",
        "date,variant_name,impressions,clicks\n2025-01-01,control,\u00b2,0\n".encode(),
        422,
        "line.2.impressions",
    ),
    (
        "csv giant number",
        "POST",
        f"/experiments/{EXP}/import",
        b"date,variant_name,impressions,clicks\n2025-01-01,control," + b"9" * 5000 + b",0\n",
        422,
        "line.2.impressions",
    ),
    (
        "csv giant cell",
        "POST",
        f"/experiments/{EXP}/import",
        b'date,variant_name,impressions,clicks\n2025-01-01,"' + b"x" * 200_000 + b'",1,0\n',
        422,
        "line.2",
    ),
    (
        "csv unknown variant",
        "POST",
        f"/experiments/{EXP}/import",
        b"date,variant_name,impressions,clicks\n2025-01-01,zzz,1,0\n2025-01-02,zzz,1,0\n",
        422,
        "line.3.variant_name",
    ),
    (
        "csv date as a unix time",
        "POST",
        f"/experiments/{EXP}/import",
        b"date,variant_name,impressions,clicks\n1735689600,control,1,0\n",
        422,
        "line.2.date",
    ),
    (
        "csv variant mixing scripts",
        "POST",
        f"/experiments/{EXP}/import",
        "date,variant_name,impressions,clicks\n2025-01-01,c\u043entrol,1,0\n".encode(),
        422,
        "line.2.variant_name",
    ),
    (
        "csv other experiment",
        "POST",
        f"/experiments/{EXP}/import",
        b"date,variant_name,impressions,clicks,experiment_id\n2025-01-01,control,1,0,other\n",
        422,
        "line.2.experiment_id",
    ),
]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> Store:
    """The contract tier's stores: each bad request on SQLite and on PostgreSQL."""
    backend: Store = request.getfixturevalue(f"{request.param}_store")
    return backend


@pytest.fixture
def seeded(api):
    api.create(id=EXP, variants=["control", "variant_b"])
    api.post_days(EXP, days=2, rates={"control": 0.03, "variant_b": 0.04})
    api.client.get("/allocation", params={"experiment_id": EXP})
    return api


def test_the_table_is_large_enough() -> None:
    assert len(CASES) >= 30


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "field"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_bad_request_is_a_problem_and_stores_nothing(
    seeded, method: str, path: str, body: Any, status: int, field: str
) -> None:
    before = seeded.state()
    kwargs: dict[str, Any] = {}
    if isinstance(body, bytes):
        kwargs["content"] = body
        kwargs["headers"] = {"content-type": "application/json"}
    elif body is not None:
        kwargs["json"] = body
    r = seeded.client.request(method, path, **kwargs)
    problem = seeded.problem(r, status, field or None)
    assert problem["detail"]
    assert "Traceback" not in r.text
    assert all(set(e["field"]) <= set(FIELD_CHARS) for e in problem["errors"]), problem
    assert "SELECT" not in r.text.upper()
    assert seeded.state() == before


def test_body_limits_are_413(seeded) -> None:
    before = seeded.state()
    big_json = b'{"experiment_id": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    r = seeded.client.post(
        "/events", content=big_json, headers={"content-type": "application/json"}
    )
    seeded.problem(r, 413)
    big_csv = b"date,variant_name,impressions,clicks\n" + b"2025-01-01,control,1,0\n" * 500_000
    assert len(big_csv) > 10 * 1024 * 1024
    seeded.problem(seeded.client.post(f"/experiments/{EXP}/import", content=big_csv), 413)
    # a CSV route may take more than the JSON limit
    ok_csv = b"date,variant_name,impressions,clicks\n" + b"2025-01-01,control,1,0\n" * 2
    assert seeded.client.post(f"/experiments/{EXP}/import", content=ok_csv).status_code == 422
    assert seeded.state() == before


def test_bad_idempotency_key_header(seeded) -> None:
    body = {"experiment_id": EXP, "date": "2025-01-15", "variants": [GOOD_VARIANT]}
    before = seeded.state()
    r = seeded.client.post("/events", json=body, headers={"Idempotency-Key": "x" * 201})
    seeded.problem(r, 422, "Idempotency-Key")
    assert seeded.state() == before
