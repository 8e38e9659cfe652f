"""The original API's request shapes, replayed against the local server: each test sends
what that service's clients send and asserts the fields they read."""

from __future__ import annotations

from typing import Any

import httpx

HEADER = "experiment_id,date,variant_name,impressions,clicks,conversions"


def create(http: httpx.Client, exp_id: int, **body: Any) -> dict[str, Any]:
    r = http.post("/experiments", json={"id": exp_id, "name": f"exp {exp_id}", **body})
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def post_day(http: httpx.Client, exp_id: int, date: str, **counts: tuple[int, int]) -> None:
    rows = [{"variant_name": n, "impressions": i, "clicks": c} for n, (i, c) in counts.items()]
    r = http.post("/events", json={"experiment_id": exp_id, "date": date, "variants": rows})
    assert r.status_code == 200, r.text


def metrics(http: httpx.Client, exp_id: int | str) -> list[tuple[str, str, int, int, int]]:
    days = http.get(f"/experiments/{exp_id}/metrics").json()["days"]
    return [
        (d["date"], v["variant_name"], v["impressions"], v["clicks"], v["conversions"])
        for d in days
        for v in d["variants"]
    ]


def test_integer_ids_are_the_string_of_the_number(http: httpx.Client, int_id: int) -> None:
    # Given an experiment created with the original's integer id
    assert create(http, int_id)["id"] == str(int_id)
    # When a client posts a day with the id as a JSON number, and queries with ?experiment_id=N
    r = http.post(
        "/events",
        json={
            "experiment_id": int_id,
            "date": "2025-01-15",
            "variants": [{"name": "control", "impressions": 1000, "clicks": 30}],
        },
    )
    # Then both reach the same experiment
    assert r.status_code == 200, r.text
    assert r.json()["experiment_id"] == str(int_id)
    allocation = http.get("/allocation", params={"experiment_id": int_id}).json()
    assert allocation["experiment_id"] == str(int_id)
    assert allocation["allocations"] == {"control": 1.0}
    assert http.get(f"/experiments/{int_id}").json()["id"] == str(int_id)


def test_a_number_that_is_not_an_integer_is_still_refused(http: httpx.Client) -> None:
    for bad in (1.5, True, None, [1]):
        r = http.post(
            "/events",
            json={
                "experiment_id": bad,
                "date": "2025-01-15",
                "variant_name": "a",
                "impressions": 1,
                "clicks": 0,
            },
        )
        assert r.status_code == 422, bad
        assert [e["field"] for e in r.json()["errors"]] == ["experiment_id"]


def test_the_flat_single_variant_event(http: httpx.Client, int_id: int) -> None:
    create(http, int_id)
    flat = {
        "experiment_id": int_id,
        "date": "2025-01-15",
        "variant_name": "control",
        "impressions": 1000,
        "clicks": 31,
    }
    r = http.post("/events", json=flat)
    assert r.status_code == 200, r.text
    assert r.json()["variants_processed"] == 1
    r = http.post(
        "/events", json={**flat, "variant_name": "variant_b", "clicks": 42, "conversions": 5}
    )
    assert r.status_code == 200, r.text
    assert metrics(http, int_id) == [
        ("2025-01-15", "control", 1000, 31, 0),
        ("2025-01-15", "variant_b", 1000, 42, 5),
    ]


def test_a_bad_flat_event_names_the_field_and_stores_nothing(
    http: httpx.Client, int_id: int
) -> None:
    create(http, int_id)
    r = http.post(
        "/events",
        json={
            "experiment_id": int_id,
            "date": "2025-01-15",
            "variant_name": "control",
            "impressions": 10,
            "clicks": 11,
        },
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "field": "variants.0.clicks",
            "message": "clicks (11) can't exceed impressions (10) for control",
        }
    ]
    assert metrics(http, int_id) == []


