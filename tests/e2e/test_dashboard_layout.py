"""Layout and accessibility: the variant table at 1440 px and on a phone, long descriptions,
contrast of the focus ring and button borders."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from .conftest import DESKTOP, PHONE, Server, settle
from .test_dashboard import create_experiment, open_experiment, post_day

pytestmark = pytest.mark.e2e


def luminance(rgb: tuple[int, ...]) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.03928 else float(((s + 0.055) / 1.055) ** 2.4)

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def colours(css: str) -> list[tuple[int, ...]]:
    return [tuple(int(x) for x in m) for m in re.findall(r"rgba?\((\d+), (\d+), (\d+)", css)]


WHITE = (255, 255, 255)


def test_ten_variants_fit_at_1440_and_read_as_cards_on_a_phone(
    page: Any, server: Server, api: httpx.Client, shoot: Any
) -> None:
    names = ["control", *[f"variant_{i}_long_name" for i in range(1, 10)]]
    exp_id = create_experiment(api, "Ten variants", names, description="word " * 200)
    post_day(api, exp_id, "2026-11-01", {n: (12345, 678 + i, 90 + i) for i, n in enumerate(names)})
    open_experiment(page, server, exp_id, ready="#variant-table")

    # At 1440 px: nothing scrolls sideways and the Share column is inside the card
    wrap = page.locator("#variant-table-box .table-wrap")
    assert wrap.evaluate("w => w.scrollWidth <= w.clientWidth"), wrap.evaluate(
        "w => [w.scrollWidth, w.clientWidth]"
    )
    share = page.locator("#variant-table thead th").last.bounding_box()
    box = wrap.bounding_box()
    assert share["x"] + share["width"] <= box["x"] + box["width"] + 0.5

    # The long description is clamped with "more", which shows it all
    clamped = page.locator("#exp-description").bounding_box()["height"]
    assert clamped < 100
    page.click("#exp-description-more")
    assert page.locator("#exp-description").bounding_box()["height"] > 3 * clamped
    assert page.get_attribute("#exp-description-more", "aria-expanded") == "true"

    # On a phone: each variant is a card; every value is within the screen and labelled
    page.set_viewport_size(PHONE)
    settle(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    row = page.locator('#variant-table tr[data-variant="variant_9_long_name"]')
    assert row.evaluate("r => getComputedStyle(r).display") == "grid"
    cell = row.locator("td.share")
    right = cell.bounding_box()
    assert right["x"] + right["width"] <= PHONE["width"]
    assert cell.evaluate("c => getComputedStyle(c, '::before').content") == '"Share"'
    page.set_viewport_size(DESKTOP)
    shoot(page, "experiment-ten-variants")


def test_focus_ring_and_secondary_borders_have_3_to_1_contrast(
    page: Any, server: Server, api: httpx.Client
) -> None:
    exp_id = create_experiment(api, "Contrast", ["control", "b"])
    open_experiment(page, server, exp_id)
    border = page.eval_on_selector("#refresh-button", "b => getComputedStyle(b).borderTopColor")
    assert contrast(colours(border)[0], WHITE) >= 3, border
    page.focus("#refresh-button")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    ring = page.eval_on_selector("#refresh-button", "b => getComputedStyle(b).boxShadow")
    # the outermost ring colour against the white card around it
    assert max(contrast(c, WHITE) for c in colours(ring)) >= 3, ring
    # and the ring is not announced-time noise: "Updated" is not a live region
    assert page.get_attribute("#exp-updated", "aria-live") is None
