"""A variant added by PATCH to a running test: no data of its own, so no findings."""

from __future__ import annotations

from typing import Any


def _two_weeks_then_a_new_variant(api: Any) -> str:
    # Given two variants with 14 days at ~5% (5000 impressions each a day)
    exp = api.create(variants=[{"name": "control", "is_control": True}, {"name": "variant_b"}])
    api.post_days(exp["id"], days=14, rates={"control": 0.05, "variant_b": 0.052}, impressions=5000)
    # When variant_c is added with PATCH (it has no data yet)
    r = api.client.patch(f"/experiments/{exp['id']}", json={"variants": ["variant_c"]})
    assert r.status_code == 200, r.text
    out: str = exp["id"]
    return out


def test_allocation_does_not_call_a_new_variant_without_data_the_winner(api: Any) -> None:
    exp_id = _two_weeks_then_a_new_variant(api)
    out = api.client.get("/allocation", params={"experiment_id": exp_id}).json()
    by_name = {v["name"]: v for v in out["variants"]}
    new = by_name["variant_c"]
    # Then it gets its ramp-up share (1000 impressions in one day of 10,000: 10%), not
    # the 86.6% a flat prior's P(best) gave it, and nothing about it reads as a finding
    assert out["status"] == "warming_up"
    assert out["winner"] is None
    assert out["allocations"]["variant_c"] == 0.1
    assert (new["prior_only"], new["expected_loss"], new["impressions"]) == (True, None, 0)
    assert 0.04 < new["posterior_mean"] < 0.06  # the pooled rate, not Beta(1, 1)'s 0.5
    assert not by_name["control"]["prior_only"]
    assert by_name["variant_b"]["expected_loss"] is not None
    assert sum(out["allocations"].values()) == 1.0
    assert out["settings"]["alpha_prior"] is None


def test_report_has_no_lift_or_ship_advice_for_a_new_variant_without_data(api: Any) -> None:
    exp_id = _two_weeks_then_a_new_variant(api)
    rep = api.client.get(f"/experiments/{exp_id}/report").json()
    lifts = {lf["variant"]: lf for lf in rep["lifts"]}
    assert lifts["variant_c"] == {
        "variant": "variant_c",
        "lift": None,
        "ci_low": None,
        "ci_high": None,
        "p_better": None,
    }
    assert lifts["variant_b"]["lift"] is not None
    assert "Ship" not in rep["recommendation"]
    assert "variant_c (0 of 1000)" in rep["recommendation"]
    assert rep["potential_value_remaining"] is not None  # over control and variant_b


def test_once_the_new_variant_has_its_burn_in_it_is_judged_on_its_data(api: Any) -> None:
    exp_id = _two_weeks_then_a_new_variant(api)
    api.post_days(exp_id, days=1, start=14, rates={"variant_c": 0.05}, impressions=1000)
    out = api.client.get("/allocation", params={"experiment_id": exp_id}).json()
    new = {v["name"]: v for v in out["variants"]}["variant_c"]
    assert new["prior_only"] is False
    assert new["expected_loss"] is not None
    assert out["status"] != "warming_up"


def test_explicit_priors_and_fixed_exploration_round_trip(api: Any) -> None:
    exp = api.create(settings={"alpha_prior": 1, "beta_prior": 1, "exploration": "fixed"})
    assert exp["settings"]["alpha_prior"] == 1.0
    assert exp["settings"]["exploration"] == "fixed"
    # null returns a prior to the empirical-Bayes default
    r = api.client.patch(f"/experiments/{exp['id']}", json={"settings": {"alpha_prior": None}})
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["alpha_prior"] is None
    assert r.json()["settings"]["beta_prior"] == 1.0
