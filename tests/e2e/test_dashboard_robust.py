"""The experiment page keeps working when the network does not: timeouts, retries,
conditional requests and a slower refresh while nobody is looking."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from .conftest import Server, Watch
from .test_dashboard import create_experiment, open_experiment, post_day

pytestmark = pytest.mark.e2e

FAST = """
localStorage.setItem('banditkit.refreshSeconds', '1');
localStorage.setItem('banditkit.timeoutSeconds', '1');
"""

# Every text #fig-regret shows, in order.
SEEN_REGRET = """
window.__seenRegret = [];
new MutationObserver(() => {
  const text = document.querySelector('#fig-regret')?.textContent;
  if (text && window.__seenRegret.at(-1) !== text) window.__seenRegret.push(text);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""


def test_a_hung_report_request_recovers_and_refresh_stays_enabled(
    page: Any, server: Server, api: httpx.Client
) -> None:
    # Given an experiment with data, and a server whose first three /report answers never come
    exp_id = create_experiment(api, "Hung report", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", {"control": (1000, 30, 3), "b": (1000, 60, 6)})
    held: list[Any] = []

    def hold_first_three(route: Any) -> None:
        if len(held) < 3:
            held.append(route)  # never answered: the request hangs
        else:
            route.continue_()

    page.route(re.compile(r"/report$"), hold_first_three)
    page.add_init_script(FAST + SEEN_REGRET)

    # When the page opens: the first load's three attempts hang and time out
    page.goto(f"{server.url}/dashboard/#/experiments/{exp_id}")

    # Then the regret reads "–" (unknown, never 0) until the next automatic refresh recovers
    # on its own and shows the figure
    page.wait_for_function(
        "() => /^[0-9.,]+$/.test(document.querySelector('#fig-regret')?.textContent ?? '')",
        timeout=15_000,
    )
    assert page.evaluate("window.__seenRegret")[0] == "–"
    assert len(held) == 3
    assert page.is_enabled("#refresh-button")
    assert page.locator("#recommendation .state-error").count() == 0


def test_refresh_button_works_while_a_load_hangs(
    page: Any, server: Server, api: httpx.Client
) -> None:
    # Given a page whose first /allocation request hangs for the whole default timeout
    exp_id = create_experiment(api, "Hung allocation", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", {"control": (500, 10, 1), "b": (500, 20, 2)})
    held: list[Any] = []

    def hold_first(route: Any) -> None:
        if not held:
            held.append(route)
        else:
            route.continue_()

    page.route(re.compile(r"/allocation\?"), hold_first)
    with page.expect_request(lambda r: "/allocation?" in r.url):
        page.goto(f"{server.url}/dashboard/#/experiments/{exp_id}")
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the first /allocation request was not held"
    # When the person clicks Refresh at once: the button is enabled and a new load supersedes
    assert page.is_enabled("#refresh-button")
    page.click("#refresh-button")
    # Then the page shows the data well before the hung request's 10 s timeout
    page.wait_for_selector('#variant-table tr[data-variant="b"] td:has-text("500")', timeout=5000)


def test_auto_refresh_uses_conditional_requests(
    page: Any, server: Server, api: httpx.Client
) -> None:
    exp_id = create_experiment(api, "Conditional", ["control", "b"])
    post_day(api, exp_id, "2026-11-01", {"control": (800, 16, 2), "b": (800, 32, 3)})
    statuses: dict[str, list[int]] = {"report": [], "allocation": []}

    def on_response(response: Any) -> None:
        if response.url.endswith(f"/experiments/{exp_id}/report"):
            statuses["report"].append(response.status)
        elif "/allocation?" in response.url:
            statuses["allocation"].append(response.status)

    page.on("response", on_response)
    page.add_init_script(FAST)
    open_experiment(page, server, exp_id)
    page.wait_for_selector('#variant-table tr[data-variant="b"] td:has-text("800")')
    # Nothing changes: the next refreshes get 304 and the page keeps the data it had
    page.wait_for_function("() => document.querySelector('#exp-updated').textContent !== ''")
    page.wait_for_timeout(2500)
    assert statuses["report"][0] == 200
    assert 304 in statuses["report"][1:], statuses
    assert 304 in statuses["allocation"][1:], statuses
    assert page.locator('#variant-table tr[data-variant="b"] td:has-text("800")').count() == 1
    assert page.get_attribute("#exp-updated", "aria-live") is None
    # New data: a 200 with the new body
    post_day(api, exp_id, "2026-11-02", {"control": (100, 2, 0), "b": (100, 4, 1)})
    page.wait_for_selector('#variant-table tr[data-variant="b"] td:has-text("900")')


def test_auto_refresh_slows_down_while_idle(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    exp_id = create_experiment(api, "Idle", ["control", "b"])
    page.add_init_script(FAST + "localStorage.setItem('banditkit.idleSeconds', '1');")
    open_experiment(page, server, exp_id)

    def loads() -> int:
        return sum("/allocation?" in u for u in watch.requests)

    # Idle after 1 s: refreshes come every 4 s instead of every second
    page.wait_for_timeout(2000)
    start = loads()
    page.wait_for_timeout(4000)
    assert loads() - start <= 2
    # Activity brings the normal pace back
    for x in range(6):
        page.mouse.move(100 + x, 100)
        page.wait_for_timeout(500)
    active_start = loads()
    for x in range(6):
        page.mouse.move(200 + x, 100)
        page.wait_for_timeout(500)
    assert loads() - active_start >= 2


def test_health_names_a_store_that_is_down(page: Any, server: Server, watch: Watch) -> None:
    watch.expect_status(503)
    problem = {
        "type": "about:blank",
        "title": "Service Unavailable",
        "status": 503,
        "detail": "The store did not answer.",
        "errors": [{"field": "store", "message": "unreachable"}],
    }
    page.route(
        re.compile(r"/health$"),
        lambda route: route.fulfill(
            status=503, json=problem, headers={"content-type": "application/problem+json"}
        ),
    )
    page.goto(f"{server.url}/dashboard/")
    page.wait_for_selector("#health:has-text('store unavailable')")