def test_allocation_answers_parameters_summary_and_history(http: httpx.Client, int_id: int) -> None:
    create(http, int_id, settings={"min_explore_rate": 0.08, "max_daily_shift": 0.2})
    post_day(http, int_id, "2025-01-15", control=(1000, 30), variant_b=(1200, 50))
    post_day(http, int_id, "2025-01-16", control=(900, 27), variant_b=(1100, 44))
    # The original's clients always send window_days.
    data = http.get("/allocation", params={"experiment_id": int_id, "window_days": 7}).json()
    # What they read (one crashed with KeyError without summary and parameters)
    assert data["experiment_id"] == str(int_id)
    assert data["algorithm"] == "thompson_sampling"
    assert data["window_days"] == 7
    assert data["parameters"] == {
        "min_explore_rate": 0.08,
        "control_floor": 0.1,
        "max_daily_shift": 0.2,
    }
    assert data["summary"]["total_impressions"] == 4200
    assert data["summary"]["total_clicks"] == 151
    assert data["summary"]["variants"] == [
        {"name": "control", "impressions": 1900, "clicks": 57, "conversions": 0},
        {"name": "variant_b", "impressions": 2300, "clicks": 94, "conversions": 0},
    ]
    assert abs(sum(data["allocations"].values()) - 1) < 1e-9
    (past,) = data["history"]
    assert set(past) == {
        "date",
        "allocations",
        "algorithm",
        "window_days",
        "total_impressions",
        "total_clicks",
    }
    assert (past["total_impressions"], past["total_clicks"]) == (4200, 151)
    assert past["algorithm"] == "thompson_sampling"
    # A window that cuts data shows in the summary: only the last day is counted.
    one = http.get("/allocation", params={"experiment_id": int_id, "window_days": 1}).json()
    assert (one["window_days"], one["summary"]["total_impressions"]) == (1, 2000)


def test_windowed_reads_record_a_snapshot_when_the_data_changed(
    http: httpx.Client, int_id: int
) -> None:
    create(http, int_id)

    def read(**params: Any) -> list[dict[str, Any]]:
        r = http.get("/allocation", params={"experiment_id": int_id, **params})
        assert r.status_code == 200, r.text
        out: list[dict[str, Any]] = r.json()["history"]
        return out

    post_day(http, int_id, "2025-01-15", control=(1000, 30), variant_b=(1000, 40))
    assert len(read(window_days=7)) == 1  # new data: recorded
    assert len(read(window_days=7)) == 1  # unchanged: nothing more
    assert len(read(window_days=14)) == 1  # another window of the same data: nothing more
    assert len(read()) == 1  # nor an unwindowed read
    post_day(http, int_id, "2025-01-16", control=(1000, 31), variant_b=(1000, 45))
    history = read(window_days=7)
    assert len(history) == 2
    assert [h["total_impressions"] for h in history] == [4000, 2000]  # newest first
    stored = http.get(f"/experiments/{int_id}/history").json()["items"]
    assert [s["trigger"] for s in stored] == ["api", "api"]


def test_allocation_history_holds_the_latest_ten(http: httpx.Client, int_id: int) -> None:
    create(http, int_id)
    for day in range(1, 13):
        post_day(http, int_id, f"2025-01-{day:02d}", control=(1000, 30), variant_b=(1000, 35))
        http.get("/allocation", params={"experiment_id": int_id, "window_days": 30})
    history = http.get("/allocation", params={"experiment_id": int_id}).json()["history"]
    assert len(history) == 10
    assert history[0]["total_impressions"] == 24000
    assert history[-1]["total_impressions"] == 6000


def test_history_in_the_original_shape_with_its_date_filters(
    http: httpx.Client, int_id: int
) -> None:
    create(http, int_id)
    post_day(http, int_id, "2025-01-15", control=(1000, 30), variant_b=(1000, 40))
    allocation = http.get("/allocation", params={"experiment_id": int_id}).json()
    today = allocation["computed_at"][:10]
    r = http.get(f"/experiments/{int_id}/history", params={"start_date": today, "end_date": today})
    body = r.json()
    assert body["experiment_id"] == str(int_id)
    (entry,) = body["history"]
    assert entry == {
        "date": today,
        "algorithm": "thompson_sampling",
        "allocations": allocation["allocations"],
        "total_impressions": 2000,
        "total_clicks": 70,
    }
    before = http.get(f"/experiments/{int_id}/history", params={"end_date": "2025-01-01"})
    assert before.json()["history"] == []
    assert before.json()["items"] == []
    after = http.get(f"/experiments/{int_id}/history", params={"start_date": "2099-01-01"})
    assert after.json()["history"] == []


def test_history_dates_in_the_wrong_order_are_a_422(http: httpx.Client, int_id: int) -> None:
    create(http, int_id)
    r = http.get(
        f"/experiments/{int_id}/history",
        params={"start_date": "2025-02-01", "end_date": "2025-01-01"},
    )
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "end_date", "message": "must not be before start_date"}]
    r = http.get(f"/experiments/{int_id}/history", params={"start_date": "yesterday"})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["start_date"]


