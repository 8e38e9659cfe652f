"""POST /simulate beyond one run: the day a winner is declared, the spread over several seeds,
other settings side by side on the same seeds, and the caps that keep it a short request."""

from __future__ import annotations

from typing import Any

import numpy as np
from banditkit import models

BODY: dict[str, Any] = {
    "variants": [
        {"name": "control", "rate": 0.05, "is_control": True},
        {"name": "b", "rate": 0.08},
    ],
    "daily_impressions": 1000,
    "days": 20,
    "seed": 7,
}


def simulate(api: Any, **changes: Any) -> dict[str, Any]:
    r = api.client.post("/simulate", json={**BODY, **changes})
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def test_one_run_names_the_day_its_winner_was_declared(api: Any) -> None:
    out = simulate(api)
    assert out["winner"] == "b"
    assert isinstance(out["winner_day"], int)
    assert 1 <= out["winner_day"] < BODY["days"]
    # Equal rates over a few days: no winner, and the summary says none was declared.
    even = simulate(api, variants=[{**v, "rate": 0.05} for v in BODY["variants"]], days=5)
    assert even["winner_day"] is None
    assert even["winner"] is None
    assert even["over_seeds"]["days_to_winner"] is None
    assert even["over_seeds"]["winners_declared"] == 0


def test_the_band_over_seeds_is_that_of_the_single_runs(api: Any) -> None:
    out = simulate(api, seeds=5)
    singles = [simulate(api, seed=BODY["seed"] + i) for i in range(5)]
    # The day-by-day answer is the first seed's, as without seeds.
    assert out["days"] == singles[0]["days"]
    assert out["winner_day"] == singles[0]["winner_day"]
    lost = [s["days"][-1]["cumulative_regret"] for s in singles]
    p10, p50, p90 = np.percentile(lost, [10, 50, 90])
    band = out["over_seeds"]["clicks_lost"]
    assert band == {"median": p50, "p10": p10, "p90": p90}
    assert band["p10"] < band["p90"]  # the seeds differ
    days = [s["winner_day"] for s in singles if s["winner_day"] is not None]
    q10, q50, q90 = np.percentile(days, [10, 50, 90])
    assert out["over_seeds"]["days_to_winner"] == {"median": q50, "p10": q10, "p90": q90}
    assert out["over_seeds"]["winners_declared"] == len(days)
    assert out["over_seeds"]["seeds"] == 5
    assert out["comparison"] is None


def test_compare_settings_runs_on_the_same_seeds(api: Any) -> None:
    floor10 = {"control_floor": 0.1}
    floor0 = {"control_floor": 0.0}
    both = simulate(api, seeds=4, settings=floor10, compare_settings=floor0)
    alone10 = simulate(api, seeds=4, settings=floor10)
    alone0 = simulate(api, seeds=4, settings=floor0)
    assert both["over_seeds"] == alone10["over_seeds"]
    assert both["comparison"] == alone0["over_seeds"]
    # Keeping 10% on a worse control costs clicks on these seeds.
    lost10 = both["over_seeds"]["clicks_lost"]["median"]
    lost0 = both["comparison"]["clicks_lost"]["median"]
    assert lost10 > lost0


def test_drift_changes_the_winner(api: Any) -> None:
    # b is better until day 10, then control is (the drift the API simulates with changes).
    swap = [{"day": 10, "rates": [0.08, 0.03]}]
    out = simulate(api, days=40, changes=swap, settings={"on_drift": "discount"})
    late = out["days"][-1]["shares"]
    assert late["control"] > late["b"]
    assert out["winner"] == "b"  # the first declared winner, before the change


def test_caps_name_the_field_and_answer_before_running(api: Any) -> None:
    # Days summed over the runs: 19 seeds x 40 days = 760 > 730
    long = {**BODY, "days": 40}
    body = api.problem(api.client.post("/simulate", json={**long, "seeds": 19}), 413, "seeds")
    assert body["detail"] == "seeds x days = 760 exceeds the cap of 730; lower seeds or days"
    assert body["errors"] == [{"field": "seeds", "message": "seeds x days must be at most 730"}]
    both = {**long, "seeds": 10, "compare_settings": {}}
    body = api.problem(api.client.post("/simulate", json=both), 413, "seeds")
    assert body["detail"].startswith("seeds x days x 2 (compare_settings) = 800 exceeds")
    # Days x variants summed over the runs: 11 x 20 x 10 = 2,200 > 2,000; 10 seeds fit
    ten = [{"name": f"v{i}", "rate": 0.05 + i / 100} for i in range(10)]
    wide = {**BODY, "variants": ten, "days": 20}
    body = api.problem(api.client.post("/simulate", json={**wide, "seeds": 11}), 413, "seeds")
    assert body["detail"].startswith("seeds x days x variants = 2200 exceeds the cap of 2000")
    fits = api.client.post("/simulate", json={**wide, "seeds": 10})
    assert fits.status_code == 200, fits.text
    assert fits.json()["over_seeds"]["seeds"] == 10
    # The field's own bound and the one-run cap
    fields = api.problem(api.client.post("/simulate", json={**BODY, "seeds": 51}), 422, "seeds")
    assert fields["errors"] == [{"field": "seeds", "message": "must be 50 or less"}]
    big = {**BODY, "days": 365, "variants": [*BODY["variants"], {"name": "c", "rate": 0.1}]}
    api.problem(api.client.post("/simulate", json=big), 413, "days")
    bad = {**BODY, "compare_settings": {"control_floor": 2}}
    api.problem(api.client.post("/simulate", json=bad), 422, "compare_settings.control_floor")


def test_openapi_documents_the_new_fields(api: Any) -> None:
    spec = api.client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    sim_in = schemas["SimulateIn"]["properties"]
    assert {"seeds", "compare_settings", "changes"} <= set(sim_in)
    assert sim_in["seeds"]["maximum"] == models.SIM_MAX_SEEDS
    sim_out = schemas["SimulateOut"]["properties"]
    assert {"winner_day", "winner", "over_seeds", "comparison"} <= set(sim_out)
    assert set(schemas["SimSeedsOut"]["properties"]) == {
        "seeds",
        "clicks_lost",
        "even_clicks_lost",
        "days_to_winner",
        "winners_declared",
    }
