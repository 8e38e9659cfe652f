"""Field errors in plain words, the same in a JSON body and in a CSV row: what the field must
be, never pydantic's "Input should be ..." (the dashboard shows these sentences as they are)."""

from __future__ import annotations

from typing import Any

import pytest
from banditkit.http.limits import CSV_LIMIT

HEADER = "date,variant_name,impressions,clicks,conversions\n"


def errors(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["message"] for e in body["errors"]}


def day_body(exp_id: str, **counts: Any) -> dict[str, Any]:
    row = {"variant_name": "control", "impressions": 10, "clicks": 1, **counts}
    return {"experiment_id": exp_id, "date": "2025-01-01", "variants": [row]}


@pytest.mark.parametrize(
    ("counts", "field", "message"),
    [
        ({"clicks": 11}, "variants.0.clicks",
         "clicks (11) can't exceed impressions (10) for control"),
        ({"conversions": 12}, "variants.0.conversions",
         "conversions (12) can't exceed impressions (10) for control"),
        ({"impressions": -5}, "variants.0.impressions", "must be 0 or more"),
        ({"impressions": 1.5}, "variants.0.impressions", "must be a whole number"),
        ({"impressions": "10"}, "variants.0.impressions", "must be a whole number"),
        ({"impressions": 10**13}, "variants.0.impressions", "must be 1000000000000 or less"),
        ({"variant_name": ""}, "variants.0.variant_name", "must not be empty"),
        ({"clickz": 1}, "variants.0.clickz", "is not a field of this request"),
    ],
)  # fmt: skip
def test_a_bad_count_says_what_it_must_be(
    api: Any, counts: dict[str, Any], field: str, message: str
) -> None:
    exp = api.create(variants=[{"name": "control", "is_control": True}, {"name": "b"}])
    before = api.state()
    body = api.problem(api.client.post("/events", json=day_body(exp["id"], **counts)), 422, field)
    assert errors(body)[field] == message
    assert api.state() == before


def test_a_missing_field_and_a_bad_mode_and_date_say_so(api: Any) -> None:
    exp = api.create()
    body = {"experiment_id": exp["id"], "date": "2025-02-30", "mode": "add", "variants": [{}]}
    found = errors(api.problem(api.client.post("/events", json=body), 422))
    assert found["date"] == "must be a real date, YYYY-MM-DD"
    assert found["mode"] == "must be 'set' or 'increment'"
    assert found["variants.0.impressions"] == "is required"


def test_csv_rows_use_the_same_words(api: Any) -> None:
    exp = api.create(variants=[{"name": "control", "is_control": True}, {"name": "b"}])
    before = api.state()
    csv = HEADER + (
        "2025-01-01,control,-5,1,0\n"
        "2025-01-01,b,10,11,0\n"
        "2025-01-02,b,1.5,x,0\n"
        "2025-02-30,control,10,1,0\n"
    )
    r = api.client.post(
        f"/experiments/{exp['id']}/import", content=csv, headers={"content-type": "text/csv"}
    )
    body = api.problem(r, 422)
    assert errors(body) == {
        "line.2.impressions": "must be 0 or more",
        "line.3.clicks": "clicks (11) can't exceed impressions (10) for b",
        "line.4.impressions": "must be a whole number",
        "line.4.clicks": "must be a whole number",
        "line.5.date": "must be a real date, YYYY-MM-DD",
    }
    assert api.state() == before


def test_a_file_past_the_cap_is_named_in_megabytes(api: Any) -> None:
    exp = api.create()
    big = HEADER + "x" * CSV_LIMIT
    r = api.client.post(
        f"/experiments/{exp['id']}/import", content=big, headers={"content-type": "text/csv"}
    )
    body = api.problem(r, 413, "body")
    assert body["detail"] == "the file is larger than 5 MB; nothing was stored"
    assert errors(body) == {"body": "is larger than 5 MB"}


def test_a_file_names_what_is_wrong_with_it_as_a_whole(api: Any) -> None:
    exp = api.create(variants=[{"name": "control", "is_control": True}, {"name": "b"}])
    url = f"/experiments/{exp['id']}/import"
    csv = {"content-type": "text/csv"}
    empty = api.problem(api.client.post(url, content=HEADER, headers=csv), 422, "body")
    assert errors(empty) == {"body": "has no data rows"}
    latin = api.problem(api.client.post(url, content=b"\xff\xfe", headers=csv), 422, "body")
    assert errors(latin) == {"body": "is not UTF-8 text"}
    unknown = HEADER + "2025-01-01,zz,10,1,0\n"
    body = api.problem(api.client.post(url, content=unknown, headers=csv), 422)
    assert errors(body) == {
        "line.2.variant_name": "must be one of the declared variants: b, control (add 'zz' first)"
    }
    day = day_body(exp["id"], variant_name="zz")
    body = api.problem(api.client.post("/events", json=day), 422)
    assert errors(body) == {
        "variants.0.variant_name": "must be one of the declared variants: b, control "
        "(add 'zz' first)"
    }