def test_upload_data_takes_a_multipart_file_of_several_experiments(
    http: httpx.Client, int_id: int
) -> None:
    a, b = int_id, int_id + 100_000
    create(http, a)
    create(http, b, variants=["control", "variant_b"])
    csv = (
        f"{HEADER}\n"
        f"{a},2025-01-15,control,1000,30,3\n"
        f"{a},2025-01-15,variant_b,1000,41,4\n"
        f"{b},2025-01-15,control,500,10,1\n"
        f"{b},2025-01-16,variant_b,600,20,\n"
    )
    r = http.post("/upload-data", files={"file": ("data.csv", csv.encode(), "text/csv")})
    assert r.status_code == 200, r.text
    assert r.json() == {
        "status": "success",
        "processed_rows": 4,
        "total_rows": 4,
        "errors": [],
        "total_errors": 0,
        "experiment_ids": [str(a), str(b)],
    }
    assert metrics(http, a) == [
        ("2025-01-15", "control", 1000, 30, 3),
        ("2025-01-15", "variant_b", 1000, 41, 4),
    ]
    assert metrics(http, b) == [
        ("2025-01-15", "control", 500, 10, 1),
        ("2025-01-16", "variant_b", 600, 20, 0),
    ]


def test_a_file_with_bad_rows_lists_every_one_and_stores_nothing(
    http: httpx.Client, int_id: int
) -> None:
    create(http, int_id, variants=["control", "variant_b"])
    csv = (
        f"{HEADER}\n"
        f"{int_id},2025-01-15,control,1000,30,3\n"  # good, and not stored
        f"{int_id},2025-01-15,variant_b,10,11,0\n"
        f"{int_id},2025-01-15,variant_c,10,1,0\n"
        f"999999999,2025-01-15,control,10,1,0\n"
        f"{int_id},2025-01-15,control,10,1,0\n"
        f",2025-01-16,control,10,1,0\n"
        f"{int_id},2025-01-16,control,-5,1,0\n"
    )
    for send in (
        lambda: http.post("/upload-data", files={"file": ("d.csv", csv.encode(), "text/csv")}),
        lambda: http.post("/import", content=csv, headers={"content-type": "text/csv"}),
    ):
        r = send()
        assert r.status_code == 422
        problem = r.json()
        assert problem["detail"] == "6 problem(s) in the file; nothing was stored"
        assert [e["field"] for e in problem["errors"]] == [
            "line.3.clicks",
            "line.4.variant_name",
            "line.5.experiment_id",
            "line.6",
            "line.7.experiment_id",
            "line.8.impressions",
        ]
        assert problem["errors"][3]["message"] == (
            f"duplicate row for {int_id} 2025-01-15 'control'"
        )
        assert metrics(http, int_id) == []


def test_upload_data_without_a_file_field_is_a_422(http: httpx.Client) -> None:
    r = http.post("/upload-data", files={"data": ("d.csv", f"{HEADER}\n".encode(), "text/csv")})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["file"]


def test_import_takes_text_csv_and_an_idempotent_increment(http: httpx.Client, int_id: int) -> None:
    create(http, int_id)
    create(http, int_id + 100_000)
    csv = (
        f"{HEADER}\n{int_id},2025-01-15,control,100,3,0\n"
        f"{int_id + 100_000},2025-01-15,control,200,4,1\n"
    )
    headers = {"content-type": "text/csv", "Idempotency-Key": f"file-{int_id}"}
    first = http.post("/import", params={"mode": "increment"}, content=csv, headers=headers)
    assert first.status_code == 200, first.text
    assert first.json()["rows_imported"] == 2
    assert [p["experiment_id"] for p in first.json()["experiments"]] == [
        str(int_id),
        str(int_id + 100_000),
    ]
    again = http.post("/import", params={"mode": "increment"}, content=csv, headers=headers)
    assert again.json()["replayed"] is True
    assert metrics(http, int_id) == [("2025-01-15", "control", 100, 3, 0)]
    # Multipart reaches the same import.
    r = http.post("/import", params={"mode": "increment"}, files={"file": ("d.csv", csv.encode())})
    assert r.status_code == 200, r.text
    assert metrics(http, int_id) == [("2025-01-15", "control", 200, 6, 0)]


def test_download_template(http: httpx.Client) -> None:
    r = http.get("/download-template")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert r.text == HEADER + "\n"


def test_the_routes_need_the_key_like_the_others(base_url: str) -> None:
    with httpx.Client(base_url=base_url) as anonymous:
        assert anonymous.get("/download-template").status_code == 401
        assert anonymous.post("/upload-data", content=b"").status_code == 401


def test_the_one_experiment_import_takes_a_form_too(http: httpx.Client, int_id: int) -> None:
    create(http, int_id)
    csv = "date,variant_name,impressions,clicks\n2025-01-15,control,100,3\n"
    r = http.post(f"/experiments/{int_id}/import", files={"file": ("d.csv", csv.encode())})
    assert r.status_code == 200, r.text
    assert metrics(http, int_id) == [("2025-01-15", "control", 100, 3, 0)]
