"""Completing asks first and names what ships; daily data and history export as CSV that a
spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Server
from .test_dashboard import create_experiment, open_experiment, post_day

pytestmark = pytest.mark.e2e

FORMULA = '=HYPERLINK("http://x.test","y")'
CLEAR = {"control": (20000, 400, 40), FORMULA: (20000, 800, 80)}


def download(page: Any, selector: str) -> list[list[str]]:
    with page.expect_download() as info:
        page.click(selector)
    text = Path(info.value.path()).read_text(encoding="utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_complete_asks_and_names_the_winner(page: Any, server: Server, api: httpx.Client) -> None:
    exp_id = create_experiment(api, "Complete me", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", {"control": (20000, 400, 40), "b": (20000, 800, 80)})
    open_experiment(page, server, exp_id, ready="#rec-text")
    # Cancelling keeps it running
    page.get_by_role("button", name="Complete", exact=True).click()
    dialog = page.locator("dialog")
    assert "The winner, b, is the variant to ship." in dialog.inner_text()
    page.get_by_role("button", name="Cancel").click()
    assert api.get(f"/experiments/{exp_id}").json()["status"] == "running"
    # Confirming completes it, and the page shows the outcome
    page.get_by_role("button", name="Complete", exact=True).click()
    page.get_by_role("button", name="Complete the test").click()
    page.wait_for_selector("#exp-badges .badge-completed")
    assert api.get(f"/experiments/{exp_id}").json()["status"] == "completed"
    page.wait_for_selector("#rec-text:has-text('Completed')")


def test_export_daily_data_and_history_escaped_against_formulas(
    page: Any, server: Server, api: httpx.Client
) -> None:
    exp_id = create_experiment(api, "Export", ["control", FORMULA])
    post_day(api, exp_id, "2026-11-01", CLEAR)
    post_day(api, exp_id, "2026-11-02", {"control": (10, 1, 0), FORMULA: (10, 2, 1)})
    open_experiment(page, server, exp_id, ready="#rec-text")

    daily = download(page, "#export-daily")
    assert daily[0] == ["date", "variant_name", "impressions", "clicks", "conversions"]
    assert sorted(daily[1:]) == sorted(
        [
            ["2026-11-01", "control", "20000", "400", "40"],
            ["2026-11-01", "'" + FORMULA, "20000", "800", "80"],
            ["2026-11-02", "control", "10", "1", "0"],
            ["2026-11-02", "'" + FORMULA, "10", "2", "1"],
        ]
    )
    history = download(page, "#export-history")
    assert history[0] == [
        "computed_at",
        "latest_day",
        "trigger",
        "status",
        "variant_name",
        "share",
        "p_best",
    ]
    snapshots = api.get(f"/experiments/{exp_id}/history").json()["items"]
    assert len(history) - 1 == 2 * len(snapshots)
    # each snapshot's data day: the day it counted up to
    assert {r[1] for r in history[1:]} == {s["latest_day"] for s in snapshots} == {"2026-11-02"}
    assert {r[4] for r in history[1:]} == {"control", "'" + FORMULA}
    for rows in (daily, history):
        assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for r in rows for cell in r)
