"""The experiment's charts mark its changes, stack the delivered impressions, switch the rate
charts between daily and cumulative values, and give the sample behind every point."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from .conftest import DESKTOP, PHONE, Server, Watch, settle
from .test_accessibility import violations
from .test_dashboard import create_experiment, open_experiment, post_day

pytestmark = pytest.mark.e2e

DAYS = [f"2026-11-0{i}" for i in range(1, 8)]

CHART_JS = """(id) => {
  const chart = Chart.getChart(document.getElementById(id));
  if (!chart) return null;
  return {
    type: chart.config.type,
    labels: chart.data.labels,
    names: chart.data.datasets.map((d) => d.label),
    data: chart.data.datasets.map((d) => d.data),
    stacked: Boolean(chart.options.scales.y.stacked),
    markers: chart.options.plugins.bkMarkers.items.map((m) => ({
      index: m.index, day: m.day, number: m.number, kind: m.kind, label: m.label,
      at: chart.data.labels[m.index],
      x: Math.round(chart.scales.x.getPixelForValue(m.index)),
    })),
  };
}"""

# The tooltip of one point, as Chart.js builds it when that point is hovered.
TOOLTIP_JS = """([id, datasetIndex, index]) => {
  const chart = Chart.getChart(document.getElementById(id));
  const el = chart.getDatasetMeta(datasetIndex).data[index];
  chart.tooltip.setActiveElements([], { x: 0, y: 0 }); // (the same point again keeps old text)
  chart.tooltip.setActiveElements([{ datasetIndex, index }], { x: el.x, y: el.y });
  chart.update('none');
  const t = chart.tooltip;
  return [...t.title, ...t.body.flatMap((b) => b.lines), ...t.footer];
}"""


def chart(page: Any, canvas_id: str) -> dict[str, Any]:
    state = page.evaluate(CHART_JS, canvas_id)
    assert state is not None, canvas_id
    return dict(state)


def tooltip(page: Any, canvas_id: str, dataset: int, index: int) -> list[str]:
    return list(page.evaluate(TOOLTIP_JS, [canvas_id, dataset, index]))


def allocate(api: httpx.Client, exp_id: str) -> None:
    assert api.get("/allocation", params={"experiment_id": exp_id}).status_code == 200


def patch(api: httpx.Client, exp_id: str, body: dict[str, Any]) -> None:
    r = api.patch(f"/experiments/{exp_id}", json=body)
    assert r.status_code == 200, r.text


def experiment_with_a_life(api: httpx.Client) -> str:
    """Seven days: a setting changed after day 3, a variant added after day 4, paused after
    day 5, resumed after day 6 and completed after day 7; b far ahead from the start."""
    exp_id = create_experiment(api, "Events", ["control", "b"])
    counts = {"control": (1000, 20, 0), "b": (1000, 80, 0)}
    for day in DAYS[:3]:
        post_day(api, exp_id, day, counts)
        allocate(api, exp_id)
    patch(api, exp_id, {"settings": {"control_floor": 0.2}})
    post_day(api, exp_id, DAYS[3], counts)
    allocate(api, exp_id)
    patch(api, exp_id, {"variants": ["c"]})
    post_day(api, exp_id, DAYS[4], {**counts, "c": (500, 10, 0)})
    allocate(api, exp_id)
    patch(api, exp_id, {"status": "paused"})
    post_day(api, exp_id, DAYS[5], {"control": (10, 1, 0), "b": (10, 2, 0), "c": (10, 0, 0)})
    patch(api, exp_id, {"status": "running"})
    post_day(api, exp_id, DAYS[6], {**counts, "c": (500, 12, 0)})
    allocate(api, exp_id)
    patch(api, exp_id, {"status": "completed"})
    return exp_id


@pytest.fixture(scope="module")
def lived(api: httpx.Client) -> str:
    return experiment_with_a_life(api)


def winner_days(api: httpx.Client, exp_id: str) -> list[str]:
    """The data days whose snapshot declares a winner after one that did not."""
    items = api.get(f"/experiments/{exp_id}/history", params={"limit": 500}).json()["items"]
    statuses = [(i["latest_day"], i["status"]) for i in reversed(items)]  # oldest first
    before = [None, *(s for _, s in statuses)]
    won = [d for (d, s), b in zip(statuses, before, strict=False) if s == "winner_found" != b]
    assert won, "the seeded data declares no winner"
    return won


def test_every_time_chart_marks_the_changes_at_their_data_day(
    page: Any, server: Server, api: httpx.Client, lived: str, shoot: Any
) -> None:
    # (b leads from day 1; variant c, added on day 5, makes the engine look again)
    won = winner_days(api, lived)
    assert won[0] == DAYS[0]
    open_experiment(page, server, lived, ready="#data-allocation:not([hidden])")

    # The list above the charts names each event, numbered, at its data day
    items = page.locator("#chart-events-list li")
    listed = [(li.get_attribute("data-kind"), li.get_attribute("data-day")) for li in items.all()]
    assert listed == sorted(
        [
            ("settings", DAYS[2]),
            ("variants_added", DAYS[3]),
            ("paused", DAYS[4]),
            ("resumed", DAYS[5]),
            ("completed", DAYS[6]),
            *(("winner", day) for day in won),
        ],
        key=lambda e: (e[1], e[0] == "completed"),  # the day's snapshot, then completion
    )
    texts = items.all_inner_texts()
    assert f"{DAYS[2]} · Settings changed: control_floor 0.1 → 0.2" in texts
    assert f"{DAYS[3]} · Variant added: added c" in texts
    assert f"{DAYS[4]} · Paused: running → paused" in texts
    assert f"{DAYS[6]} · Completed: running → completed" in texts

    # Each chart by day draws a marker at that day's label, numbered as in the list
    numbers = {kind: i + 1 for i, (kind, _) in enumerate(listed) if kind != "winner"}
    for canvas in ("chart-ctr", "chart-impressions", "chart-regret"):
        state = chart(page, canvas)
        assert state["labels"] == DAYS, canvas
        marks = {m["kind"]: (m["at"], m["number"], m["label"]) for m in state["markers"]}
        winners = [m["at"] for m in state["markers"] if m["kind"] == "winner"]
        assert marks["settings"] == (DAYS[2], numbers["settings"], "Settings changed"), canvas
        assert marks["variants_added"] == (DAYS[3], numbers["variants_added"], "Variant added")
        assert marks["paused"] == (DAYS[4], numbers["paused"], "Paused")
        assert marks["resumed"] == (DAYS[5], numbers["resumed"], "Resumed")
        assert marks["completed"] == (DAYS[6], numbers["completed"], "Completed")
        assert winners == won
        # markers sit left to right in the order of their days
        xs = [m["x"] for m in sorted(state["markers"], key=lambda m: m["number"])]
        assert xs == sorted(xs)
        assert len(set(xs)) >= 4
    # The history charts have no point on the paused day 6: "resumed" marks the next point
    for canvas in ("chart-allocation", "chart-pbest"):
        state = chart(page, canvas)
        assert DAYS[5] not in state["labels"]
        marks = {m["kind"]: m["at"] for m in state["markers"]}
        assert marks["resumed"] == DAYS[6]
        assert marks["settings"] == DAYS[2]
    # Hovering a marked day lists its events in the tooltip
    lines = tooltip(page, "chart-ctr", 0, DAYS.index(DAYS[4]))
    assert f"{numbers['paused']} Paused: running → paused" in lines
    shoot(page, "experiment-chart-events")


def test_a_variant_that_appears_with_its_events_is_marked_at_its_first_day(
    page: Any, server: Server, api: httpx.Client
) -> None:
    # Given an experiment that declares no variants, and c's first events on day 3
    exp_id = create_experiment(api, "Undeclared", None)
    post_day(api, exp_id, DAYS[0], {"control": (100, 5, 0), "b": (100, 6, 0)})
    post_day(api, exp_id, DAYS[1], {"control": (100, 5, 0), "b": (100, 6, 0)})
    post_day(api, exp_id, DAYS[2], {"control": (100, 5, 0), "c": (100, 7, 0)})
    open_experiment(page, server, exp_id, ready="#data-impressions:not([hidden])")
    # Then c is marked where its data begins (and control and b, there from day 1, are not)
    assert page.locator("#chart-events-list li").all_inner_texts() == [
        f"{DAYS[2]} · Variant added: c (first data)"
    ]
    for canvas in ("chart-ctr", "chart-impressions"):
        marks = chart(page, canvas)["markers"]
        assert [(m["kind"], m["at"], m["number"]) for m in marks] == [
            ("variants_added", DAYS[2], 1)
        ]


def test_stacked_impressions_match_the_daily_data(
    page: Any, server: Server, api: httpx.Client, lived: str
) -> None:
    metrics = api.get(f"/experiments/{lived}/metrics").json()["days"]
    open_experiment(page, server, lived, ready="#data-impressions:not([hidden])")
    state = chart(page, "chart-impressions")
    # Then one stacked bar per day, one segment per variant, with the API's counts
    assert state["type"] == "bar"
    assert state["stacked"] is True
    assert state["labels"] == [d["date"] for d in metrics]
    expected = {
        name: [
            next((v["impressions"] for v in d["variants"] if v["variant_name"] == name), 0)
            for d in metrics
        ]
        for name in ("control", "b", "c")
    }
    assert dict(zip(state["names"], state["data"], strict=True)) == expected
    assert expected["c"] == [0, 0, 0, 0, 500, 10, 500]
    # The tooltip gives the sample (impressions and clicks) and the day's total
    lines = tooltip(page, "chart-impressions", 2, 4)
    assert "c: 500 impressions, 10 clicks" in lines
    assert "Total: 2,500 impressions" in lines
    # and the table behind "Show data" says the same
    page.click("#data-impressions summary")
    row = page.locator("#data-impressions tbody tr").nth(4).inner_text().split("\t")
    assert row == [DAYS[4], "1,000", "1,000", "500"]


def test_rate_charts_switch_between_daily_and_cumulative(
    page: Any, server: Server, api: httpx.Client
) -> None:
    # Given three days whose daily CTRs differ from their running totals
    exp_id = create_experiment(api, "Toggle", ["control", "b"])
    rows = [
        {"control": (1000, 10, 5), "b": (1000, 40, 8)},
        {"control": (3000, 90, 9), "b": (1000, 20, 2)},
        {"control": (1000, 50, 1), "b": (2000, 20, 4)},
    ]
    for day, counts in zip(DAYS, rows, strict=False):
        post_day(api, exp_id, day, counts)
    open_experiment(page, server, exp_id, ready="#data-ctr:not([hidden])")
    # Daily by default: each point is that day's clicks over that day's impressions
    daily = chart(page, "chart-ctr")["data"]
    assert daily[0] == pytest.approx([0.01, 0.03, 0.05])
    assert daily[1] == pytest.approx([0.04, 0.02, 0.01])
    assert page.is_checked("#mode-ctr-daily")
    assert tooltip(page, "chart-ctr", 0, 1) == [
        DAYS[1],
        "control: 3.00%",
        "control: 90 clicks of 3,000 impressions",
    ]

    # When Cumulative is chosen: all days up to each day
    page.check("#mode-ctr-cumulative")
    cumulative = chart(page, "chart-ctr")["data"]
    assert cumulative[0] == pytest.approx([10 / 1000, 100 / 4000, 150 / 5000])
    assert cumulative[1] == pytest.approx([40 / 1000, 60 / 2000, 80 / 4000])
    assert "control: 100 clicks of 4,000 impressions to date" in tooltip(page, "chart-ctr", 0, 1)
    page.click("#data-ctr summary")
    assert page.locator("#data-ctr tbody tr").nth(2).inner_text().split("\t") == [
        DAYS[2],
        "3.00%",
        "2.00%",
    ]
    # The conversion chart keeps its own mode
    conv = chart(page, "chart-conversion")["data"]
    assert conv[0] == pytest.approx([0.005, 0.003, 0.001])
    page.check("#mode-conversion-cumulative")
    conv = chart(page, "chart-conversion")["data"]
    assert conv[1] == pytest.approx([8 / 1000, 10 / 2000, 14 / 4000])
    assert "b: 14 conversions of 4,000 impressions to date" in tooltip(
        page, "chart-conversion", 1, 2
    )
    # A refresh keeps the chosen mode; Daily brings the day's values back
    page.click("#refresh-button")
    page.wait_for_function("() => !document.querySelector('#refresh-button[aria-busy]')")
    assert chart(page, "chart-ctr")["data"][0] == pytest.approx([0.01, 0.025, 0.03])
    page.check("#mode-ctr-daily")
    assert chart(page, "chart-ctr")["data"][0] == pytest.approx([0.01, 0.03, 0.05])


def test_after_a_failed_load_the_toggle_brings_no_old_data_back(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    exp_id = create_experiment(api, "Fails", ["control", "b"])
    post_day(api, exp_id, DAYS[0], {"control": (100, 5, 0), "b": (100, 6, 0)})
    open_experiment(page, server, exp_id, ready="#data-ctr:not([hidden])")
    # When the allocation and the report fail on the next load
    watch.expect_status(500)
    problem = {"type": "about:blank", "title": "Internal Server Error", "status": 500}
    page.route(
        re.compile(r"/(allocation\?|experiments/[^/]+/report)"),
        lambda route: route.fulfill(
            status=500, json=problem, headers={"content-type": "application/problem+json"}
        ),
    )
    page.click("#refresh-button")
    page.wait_for_selector("#figure-ctr .chart-empty:not([hidden])")
    # Then switching to cumulative keeps saying so instead of drawing the old data
    page.check("#mode-ctr-cumulative")
    drawn = "() => Boolean(Chart.getChart(document.getElementById('chart-ctr')))"
    assert page.evaluate(drawn) is False
    assert page.is_visible("#figure-ctr .chart-empty")
    assert page.inner_text("#figure-ctr .chart-empty") == "Unavailable until the allocation loads."


@pytest.mark.parametrize("size", [DESKTOP, PHONE], ids=["1440", "375"])
def test_no_axe_violations_with_the_new_charts(
    page: Any, server: Server, lived: str, size: dict[str, int]
) -> None:
    page.set_viewport_size(size)
    open_experiment(page, server, lived, ready="#chart-events:not([hidden])")
    page.wait_for_selector("#data-impressions:not([hidden])")
    page.check("#mode-ctr-cumulative")
    settle(page)
    assert violations(page) == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= size["width"]
