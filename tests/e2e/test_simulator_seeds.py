"""The simulator in Chromium: days to a winner, the band over seeds, a drift, and two settings
side by side, each figure as the API answered it; plus axe on it and on the import's states."""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from .conftest import DESKTOP, PHONE, Server, Watch, settle
from .test_accessibility import violations
from .test_dashboard import create_experiment, csv_file, open_experiment, post_day

pytestmark = pytest.mark.e2e


def fmt(x: float) -> str:
    """fmtNum of frontend/js/dom.js: en-US, at most two decimals."""
    d = Decimal(repr(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP).normalize()
    text = f"{d:,f}"
    return "0" if text in ("-0", "0") else text


def run(page: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Click Run; the request body and the answer the page received."""
    with page.expect_response("**/simulate") as info:
        page.click("#sim-run")
    response = info.value
    return json.loads(response.request.post_data), response.json()


def cell(page: Any, col: str, row: str) -> tuple[str, str]:
    td = page.locator(f'#sim-seeds-table td[data-col="{col}"][data-row="{row}"]')
    return td.locator(".sim-median").inner_text(), td.locator(".sim-band").inner_text()


def test_days_to_winner_band_and_comparison_match_the_api(
    page: Any, server: Server, api: httpx.Client, shoot: Any
) -> None:
    page.goto(f"{server.url}/dashboard/#/simulate")
    page.fill("#sim-days", "20")
    page.fill("#sim-rate-2", "0.08")
    page.fill("#sim-seeds", "6")
    page.check("#sim-compare")
    page.click("#sim-form details.settings-details > summary")
    page.fill("#sim-set-control_floor", "0.1")
    page.fill("#sim-cmp-control_floor", "0")
    body, out = run(page)
    page.wait_for_selector("#sim-seeds-table")

    # The page asked for six seeds and the 0% floor side by side
    assert body["seeds"] == 6
    assert body["settings"]["control_floor"] == 0.1
    assert body["compare_settings"]["control_floor"] == 0
    # And the answer is the API's own for that body
    assert api.post("/simulate", json=body).json() == out

    # Days to a winner of the first run, as answered
    assert out["winner_day"] is not None
    assert page.inner_text("#sim-winner-day") == f"after {out['winner_day']} days ({out['winner']})"

    # The band over seeds, for both settings, each cell as answered
    for col, summary in (("a", out["over_seeds"]), ("b", out["comparison"])):
        lost = summary["clicks_lost"]
        assert cell(page, col, "clicks_lost") == (
            fmt(lost["median"]),
            f"{fmt(lost['p10'])} – {fmt(lost['p90'])}",
        )
        days = summary["days_to_winner"]
        assert cell(page, col, "days_to_winner") == (
            fmt(days["median"]),
            f"{fmt(days['p10'])} – {fmt(days['p90'])}",
        )
        note = f"winner in {summary['winners_declared']} of 6 runs"
        td = f'#sim-seeds-table td[data-col="{col}"][data-row="days_to_winner"]'
        assert note in page.inner_text(td)
    headers = page.locator("#sim-seeds-table thead th").all_text_contents()
    assert headers == [
        "Measure",
        "These settings (control floor 0.1)",
        "Compared (control floor 0)",
    ]
    shoot(page, "simulator-comparison")


def test_a_drift_is_sent_as_a_change_of_rates(page: Any, server: Server) -> None:
    page.goto(f"{server.url}/dashboard/#/simulate")
    page.fill("#sim-days", "30")
    page.fill("#sim-seeds", "1")
    page.fill("#sim-change-day", "31")
    page.click("#sim-run")
    page.wait_for_selector(
        "#sim-status li:has-text('Change on day must be one of the simulated days.')"
    )
    page.fill("#sim-change-day", "11")
    page.fill("#sim-rate-after-1", "0.08")
    page.fill("#sim-rate-after-2", "0.03")
    page.click("#sim-form details.settings-details > summary")
    page.select_option("#sim-set-on_drift", "discount")
    body, out = run(page)
    page.wait_for_selector("#sim-seeds-table")
    assert body["changes"] == [{"day": 10, "rates": [0.08, 0.03, 0.045]}]
    assert body["settings"]["on_drift"] == "discount"
    last = out["days"][-1]["shares"]
    assert last["control"] > last["variant_b"]  # the engine followed the drift
    assert cell(page, "a", "clicks_lost")[0] == fmt(out["over_seeds"]["clicks_lost"]["median"])


def test_the_seed_cap_is_named_in_words(page: Any, server: Server, watch: Watch) -> None:
    watch.expect_status(413)
    page.goto(f"{server.url}/dashboard/#/simulate")
    page.fill("#sim-days", "20")
    page.fill("#sim-seeds", "50")
    page.check("#sim-compare")
    page.click("#sim-run")
    status = page.locator("#sim-status .state-error")
    status.wait_for()
    assert status.locator("strong").inner_text() == "The simulation was refused"
    assert status.locator("li").all_inner_texts() == [
        "Seeds x days x 2 (compare_settings) must be at most 730."
    ]


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440", "375"])
def test_no_axe_violations_on_the_simulator_and_import_states(
    page: Any, server: Server, api: httpx.Client, watch: Watch, size: dict[str, int]
) -> None:
    page.set_viewport_size(size)
    page.goto(f"{server.url}/dashboard/#/simulate")
    page.fill("#sim-days", "15")
    page.fill("#sim-seeds", "3")
    page.check("#sim-compare")
    page.fill("#sim-change-day", "8")
    page.click("#sim-run")
    page.wait_for_selector("#sim-seeds-table")
    settle(page)
    assert violations(page) == [], "simulator with a comparison"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"], f"the simulator scrolls sideways ({width} px)"

    exp_id = create_experiment(api, "Import states", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", {"control": (1000, 30, 3), "b": (1000, 60, 6)})
    open_experiment(page, server, exp_id, ready="#import-form")
    watch.expect_status(422)
    header = "date,variant_name,impressions,clicks,conversions\n"
    page.set_input_files(
        "#import-file", files=[csv_file("bad.csv", header + "2026-11-02,b,-5,1,0\n")]
    )
    page.click("#import-submit")
    page.wait_for_selector("#import-errors")
    page.locator('#entry-rows tr[data-variant="control"] .entry-impressions').fill("10")
    page.locator('#entry-rows tr[data-variant="control"] .entry-clicks').fill("11")
    page.click("#entry-submit")
    page.wait_for_selector("#entry-status .state-error")
    settle(page)
    assert violations(page) == [], "data entry and import with errors"

    page.select_option("#import-mode", "increment")
    again = header + "2026-11-01,control,1000,30,3\n"
    page.set_input_files("#import-file", files=[csv_file("again.csv", again)])
    page.click("#import-submit")
    page.wait_for_selector("#import-overlap")
    assert violations(page) == [], "double-import warning"
    page.keyboard.press("Escape")
    page.wait_for_selector("#import-cancelled")
