"""The "Now" panel shows the API's warnings, the reasons for the split and the data's dates."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from .conftest import Server
from .test_dashboard import create_experiment, open_experiment, post_day

pytestmark = pytest.mark.e2e

MISMATCH = {
    "code": "split_mismatch",
    "message": "The impressions served on 2026-11-02 do not match the recommended shares.",
    "variant": None,
    "since": None,
    "dates": ["2026-11-02"],
    "observed": {"2026-11-02": {"control": 0.9, "b": 0.1}},
    "expected": {"2026-11-02": {"control": 0.5, "b": 0.5}},
    "latest_day": None,
}
DRIFT = {
    "code": "drift_suspected",
    "message": "b's rate relative to the others changed during the test.",
    "variant": "b",
    "since": "2026-11-02",
    "dates": None,
    "observed": None,
    "expected": None,
    "latest_day": None,
}


def test_warnings_reasons_and_freshness_in_now(
    page: Any, server: Server, api: httpx.Client
) -> None:
    # Given a running experiment with two small, old days, b served only on the second: the
    # API warns of b's insufficient data and of stale data, and gives b's ramp-up as the
    # reason; the route adds a split mismatch and drift
    exp_id = create_experiment(api, "Signals", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", {"control": (50, 1, 0), "b": (0, 0, 0)})
    post_day(api, exp_id, "2026-11-02", {"control": (90, 2, 0), "b": (10, 1, 0)})

    def add_warnings(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body["warnings"] = [*body["warnings"], MISMATCH, DRIFT]
        route.fulfill(response=response, body=json.dumps(body))

    page.route(re.compile(r"/report$"), add_warnings)
    open_experiment(page, server, exp_id, ready="#warnings")

    # Then freshness names the data's range and latest day
    assert page.inner_text("#freshness") == (
        "Data from 2026-11-01 to 2026-11-02 (2 days); latest data day 2026-11-02."
    )
    codes = page.eval_on_selector_all("#warnings li", "els => els.map(e => e.dataset.code)")
    assert codes.count("insufficient_data") == 1
    assert {"stale_data", "split_mismatch", "drift_suspected"} <= set(codes)
    assert "Latest data day: 2026-11-02." in page.inner_text("#warnings .signal-stale_data")
    assert "Variant b, since 2026-11-02." in page.inner_text("#warnings .signal-drift_suspected")
    mismatch = page.locator("#warnings .signal-split_mismatch table")
    assert "2026-11-02" in mismatch.inner_text()
    cells = mismatch.locator("tbody td").all_inner_texts()
    assert cells == ["90.0% vs 50.0%", "10.0% vs 50.0%"]
    # And the reason for the split
    assert page.eval_on_selector_all("#reasons li", "els => els.map(e => e.dataset.code)") == [
        "exploring_new_variant"
    ]
    assert "ramp-up share" in page.inner_text("#reasons")
