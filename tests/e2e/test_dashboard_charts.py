"""The experiment's charts: by data day, only when they have data, fitted, told apart without
colour, and readable as a table."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import Server
from .test_dashboard import create_experiment, open_experiment, post_day

pytestmark = pytest.mark.e2e

CHART_JS = """(id) => {
  const chart = Chart.getChart(document.getElementById(id));
  if (!chart) return null;
  const y = chart.options.indexAxis === 'y' ? chart.scales.x : chart.scales.y;
  return {
    labels: chart.data.labels,
    markers: chart.data.datasets.map((d) => d.pointStyle),
    dashes: chart.data.datasets.map((d) => JSON.stringify(d.borderDash ?? [])),
    min: y.min, max: y.max,
  };
}"""


def chart(page: Any, canvas_id: str) -> dict[str, Any]:
    state = page.evaluate(CHART_JS, canvas_id)
    assert state is not None, canvas_id
    return dict(state)


def test_ctr_only_charts_by_data_day_fitted_with_markers_and_data_tables(
    page: Any, server: Server, api: httpx.Client
) -> None:
    # Given a CTR-only test (no conversions) with three days, each recomputed once
    exp_id = create_experiment(api, "Charts", ["control", "b", "c"])
    days = ["2026-11-01", "2026-11-02", "2026-11-03"]
    for i, day in enumerate(days):
        post_day(
            api,
            exp_id,
            day,
            {"control": (1000, 40 + i, 0), "b": (1000, 50 + i, 0), "c": (1000, 45, 0)},
        )
        assert api.get("/allocation", params={"experiment_id": exp_id}).status_code == 200
        # a second recomputation of the same data day adds no point
        assert api.get("/allocation", params={"experiment_id": exp_id}).status_code in (200, 304)
    # (the canvases exist from the start; a chart's "Show data" appears once it is drawn)
    open_experiment(page, server, exp_id, ready="#data-allocation:not([hidden])")

    # Then there is no conversion chart: a CTR-only test has nothing to show in it
    assert page.is_hidden("#figure-conversion")
    # The allocation and P(best) charts have one point per data day, labelled by the day
    assert chart(page, "chart-allocation")["labels"] == days
    assert chart(page, "chart-pbest")["labels"] == days
    # Series differ by marker and dash pattern, not by colour alone
    ctr = chart(page, "chart-ctr")
    assert len(set(ctr["markers"])) == 3
    assert len(set(ctr["dashes"])) == 3
    # Axes fit the data: CTR between about 4% and 5.2% is not drawn on 0-100%
    assert ctr["min"] > 0.02
    assert ctr["max"] < 0.08
    intervals = chart(page, "chart-intervals")
    assert intervals["min"] > 0.01
    assert intervals["max"] < 0.1
    # The data behind each chart, as a table behind "Show data"
    page.click("#data-ctr summary")
    rows = page.locator("#data-ctr tbody tr").all_inner_texts()
    assert len(rows) == 3
    assert rows[0].split("\t") == ["2026-11-01", "4.00%", "5.00%", "4.50%"]
    page.click("#data-allocation summary")
    assert page.locator("#data-allocation tbody tr").count() == 3
