"""Variant names through the API: two spellings of one name are one variant, and a name a
spreadsheet would run comes back from the dashboard's CSV template to the same variant."""

from __future__ import annotations

from typing import Any

CAFE_NFC = "caf\u00e9"
CAFE_NFD = "cafe\u0301"


def test_two_spellings_of_one_name_are_one_variant(api: Any) -> None:
    exp = api.create(variants=[CAFE_NFC, "b"])
    body = {
        "experiment_id": exp["id"],
        "date": "2025-01-01",
        "variants": [{"variant_name": CAFE_NFD, "impressions": 10, "clicks": 1}],
    }
    r = api.client.post("/events", json=body)
    assert r.status_code == 200, r.text
    days = api.client.get(f"/experiments/{exp['id']}/metrics").json()["days"]
    assert [v["variant_name"] for v in days[0]["variants"]] == [CAFE_NFC]
    # and an undeclared experiment learns one variant from both spellings
    free = api.create()
    for i, name in enumerate((CAFE_NFC, CAFE_NFD)):
        body = body | {"experiment_id": free["id"], "date": f"2025-01-0{i + 1}"}
        body["variants"] = [{"variant_name": name, "impressions": 10, "clicks": 1}]
        assert api.client.post("/events", json=body).status_code == 200
    got = api.client.get(f"/experiments/{free['id']}").json()["variants"]
    assert [v["name"] for v in got] == [CAFE_NFC]


def test_a_formula_name_escaped_as_the_template_writes_it_imports_to_its_variant(
    api: Any,
) -> None:
    names = ["=HYPERLINK(1)", "+1", "-10% price", "@home"]
    exp = api.create(variants=names)
    csv = "date,variant_name,impressions,clicks\n" + "".join(
        f'"2025-01-01","\'{n}",100,{i}\n' for i, n in enumerate(names)
    )
    r = api.client.post(
        f"/experiments/{exp['id']}/import", content=csv, headers={"content-type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["variants"] == names
    day = api.client.get(f"/experiments/{exp['id']}/metrics").json()["days"][0]
    assert {v["variant_name"]: v["clicks"] for v in day["variants"]} == {
        n: i for i, n in enumerate(names)
    }
