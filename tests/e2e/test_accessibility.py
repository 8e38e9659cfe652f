"""axe-core (vendored in tests/e2e/vendor/axe-core) on every screen: no WCAG 2.2 A/AA violations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import DESKTOP, PHONE, Server, settle
from .test_dashboard import create_experiment, open_experiment, post_day

pytestmark = pytest.mark.e2e

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text(encoding="utf-8")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def violations(page: Any) -> list[str]:
    """axe's violations on the page as 'rule: target (summary)' lines."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(AXE)  # through DevTools, so the page's CSP does not apply
    found = page.evaluate(
        "(tags) => axe.run(document, { runOnly: { type: 'tag', values: tags } })"
        ".then((r) => r.violations.map((v) => v.nodes.map((n) =>"
        " `${v.id}: ${n.target.join(' ')} (${n.failureSummary.split('\\n')[1] ?? ''})`)).flat())",
        TAGS,
    )
    return list(found)


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440", "375"])
def test_no_axe_violations_on_any_screen(
    page: Any, server: Server, api: httpx.Client, size: dict[str, int]
) -> None:
    exp_id = create_experiment(api, "Accessible", ["control", "b"], description="A test.")
    post_day(api, exp_id, "2026-11-01", {"control": (1000, 30, 3), "b": (1000, 60, 6)})
    page.set_viewport_size(size)

    page.goto(f"{server.url}/dashboard/")
    page.wait_for_selector("#experiments-table")
    assert violations(page) == [], "list"

    open_experiment(page, server, exp_id, ready="#data-allocation:not([hidden])")
    settle(page)
    assert violations(page) == [], "experiment"

    page.goto(f"{server.url}/dashboard/#/new")
    page.wait_for_selector("#create-form")
    assert violations(page) == [], "create"

    page.goto(f"{server.url}/dashboard/#/simulate")
    page.fill("#sim-days", "20")
    page.click("#sim-run")
    page.wait_for_selector("#sim-results:not([hidden])")
    assert violations(page) == [], "simulator"


def test_axe_finds_a_violation_when_there_is_one(page: Any, server: Server) -> None:
    # The check above could pass by axe not running at all: here it must report one.
    page.goto(f"{server.url}/dashboard/#/new")
    page.wait_for_selector("#create-form")
    page.evaluate(
        "() => { const i = document.createElement('img'); i.src = 'data:,'; "
        "document.querySelector('#main').append(i); }"
    )
    assert any(v.startswith("image-alt:") for v in violations(page))
