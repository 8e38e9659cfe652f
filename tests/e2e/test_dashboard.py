"""The dashboard in headless Chromium against the real local server.

Every test also checks, through the `page` fixture, that no request left the page's origin
and that the console stayed free of errors.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from banditkit import models
from banditkit.engine import Settings

from .conftest import ADMIN_KEY, SCREENSHOTS, Server, Watch, settle, start_server, stop_server

pytestmark = pytest.mark.e2e

CHART_STATE_JS = """(id) => {
  const canvas = document.getElementById(id);
  const chart = canvas && window.Chart.getChart(canvas);
  if (!chart) return null;
  const { width, height } = canvas;
  const pixels = canvas.getContext('2d').getImageData(0, 0, width, height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) if (pixels[i] !== 0) painted += 1;
  return {
    points: chart.data.datasets.map((d) => d.data.filter((v) => v != null).length),
    labels: chart.data.labels.length,
    painted: painted / (width * height),
    width, height,
  };
}"""

EXPERIMENT_CHARTS = ["ctr", "conversion", "allocation", "pbest", "regret", "intervals"]


def chart_state(page: Any, canvas_id: str) -> dict[str, Any]:
    state = page.evaluate(CHART_STATE_JS, canvas_id)
    assert state is not None, f"no Chart.js chart on #{canvas_id}"
    return dict(state)


def assert_drawn(page: Any, canvas_id: str, min_points: int) -> dict[str, Any]:
    state = chart_state(page, canvas_id)
    assert state["width"] > 100, (canvas_id, state)
    assert state["height"] > 100, (canvas_id, state)
    assert state["points"], (canvas_id, state)
    assert min(state["points"]) >= min_points, (canvas_id, state)
    # Axes, grid and data cover a fair part of a drawn chart; a blank canvas is all zeros.
    assert state["painted"] > 0.02, (canvas_id, state)
    return state


def create_experiment(
    api: httpx.Client, name: str, variants: list[Any] | None, **extra: Any
) -> str:
    body = {"name": name, **extra}
    if variants is not None:
        body["variants"] = variants
    r = api.post("/experiments", json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


Counts = dict[str, tuple[int, int, int]]


def post_day(api: httpx.Client, exp_id: str, date: str, rows: Counts) -> None:
    variants = [
        {"variant_name": n, "impressions": i, "clicks": c, "conversions": v}
        for n, (i, c, v) in rows.items()
    ]
    r = api.post("/events", json={"experiment_id": exp_id, "date": date, "variants": variants})
    assert r.status_code == 200, r.text


def csv_file(name: str, text: str) -> dict[str, Any]:
    return {"name": name, "mimeType": "text/csv", "buffer": text.encode()}


def shown_share(page: Any, variant: str) -> float:
    text = page.locator(f'#shares li[data-variant="{variant}"] .share-value').inner_text()
    return float(text.rstrip("%")) / 100


def open_experiment(page: Any, server: Server, exp_id: str, ready: str = "#shares") -> None:
    page.goto(f"{server.url}/dashboard/#/experiments/{exp_id}")
    page.wait_for_selector(ready)


# ---------------------------------------------------------------------------------------------


def test_create_enter_two_days_and_see_every_chart(
    page: Any, server: Server, api: httpx.Client, shoot: Any
) -> None:
    # Given the dashboard, when an experiment is created through the form
    page.goto(f"{server.url}/dashboard/")
    page.get_by_role("link", name="New experiment").first.click()
    page.wait_for_selector("#create-form")
    shoot(page, "create")
    page.fill("#new-name", "Homepage hero")
    page.fill("#new-description", "Does the shorter headline get more clicks?")
    assert page.input_value("#new-variant-1") == "control"
    assert page.is_checked("#new-control-1")
    page.fill("#new-variant-2", "short_headline")
    page.click("#new-submit")
    page.wait_for_url(re.compile(r"#/experiments/[^/]+$"))
    exp_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#shares")
    assert page.inner_text("#exp-title") == "Homepage hero"

    created = api.get(f"/experiments/{exp_id}").json()
    assert created["name"] == "Homepage hero"
    assert created["description"] == "Does the shorter headline get more clicks?"
    controls = [v["name"] for v in created["variants"] if v.get("is_control")]
    assert controls == ["control"]

    # And two days of data are entered through the day form
    days = {
        "2026-11-01": {"control": (1000, 40, 4), "short_headline": (1000, 70, 9)},
        "2026-11-02": {"control": (1200, 50, 5), "short_headline": (1100, 90, 12)},
    }
    for date, rows in days.items():
        page.fill("#entry-date", date)
        for name, (imp, clicks, conv) in rows.items():
            row = page.locator(f'#entry-rows tr[data-variant="{name}"]')
            row.locator(".entry-impressions").fill(str(imp))
            row.locator(".entry-clicks").fill(str(clicks))
            row.locator(".entry-conversions").fill(str(conv))
        page.click("#entry-submit")
        page.wait_for_selector(f"#entry-status .state-ok:has-text('{date}')")

    # Then the server holds exactly those counts
    metrics = api.get(f"/experiments/{exp_id}/metrics").json()
    stored = {
        d["date"]: {
            v["variant_name"]: (v["impressions"], v["clicks"], v["conversions"])
            for v in d["variants"]
        }
        for d in metrics["days"]
    }
    assert stored == days

    # And the page shows the allocation the API computes, favouring the better variant
    page.click("text=Refresh")
    page.wait_for_selector('#variant-table tr[data-variant="short_headline"] td:has-text("2,100")')
    alloc = api.get("/allocation", params={"experiment_id": exp_id}).json()
    for name, share in alloc["allocations"].items():
        assert shown_share(page, name) == pytest.approx(share, abs=0.0006)
    assert alloc["allocations"]["short_headline"] > alloc["allocations"]["control"]
    assert page.locator("#recommendation .rec-text").inner_text().strip() != ""
    row = page.locator('#variant-table tr[data-variant="short_headline"]').inner_text()
    assert "160" in row  # clicks summed over the two days
    assert "21" in row  # conversions
    assert "7.62%" in row  # CTR 160 / 2100

    # And every chart holds data and is drawn
    for name in ("ctr", "conversion", "regret"):
        state = assert_drawn(page, f"chart-{name}", 2)
        assert state["labels"] == 2
    history = assert_drawn(page, "chart-allocation", 2)
    assert history["labels"] >= 2
    assert_drawn(page, "chart-pbest", 2)
    assert_drawn(page, "chart-intervals", 2)

    # The regret chart ends where the report's estimate does (same posterior means)
    report = api.get(f"/experiments/{exp_id}/report").json()
    ends = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-regret'))"
        ".data.datasets.map((d) => d.data.at(-1))"
    )
    assert ends == pytest.approx([report["regret_so_far"], report["gained_vs_even"]], abs=1e-6)
    shown_regret = float(page.inner_text("#fig-regret").replace(",", ""))
    assert shown_regret == pytest.approx(report["regret_so_far"], abs=0.005)

    shoot(page, "experiment")
    for name in EXPERIMENT_CHARTS:  # still drawn after the phone-width round trip
        assert_drawn(page, f"chart-{name}", 1)

    page.goto(f"{server.url}/dashboard/#/")
    page.wait_for_selector("#experiments-table")
    shoot(page, "experiments")


def test_csv_import_with_a_bad_row_stores_nothing(
    page: Any, server: Server, api: httpx.Client, watch: Watch, shoot: Any
) -> None:
    exp_id = create_experiment(
        api, "CSV import", [{"name": "control", "is_control": True}, {"name": "b"}]
    )
    open_experiment(page, server, exp_id)
    page.wait_for_selector("#figure-ctr .chart-empty:not([hidden])")
    shoot(page, "experiment-no-data")
    watch.expect_status(422)

    # Given a CSV whose third data row has negative impressions
    bad = (
        "date,variant_name,impressions,clicks,conversions\n"
        "2026-11-01,control,1000,40,4\n"
        "2026-11-01,b,1000,60,6\n"
        "2026-11-02,b,-5,60,6\n"
    )
    page.set_input_files("#import-file", files=[csv_file("bad.csv", bad)])
    page.click("#import-submit")
    errors = page.locator("#import-errors")
    errors.wait_for()
    errors.scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "csv-bad-row-desktop.png"))
    # Then that one row is reported and nothing is stored
    assert "Nothing was imported" in errors.inner_text()
    assert errors.locator("li").count() == 1
    assert api.get(f"/experiments/{exp_id}/metrics").json()["days"] == []

    # When the row is fixed, every row is stored
    good = bad.replace("-5,60,6", "900,60,6")
    page.set_input_files("#import-file", files=[csv_file("good.csv", good)])
    page.click("#import-submit")
    page.wait_for_selector("#import-status .state-ok")
    days = api.get(f"/experiments/{exp_id}/metrics").json()["days"]
    assert [d["date"] for d in days] == ["2026-11-01", "2026-11-02"]
    assert sum(v["impressions"] for d in days for v in d["variants"]) == 2900

    # And the template names the experiment's variants under the import header
    with page.expect_download() as info:
        page.click("#import-template")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    lines = text.strip().splitlines()
    assert lines[0] == "date,variant_name,impressions,clicks,conversions"
    assert [line.split(",")[1] for line in lines[1:]] == ["control", "b"]


def test_changing_a_setting_changes_the_allocation(
    page: Any, server: Server, api: httpx.Client, shoot: Any
) -> None:
    exp_id = create_experiment(
        api, "Settings", [{"name": "control", "is_control": True}, {"name": "b"}]
    )
    post_day(api, exp_id, "2026-11-01", {"control": (3000, 90, 9), "b": (3000, 180, 20)})
    open_experiment(page, server, exp_id)
    before = shown_share(page, "control")
    assert before < 0.5  # b is clearly better

    # When the control floor is raised to 60 %
    page.fill("#exp-set-control_floor", "0.6")
    page.click("#settings-save")
    page.wait_for_selector("#settings-status .state-ok")
    # Then the page shows the control at its new floor, as the API computes it
    page.wait_for_function(
        "() => document.querySelector('#shares li[data-variant=\"control\"] .share-value')"
        ".textContent === '60.0%'"
    )
    alloc = api.get("/allocation", params={"experiment_id": exp_id}).json()
    assert alloc["allocations"]["control"] == pytest.approx(0.6, abs=1e-6)
    assert api.get(f"/experiments/{exp_id}").json()["settings"]["control_floor"] == 0.6
    assert shown_share(page, "control") == pytest.approx(0.6, abs=1e-6)
    assert before != pytest.approx(0.6, abs=0.01)


def test_regret_chart_counts_only_the_window(page: Any, server: Server, api: httpx.Client) -> None:
    # Given 5 days of data (a gap on 11-04) and a 3-day window: the engine counts 11-03..05
    exp_id = create_experiment(
        api,
        "Windowed",
        [{"name": "control", "is_control": True}, {"name": "b"}],
        settings={"window_days": 3},
    )
    for day in ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-05"):
        post_day(api, exp_id, day, {"control": (2000, 60, 6), "b": (2000, 90, 9)})
    open_experiment(page, server, exp_id)
    state = assert_drawn(page, "chart-regret", 2)
    assert state["labels"] == 2  # 11-03 and 11-05
    # Then the chart ends where the report's estimate does, not at all five days' sum
    report = api.get(f"/experiments/{exp_id}/report").json()
    ends = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-regret'))"
        ".data.datasets.map((d) => d.data.at(-1))"
    )
    assert ends == pytest.approx([report["regret_so_far"], report["gained_vs_even"]], abs=1e-6)
    assert report["regret_so_far"] > 0
    assert_drawn(page, "chart-ctr", 4)  # the rate charts still show every day


def test_out_of_range_setting_is_refused_next_to_its_field(
    page: Any, server: Server, api: httpx.Client
) -> None:
    exp_id = create_experiment(api, "Bad setting", ["control", "b"])
    open_experiment(page, server, exp_id)
    page.fill("#exp-set-min_explore_rate", "1.5")
    page.click("#settings-save")
    error = page.locator("#exp-set-min_explore_rate-error")
    error.wait_for()
    assert "at most 1" in error.inner_text()
    assert api.get(f"/experiments/{exp_id}").json()["settings"]["min_explore_rate"] == 0.05


def test_simulator_draws_shares_and_regret(
    page: Any, server: Server, watch: Watch, shoot: Any
) -> None:
    page.goto(f"{server.url}/dashboard/#/simulate")
    page.fill("#sim-days", "20")
    page.click("#sim-run")
    page.wait_for_selector("#sim-results:not([hidden])")
    shares = assert_drawn(page, "chart-sim-shares", 20)
    assert shares["points"] == [20, 20, 20]
    regret = assert_drawn(page, "chart-sim-regret", 20)
    assert regret["points"] == [20, 20]
    # The best arm (variant_b, 6 %) ends with the largest share
    last = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-sim-shares'))"
        ".data.datasets.map((d) => d.data.at(-1))"
    )
    assert max(range(3), key=lambda i: last[i]) == 1
    shoot(page, "simulator")

    # The limits the page explains are the server's
    limits = page.evaluate("() => import('./js/views/simulator.js').then((m) => m.LIMITS)")
    assert limits == {
        "variants": models.SIM_MAX_VARIANTS,
        "days": models.SIM_MAX_DAYS,
        "dailyImpressions": models.SIM_MAX_DAILY_IMPRESSIONS,
        "work": models.SIM_MAX_WORK,
        "seeds": models.SIM_MAX_SEEDS,
        "runDays": models.SIM_MAX_RUN_DAYS,
        "totalWork": models.SIM_MAX_TOTAL_WORK,
    }
    assert f"{models.SIM_MAX_DAYS} days" in page.inner_text("#sim-limits")

    # A request beyond a cap is refused, and the answer says which
    watch.expect_status(422)
    page.fill("#sim-days", str(models.SIM_MAX_DAYS + 1))
    page.click("#sim-run")
    page.wait_for_selector("#sim-status .state-error")
    assert f"Days must be {models.SIM_MAX_DAYS} or less." in page.inner_text("#sim-status")
    watch.expect_status(413)
    page.fill("#sim-days", str(models.SIM_MAX_DAYS))  # 3 variants x 365 days > the work cap
    page.click("#sim-run")
    page.wait_for_selector(f"#sim-status .state-error:has-text('{models.SIM_MAX_WORK}')")


def test_names_are_text_never_markup(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    evil_variant = '<img src=x onerror="window.__xss=1">'
    evil_name = '<b id="injected">bold</b><script>window.__xss=2</script>'
    exp_id = create_experiment(
        api,
        evil_name,
        [{"name": "control", "is_control": True}, {"name": evil_variant}],
        description='<a id="injected-link" href="javascript:alert(1)">click</a>',
    )
    post_day(api, exp_id, "2026-11-01", {"control": (800, 30, 3), evil_variant: (800, 45, 5)})
    open_experiment(page, server, exp_id)
    page.wait_for_selector("#chart-intervals")

    assert page.inner_text("#exp-title") == evil_name
    assert evil_variant in page.inner_text("#shares")
    assert evil_variant in page.inner_text("#variant-table")
    assert page.locator("#main img, #injected, #injected-link, #main script").count() == 0
    page.goto(f"{server.url}/dashboard/#/")
    page.fill("#exp-search", "bold")
    page.wait_for_selector("#experiments-table")
    assert evil_name in page.inner_text("#experiments-table")
    assert page.locator("#main img, #injected").count() == 0
    assert page.evaluate("window.__xss") is None
    assert not [u for u in watch.requests if u.split("?")[0].endswith("/x")]


def test_pause_resume_complete_and_delete(page: Any, server: Server, api: httpx.Client) -> None:
    exp_id = create_experiment(api, "Lifecycle", ["control", "b"])
    open_experiment(page, server, exp_id)

    def status() -> str:
        return str(api.get(f"/experiments/{exp_id}").json()["status"])

    for button, expected in (("Pause", "paused"), ("Resume", "running"), ("Complete", "completed")):
        page.get_by_role("button", name=button, exact=True).click()
        if button == "Complete":  # completing asks first
            page.get_by_role("button", name="Complete the test").click()
        page.wait_for_selector(f"#exp-badges .badge-{expected}")
        assert status() == expected

    # Delete asks first; cancelling keeps the experiment
    page.click("#delete-button")
    page.get_by_role("button", name="Cancel").click()
    assert api.get(f"/experiments/{exp_id}").status_code == 200
    page.click("#delete-button")
    page.get_by_role("button", name="Delete for good").click()
    page.wait_for_url(re.compile(r"#/$"))
    assert api.get(f"/experiments/{exp_id}").status_code == 404


HIDE_JS = """(hidden) => {
  Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(document, 'visibilityState', {
    configurable: true, get: () => (hidden ? 'hidden' : 'visible'),
  });
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_refresh_runs_on_an_interval_and_pauses_while_hidden(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    exp_id = create_experiment(api, "Refresh", ["control", "b"])
    page.add_init_script("localStorage.setItem('banditkit.refreshSeconds', '1')")
    open_experiment(page, server, exp_id)

    def is_allocation(request: Any) -> bool:
        return "/allocation?" in request.url

    def loads() -> int:
        return sum("/allocation?" in u for u in watch.requests)

    # Visible: the view reloads by itself, and shows data that arrived meanwhile
    post_day(api, exp_id, "2026-11-01", {"control": (700, 20, 2), "b": (700, 40, 4)})
    with page.expect_request(is_allocation, timeout=5000):
        pass
    page.wait_for_selector('#variant-table tr[data-variant="b"] td:has-text("700")')

    # Hidden: no reloads
    page.evaluate(HIDE_JS, True)
    page.wait_for_timeout(300)  # let a reload already in flight finish
    hidden_at = loads()
    page.wait_for_timeout(2500)
    assert loads() == hidden_at

    # Visible again: it reloads at once
    with page.expect_request(is_allocation, timeout=1000):
        page.evaluate(HIDE_JS, False)


def test_list_filters_by_search_and_status(page: Any, server: Server, api: httpx.Client) -> None:
    a = create_experiment(api, "Pricing page zebra", ["control", "b"])
    create_experiment(api, "Checkout button zebra", ["control", "b"])
    assert api.patch(f"/experiments/{a}", json={"status": "paused"}).status_code == 200
    page.goto(f"{server.url}/dashboard/#/")
    page.wait_for_selector("#experiments-table")
    page.fill("#exp-search", "zebra")  # searched on the server once typing pauses
    rows = page.locator("#experiments-table tbody tr")
    page.wait_for_function(
        "() => document.querySelectorAll('#experiments-table tbody tr').length === 2"
    )
    page.select_option("#exp-status", "paused")
    page.wait_for_function(
        "() => document.querySelectorAll('#experiments-table tbody tr').length === 1"
    )
    assert "Pricing page zebra" in rows.first.inner_text()
    page.fill("#exp-search", "no such thing")
    page.wait_for_selector(".state-empty")


def test_reset_needs_a_typed_confirmation(page: Any, server: Server, api: httpx.Client) -> None:
    """Kept last in this module: it deletes everything on the shared server."""
    create_experiment(api, "Doomed", ["control", "b"])
    page.goto(f"{server.url}/dashboard/")
    admin = page.locator("#nav-admin")
    admin.wait_for()  # shown because /health says reset_enabled
    admin.click()
    page.fill("#reset-key", ADMIN_KEY)
    page.click("#reset-button")
    confirm = page.get_by_role("button", name="Delete everything")
    assert confirm.is_disabled()
    page.get_by_label('Type "delete all data" to confirm').fill("delete all")
    assert confirm.is_disabled()
    page.get_by_label('Type "delete all data" to confirm').fill("delete all data")
    confirm.click()
    page.wait_for_selector("#reset-status .state-ok")
    assert api.get("/experiments").json()["items"] == []


@pytest.fixture(scope="module")
def keyed_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    srv = start_server(tmp_path_factory.mktemp("e2e-keys"), {"BANDIT_API_KEYS": "good-key"})
    yield srv
    stop_server(srv)


def test_api_key_prompt_on_401_and_403(browser: Any, keyed_server: Server) -> None:
    watch = Watch(origin=keyed_server.url)
    watch.expect_status(401)  # before a key is given
    watch.expect_status(403)  # the wrong key
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.on("console", watch.on_console)
    page.on("pageerror", lambda exc: watch.console_errors.append(str(exc)))
    try:
        page.goto(f"{keyed_server.url}/dashboard/")
        dialog = page.get_by_role("dialog", name="API key")
        dialog.wait_for()
        # A wrong key is refused and the prompt comes back saying so
        page.get_by_role("textbox", name="API key").fill("wrong-key")
        page.get_by_role("button", name="Save key").click()
        page.wait_for_selector("dialog .state-error")
        assert "not accept this API key (403)" in page.inner_text("dialog .state-error")
        page.get_by_role("textbox", name="API key").fill("good-key")
        page.get_by_role("button", name="Save key").click()
        page.wait_for_selector("#experiments-table, .state-empty")
        assert page.evaluate("sessionStorage.getItem('banditkit.apiKey')") == "good-key"
        settle(page)
    finally:
        context.close()
    assert watch.console_errors == []


UNLABELLED_JS = """() => [...document.querySelectorAll('input:not([type=hidden]),select,textarea')]
  .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label'))
  .map((el) => el.id || el.name || el.outerHTML.slice(0, 80))"""


def test_keyboard_only_and_every_input_labelled(
    page: Any, server: Server, api: httpx.Client
) -> None:
    page.goto(f"{server.url}/dashboard/")
    page.wait_for_selector("#experiments-table, .state-empty")
    assert page.evaluate(UNLABELLED_JS) == []
    # Tab from the top: the skip link first, then on to "New experiment"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent") == "New experiment":
            break
    page.keyboard.press("Enter")
    page.wait_for_selector("#create-form")
    assert page.evaluate(UNLABELLED_JS) == []
    page.keyboard.press("Tab")  # focus starts on the heading; the name comes next
    page.keyboard.type("Typed without a mouse")
    page.keyboard.press("Enter")  # implicit submission
    page.wait_for_url(re.compile(r"#/experiments/[^/]+$"))
    page.wait_for_selector("#settings-form")
    exp_id = page.url.rsplit("/", 1)[1]
    assert api.get(f"/experiments/{exp_id}").json()["name"] == "Typed without a mouse"
    assert page.evaluate(UNLABELLED_JS) == []
    # The delete dialog takes focus and Escape closes it
    page.focus("#delete-button")
    page.keyboard.press("Enter")
    page.get_by_role("dialog").wait_for()
    page.keyboard.press("Escape")
    page.get_by_role("dialog").wait_for(state="detached")
    assert api.get(f"/experiments/{exp_id}").status_code == 200
    page.goto(f"{server.url}/dashboard/#/simulate")
    page.wait_for_selector("#sim-form")
    assert page.evaluate(UNLABELLED_JS) == []


def test_server_errors_show_an_error_state_with_retry(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    create_experiment(api, "Survives a hiccup", ["control", "b"])
    watch.expect_status(503)
    problem = {"type": "about:blank", "title": "store unavailable", "status": 503, "detail": "x"}

    def unavailable(route: Any) -> None:
        route.fulfill(
            status=503, json=problem, headers={"content-type": "application/problem+json"}
        )

    page.route(re.compile(r"/experiments\?"), unavailable)
    page.goto(f"{server.url}/dashboard/")
    error = page.locator("#main .state-error")
    error.wait_for()
    assert "store unavailable" in error.inner_text()
    page.unroute(re.compile(r"/experiments\?"))
    page.get_by_role("button", name="Try again").click()
    page.wait_for_selector("#experiments-table")
    assert "Survives a hiccup" in page.inner_text("#experiments-table")


def test_variants_from_data_and_added_later(page: Any, server: Server, api: httpx.Client) -> None:
    # Undeclared: the day form takes any names, and the variants appear with their data
    free = create_experiment(api, "Open variants", None)
    open_experiment(page, server, free, ready="#allocation .state-empty")
    assert "appear with their first data" in page.inner_text("#allocation")
    assert page.locator("#add-variant-form").is_hidden()
    page.fill("#entry-date", "2026-11-03")
    page.click("#entry-add")
    rows = page.locator("#entry-rows tr")
    for i, (name, imp) in enumerate((("alpha", 500), ("beta", 400))):
        rows.nth(i).locator(".entry-name").fill(name)
        rows.nth(i).locator(".entry-impressions").fill(str(imp))
        rows.nth(i).locator(".entry-clicks").fill("10")
    page.click("#entry-submit")
    page.wait_for_selector('#shares li[data-variant="beta"]')
    assert [v["name"] for v in api.get(f"/experiments/{free}").json()["variants"]] == [
        "alpha",
        "beta",
    ]

    # Declared: a new variant is added through its form, then takes data
    fixed = create_experiment(api, "Declared variants", ["control", "b"])
    open_experiment(page, server, fixed)
    page.fill("#add-variant-name", "c")
    page.click("#add-variant-submit")
    page.wait_for_selector('#entry-rows tr[data-variant="c"]')
    assert [v["name"] for v in api.get(f"/experiments/{fixed}").json()["variants"]] == [
        "control",
        "b",
        "c",
    ]


def test_settings_form_ranges_match_the_api(page: Any, server: Server) -> None:
    """The form's bounds, defaults and options are the API's, so the two cannot drift apart."""
    page.goto(f"{server.url}/dashboard/#/new")
    page.wait_for_selector("#create-form")
    defs = page.evaluate(
        "() => import('./js/settings.js').then((m) => JSON.parse(JSON.stringify(m.SETTINGS)))"
    )
    schema = models.SettingsPatch.model_json_schema()["properties"]
    assert {d["key"] for d in defs} == set(schema)
    defaults = Settings()
    for d in defs:
        spec = schema[d["key"]]["anyOf"][0]
        assert d["default"] == getattr(defaults, d["key"]), d["key"]
        if d["kind"] == "select":
            assert [value for value, _ in d["options"]] == spec["enum"]
            continue
        assert (d["kind"] == "int") == (spec["type"] == "integer"), d["key"]
        if "exclusiveMinimum" in spec:
            assert (d["min"], d.get("minExclusive")) == (spec["exclusiveMinimum"], True), d["key"]
        else:
            assert (d["min"], d.get("minExclusive", False)) == (spec["minimum"], False), d["key"]
        if "exclusiveMaximum" in spec:
            assert (d["max"], d.get("maxExclusive")) == (spec["exclusiveMaximum"], True), d["key"]
        else:
            assert (d["max"], d.get("maxExclusive", False)) == (spec["maximum"], False), d["key"]
