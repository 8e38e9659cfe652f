"""The experiments list and a test's outcome in Chromium: columns checked against the API,
search and status run on the server and live in the URL, Back restores them with the scroll
position, an experiment opens at its top, completing ships a variant, and axe finds nothing."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from .conftest import DESKTOP, PHONE, Server, Watch, settle
from .test_accessibility import violations
from .test_dashboard import create_experiment, open_experiment, post_day, shown_share

pytestmark = pytest.mark.e2e

CLEAR_WINNER = {"control": (20000, 400, 40), "b": (20000, 800, 80)}


def token() -> str:
    """A word no other experiment of the session's server has in its name."""
    return f"tok{uuid.uuid4().hex[:8]}"


def rows(page: Any) -> list[dict[str, str]]:
    return list(
        page.evaluate(
            """() => [...document.querySelectorAll('#experiments-table tbody tr')].map((tr) => ({
              id: tr.dataset.id,
              name: tr.cells[0].querySelector('a').textContent,
              status: tr.cells[1].textContent,
              started: tr.cells[2].textContent,
              days: tr.cells[3].textContent,
              leader: tr.cells[4].textContent,
            }))"""
        )
    )


def list_url(server: Server, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{server.url}/dashboard/#/" + (f"?{query}" if query else "")


def wait_rows(page: Any, count: int) -> None:
    page.wait_for_function(
        "(n) => document.querySelectorAll('#experiments-table tbody tr').length === n", arg=count
    )


def hash_params(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).fragment.partition("?")[2])


def pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def test_the_columns_show_what_the_api_says(
    page: Any, server: Server, api: httpx.Client, shoot: Callable[[Any, str], None]
) -> None:
    word = token()
    plain = create_experiment(api, f"{word} no data", ["control", "b"])
    measured = create_experiment(api, f"{word} measured", ["control", "b"])
    post_day(api, measured, "2026-11-01", CLEAR_WINNER)
    assert api.get("/allocation", params={"experiment_id": measured}).status_code == 200
    shipped = create_experiment(api, f"{word} shipped", ["control", "b"])
    post_day(api, shipped, "2026-11-01", CLEAR_WINNER)
    api.get("/allocation", params={"experiment_id": shipped})
    body = {"status": "completed", "shipped_variant": "b"}
    assert api.patch(f"/experiments/{shipped}", json=body).status_code == 200

    page.goto(list_url(server, q=word))
    wait_rows(page, 3)
    listed = api.get("/experiments", params={"q": word, "order": "newest"}).json()["items"]
    assert [e["id"] for e in listed] == [shipped, measured, plain]  # newest first
    zone = ZoneInfo(page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone"))
    shown = rows(page)
    assert [r["id"] for r in shown] == [e["id"] for e in listed]
    for row, exp in zip(shown, listed, strict=True):
        created = dt.datetime.fromisoformat(exp["created_at"])
        assert row["name"] == exp["name"]
        assert row["status"] == exp["status"]
        assert row["started"] == created.astimezone(zone).date().isoformat()
        assert row["days"] == "0"  # all made moments ago
    leader = listed[1]["leader"]
    assert leader["variant"] == "b"
    assert leader["p_best"] > 0.99
    assert shown[1]["leader"] == f"b {pct(leader['p_best'])} P(best)"
    assert shown[0]["leader"] == f"b {pct(listed[0]['leader']['p_best'])} P(best)shipped b"
    assert shown[2]["leader"] == "not enough data"
    assert listed[2]["leader"] is None
    shoot(page, "list-columns")

    # days running: whole days since creation, until the completion for a completed test
    days = page.evaluate(
        """() => import('./js/views/list.js').then(({ daysRunning }) => [
          daysRunning({ created_at: '2026-01-01T00:00:00Z', status: 'running' },
                      Date.parse('2026-01-11T12:00:00Z')),
          daysRunning({ created_at: '2026-01-01T00:00:00Z', status: 'completed',
                        updated_at: '2026-01-04T23:00:00Z' }, Date.parse('2026-03-01T00:00:00Z')),
          daysRunning({ created_at: '2026-01-01T00:00:00Z', status: 'completed',
                        updated_at: '2026-02-20T00:00:00Z',
                        changes: [{ kind: 'completed', at: '2026-01-06T01:00:00Z' },
                                  { kind: 'settings', at: '2026-02-20T00:00:00Z' }] },
                      Date.parse('2026-03-01T00:00:00Z')),
        ])"""
    )
    # an edit after completing does not move the end: the logged completion does
    assert days == [10, 3, 5]


def test_search_and_status_filter_every_page_on_the_server_and_live_in_the_url(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    word = token()
    # the oldest of 52: far past the first page of 50, newest first
    target = create_experiment(api, f"Needle {word.upper()}", ["control", "b"])
    for i in range(51):
        create_experiment(api, f"hay {i}", ["control", "b"])
    page.goto(list_url(server))
    wait_rows(page, 50)
    assert target not in [r["id"] for r in rows(page)]

    page.fill("#exp-search", word)  # lower case: the search ignores case
    wait_rows(page, 1)
    assert rows(page)[0]["id"] == target
    assert hash_params(page) == {"q": [word]}
    searched = [u for u in watch.requests if "/experiments?" in u and f"q={word}" in u]
    assert searched
    assert all("order=newest" in u for u in searched)

    page.select_option("#exp-status", "paused")
    page.wait_for_selector(".state-empty")
    assert hash_params(page) == {"q": [word], "status": ["paused"]}
    assert api.patch(f"/experiments/{target}", json={"status": "paused"}).status_code == 200

    # the URL alone brings both filters back
    page.goto("about:blank")
    page.goto(list_url(server, q=word, status="paused"))
    wait_rows(page, 1)
    assert page.input_value("#exp-search") == word
    assert page.input_value("#exp-status") == "paused"
    assert rows(page)[0]["status"] == "paused"


def test_back_restores_the_filters_and_the_scroll_position_and_an_experiment_opens_at_its_top(
    page: Any, server: Server, api: httpx.Client
) -> None:
    word = token()
    ids = [create_experiment(api, f"{word} {i:02d}", ["control", "b"]) for i in range(60)]
    page.set_viewport_size({"width": DESKTOP["width"], "height": 600})
    page.goto(list_url(server, q=word, status="running"))
    wait_rows(page, 50)
    page.click("text=Load more")
    wait_rows(page, 60)
    # scroll to the 55th row and open it
    link = page.locator(f'#experiments-table tr[data-id="{ids[5]}"] a')
    link.scroll_into_view_if_needed()
    settle(page)
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 1000
    link.click()
    page.wait_for_url(re.compile(r"#/experiments/"))
    page.wait_for_selector("#exp-title:not(:text('Experiment'))")
    assert page.evaluate("window.scrollY") == 0
    assert page.locator("#exp-title").is_visible()

    page.go_back()
    wait_rows(page, 60)
    page.wait_for_function("(y) => Math.abs(window.scrollY - y) <= 2", arg=scrolled)
    assert hash_params(page) == {"q": [word], "status": ["running"]}
    assert page.input_value("#exp-search") == word
    assert page.input_value("#exp-status") == "running"

    # a fresh visit of the list starts at the top
    page.click("nav a[href='#/']")
    page.wait_for_selector("#experiments-table")
    assert page.evaluate("window.scrollY") == 0
    assert page.input_value("#exp-search") == ""


def test_completing_ships_the_winner_and_the_page_shows_the_outcome(
    page: Any, server: Server, api: httpx.Client, shoot: Callable[[Any, str], None]
) -> None:
    exp_id = create_experiment(api, "Ship the winner", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", CLEAR_WINNER)
    open_experiment(page, server, exp_id, ready="#rec-text")
    page.get_by_role("button", name="Complete", exact=True).click()
    # the winner is chosen by default
    assert page.input_value("#ship-variant") == "b"
    page.get_by_role("button", name="Complete the test").click()
    page.wait_for_selector("#exp-outcome:not([hidden])")
    assert api.get(f"/experiments/{exp_id}").json()["shipped_variant"] == "b"
    allocation = api.get("/allocation", params={"experiment_id": exp_id}).json()
    assert allocation["allocations"] == {"control": 0.0, "b": 1.0}
    assert page.inner_text("#outcome-text").startswith("Shipped b: it gets 100% of the traffic")
    page.wait_for_function(
        "() => document.querySelector('#shares li[data-variant=\"b\"] .share-value')"
        "?.textContent === '100.0%'"
    )
    assert shown_share(page, "control") == 0.0
    shoot(page, "experiment-shipped")
    # reopening hands the split back to the bandit; the outcome goes
    page.get_by_role("button", name="Reopen", exact=True).click()
    page.wait_for_selector("#exp-outcome", state="hidden")
    assert api.get(f"/experiments/{exp_id}").json()["shipped_variant"] is None


def test_completing_may_ship_nothing_and_keep_the_split(
    page: Any, server: Server, api: httpx.Client
) -> None:
    exp_id = create_experiment(api, "Ship nothing", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", CLEAR_WINNER)
    before = api.get("/allocation", params={"experiment_id": exp_id}).json()["allocations"]
    open_experiment(page, server, exp_id, ready="#rec-text")
    page.get_by_role("button", name="Complete", exact=True).click()
    page.select_option("#ship-variant", "")
    page.get_by_role("button", name="Complete the test").click()
    page.wait_for_selector("#exp-outcome:not([hidden])")
    assert "without shipping a variant" in page.inner_text("#outcome-text")
    exp = api.get(f"/experiments/{exp_id}").json()
    assert (exp["status"], exp["shipped_variant"]) == ("completed", None)
    after = api.get("/allocation", params={"experiment_id": exp_id}).json()["allocations"]
    assert after == before


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440", "375"])
def test_no_axe_violations_on_the_list_and_a_completed_experiment(
    page: Any, server: Server, api: httpx.Client, size: dict[str, int]
) -> None:
    word = token()
    exp_id = create_experiment(api, f"{word} done", ["control", "b"], description="Shipped.")
    post_day(api, exp_id, "2026-11-01", CLEAR_WINNER)
    api.get("/allocation", params={"experiment_id": exp_id})
    body = {"status": "completed", "shipped_variant": "b"}
    assert api.patch(f"/experiments/{exp_id}", json=body).status_code == 200
    create_experiment(api, f"{word} fresh", ["control", "b"])
    page.set_viewport_size(size)

    page.goto(list_url(server, q=word))
    wait_rows(page, 2)
    settle(page)
    assert violations(page) == [], "list"
    if size == PHONE:
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    open_experiment(page, server, exp_id, ready="#exp-outcome:not([hidden])")
    page.wait_for_selector("#variant-table")
    settle(page)
    assert violations(page) == [], "completed experiment"

    page.get_by_role("button", name="Reopen", exact=True).click()
    page.wait_for_selector("#exp-badges .badge-running")
    page.get_by_role("button", name="Complete", exact=True).click()
    page.wait_for_selector("dialog #ship-variant")
    assert violations(page) == [], "complete dialog"
