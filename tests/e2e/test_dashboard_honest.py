"""What the experiment page shows is never more certain than the data: priors read "not enough
data", figures that failed to load read "–", advice fits the lifecycle, numbers read as words."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from .conftest import Server, Watch
from .test_dashboard import create_experiment, open_experiment, post_day

pytestmark = pytest.mark.e2e

NOT_ENOUGH = "not enough data"
# A clear winner: b converts at twice control's rate on 20,000 impressions each.
CLEAR = {"control": (20000, 400, 40), "b": (20000, 800, 80)}


def cell(page: Any, variant: str, column: int) -> str:
    row = f'#variant-table tr[data-variant="{variant}"]'
    return str(page.inner_text(f"{row} > :nth-child({column})"))


def rec_starts(page: Any, prefix: str) -> None:
    page.wait_for_function(
        "(p) => document.querySelector('#rec-text').textContent.startsWith(p)", arg=prefix
    )


def test_prior_only_values_read_not_enough_data(
    page: Any, server: Server, api: httpx.Client
) -> None:
    # Given an experiment whose variant b has no impressions of its own yet
    exp_id = create_experiment(api, "Priors are not findings", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", {"control": (500, 20, 2)})
    open_experiment(page, server, exp_id, ready="#variant-table")
    # Then potential value remaining, b's interval, lift and loss say so instead of a number
    assert page.inner_text("#fig-pvr") == NOT_ENOUGH
    assert cell(page, "b", 7) == NOT_ENOUGH  # 95% CI
    assert cell(page, "b", 8) == NOT_ENOUGH  # lift
    assert cell(page, "b", 10) == NOT_ENOUGH  # expected loss
    assert cell(page, "control", 7) != NOT_ENOUGH
    assert "%" not in page.inner_text("#fig-pvr")
    # When b gets data, the figures appear
    post_day(api, exp_id, "2026-11-02", {"control": (500, 20, 2), "b": (500, 25, 2)})
    page.click("#refresh-button")
    page.wait_for_function("() => document.querySelector('#fig-pvr').textContent.endsWith('%')")
    assert cell(page, "b", 8).startswith(("+", "-", "0"))


def test_a_failed_report_shows_dashes_not_zero(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    exp_id = create_experiment(api, "Report down", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", {"control": (1000, 30, 3), "b": (1000, 60, 6)})
    watch.expect_status(500)
    problem = {"type": "about:blank", "title": "boom", "status": 500, "detail": "x"}
    page.route(
        re.compile(r"/report$"),
        lambda route: route.fulfill(
            status=500, json=problem, headers={"content-type": "application/problem+json"}
        ),
    )
    open_experiment(page, server, exp_id, ready="#fig-regret")
    assert page.inner_text("#fig-regret") == "–"
    assert page.inner_text("#fig-gained") == "–"
    assert "did not load" in page.inner_text("#fig-report-failed")


def test_the_recommendation_fits_the_lifecycle_and_reads_as_words(
    page: Any, server: Server, api: httpx.Client
) -> None:
    exp_id = create_experiment(api, "Lifecycle advice", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", CLEAR)
    open_experiment(page, server, exp_id, ready="#rec-text")
    running = page.inner_text("#rec-text")
    assert running.startswith("b is the winner"), running
    assert "Ship b" in running
    # No scientific notation anywhere on the page, and one date format (ISO)
    body = page.inner_text("#main")
    assert not re.search(r"\de-\d", body), re.findall(r".{20}\de-\d.{20}", body)
    assert re.search(r"created \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", page.inner_text("#exp-meta"))
    assert re.search(r"Computed \d{4}-\d{2}-\d{2} ", page.inner_text("#allocation"))

    page.get_by_role("button", name="Pause", exact=True).click()
    page.wait_for_selector("#exp-badges .badge-paused")
    rec_starts(page, "Paused:")
    assert "Ship" not in page.inner_text("#rec-text")

    page.get_by_role("button", name="Resume", exact=True).click()
    page.wait_for_selector("#exp-badges .badge-running")
    page.get_by_role("button", name="Complete", exact=True).click()
    page.get_by_role("button", name="Complete the test").click()
    rec_starts(page, "Completed")
    assert "Ship" not in page.inner_text("#rec-text")


def test_day_form_errors_name_the_variant(page: Any, server: Server, api: httpx.Client) -> None:
    exp_id = create_experiment(api, "Form errors", ["control", "b"])
    open_experiment(page, server, exp_id, ready='#entry-rows tr[data-variant="control"]')
    row = page.locator('#entry-rows tr[data-variant="control"]')
    row.locator(".entry-impressions").fill("10")
    row.locator(".entry-clicks").fill("11")
    page.click("#entry-submit")
    status = page.locator("#entry-status .state-error")
    status.wait_for()
    assert "Clicks (11) can't exceed impressions (10) for control." in status.inner_text()
    assert api.get(f"/experiments/{exp_id}/metrics").json()["days"] == []
