"""Data entry and CSV import in Chromium: errors in people's words (the API's, shown as they
are, and the page's own checks in the same words), and a warning before an "Add" import
adds to days that already have data."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from banditkit.http.limits import CSV_LIMIT

from .conftest import Server, Watch
from .test_dashboard import create_experiment, csv_file, open_experiment, post_day

pytestmark = pytest.mark.e2e

HEADER = "date,variant_name,impressions,clicks,conversions\n"
VARIANTS = [{"name": "control", "is_control": True}, {"name": "b"}]


def stored(api: httpx.Client, exp_id: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    days = api.get(f"/experiments/{exp_id}/metrics").json()["days"]
    return {
        (d["date"], v["variant_name"]): (v["impressions"], v["clicks"], v["conversions"])
        for d in days
        for v in d["variants"]
    }


def experiment_ids(api: httpx.Client) -> set[str]:
    ids: set[str] = set()
    cursor = None
    while True:
        query = {"limit": 200, **({"cursor": cursor} if cursor else {})}
        page = api.get("/experiments", params=query).json()
        ids |= {e["id"] for e in page["items"]}
        cursor = page.get("next_cursor")
        if not cursor:
            return ids


def import_file(page: Any, text: str, mode: str, name: str = "data.csv") -> None:
    page.select_option("#import-mode", mode)
    page.set_input_files("#import-file", files=[csv_file(name, text)])
    page.click("#import-submit")


def test_day_form_says_what_a_count_must_be(page: Any, server: Server, api: httpx.Client) -> None:
    exp_id = create_experiment(api, "Day form words", VARIANTS)
    open_experiment(page, server, exp_id, ready='#entry-rows tr[data-variant="control"]')
    control = page.locator('#entry-rows tr[data-variant="control"]')
    b = page.locator('#entry-rows tr[data-variant="b"]')
    status = page.locator("#entry-status .state-error")

    # Given more clicks than impressions for control and a negative count for b
    control.locator(".entry-impressions").fill("10")
    control.locator(".entry-clicks").fill("11")
    b.locator(".entry-impressions").fill("-5")
    page.click("#entry-submit")
    status.wait_for()
    items = status.locator("li").all_inner_texts()
    assert items == [
        "Clicks (11) can't exceed impressions (10) for control.",
        "Impressions for b must be 0 or more.",
    ]

    # And conversions above impressions read the same way
    control.locator(".entry-clicks").fill("1")
    control.locator(".entry-conversions").fill("12")
    b.locator(".entry-impressions").fill("")
    page.click("#entry-submit")
    page.wait_for_selector(
        '#entry-status li:has-text("Conversions (12) can\'t exceed impressions (10) for control.")'
    )
    assert stored(api, exp_id) == {}


def test_csv_rows_say_what_is_wrong_in_the_apis_words(
    page: Any, server: Server, api: httpx.Client, watch: Watch, shoot: Any
) -> None:
    exp_id = create_experiment(api, "CSV words", VARIANTS)
    open_experiment(page, server, exp_id, ready="#import-form")
    watch.expect_status(422)
    bad = HEADER + (
        "2026-11-01,control,-5,1,0\n"
        "2026-11-01,b,10,11,0\n"
        "2026-11-02,b,1.5,1,0\n"
        "2026-02-30,control,10,1,0\n"
        "2026-11-03,zz,10,1,0\n"
    )
    import_file(page, bad, "set")
    errors = page.locator("#import-errors")
    errors.wait_for()
    assert errors.locator("strong").inner_text() == (
        "Nothing was imported: fix these rows and try again."
    )
    assert errors.locator("li").all_inner_texts() == [
        "Line 2: Impressions must be 0 or more.",
        "Line 3: Clicks (11) can't exceed impressions (10) for b.",
        "Line 4: Impressions must be a whole number.",
        "Line 5: Date must be a real date, YYYY-MM-DD.",
        "Line 6: Variant name must be one of the declared variants: b, control (add 'zz' first).",
    ]
    shoot(page, "import-row-errors")
    assert stored(api, exp_id) == {}


def test_a_file_past_the_cap_is_refused_before_it_is_sent(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    exp_id = create_experiment(api, "Big file", VARIANTS)
    open_experiment(page, server, exp_id, ready="#import-form")
    big = HEADER + "2026-11-01,control,10,1,0\n" * (5 * 1024 * 1024 // 26 + 10)
    assert len(big) > 5 * 1024 * 1024
    # The page's cap is the server's
    cap = page.evaluate("() => import('./js/problems.js').then((m) => m.CSV_MAX_BYTES)")
    assert cap == CSV_LIMIT
    import_file(page, big, "set", name="big.csv")
    errors = page.locator("#import-errors")
    errors.wait_for()
    assert errors.locator("strong").inner_text() == "The file is larger than 5 MB."
    assert not [u for u in watch.requests if "/import" in u]
    assert stored(api, exp_id) == {}


def test_the_apis_413_reads_the_same(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    # Given the server refuses a file as too large (a cap lower than the page's, say)
    exp_id = create_experiment(api, "Server cap", VARIANTS)
    open_experiment(page, server, exp_id, ready="#import-form")
    too_large = api.post(
        f"/experiments/{exp_id}/import",
        content=HEADER + "x" * (5 * 1024 * 1024),
        headers={"content-type": "text/csv"},
    )
    assert too_large.status_code == 413
    page.route(
        "**/import*",
        lambda r: r.fulfill(
            status=413,
            content_type="application/problem+json",
            body=too_large.content,
        ),
    )
    watch.expect_status(413)
    import_file(page, HEADER + "2026-11-01,control,10,1,0\n", "set")
    errors = page.locator("#import-errors")
    errors.wait_for()
    assert errors.locator("li").all_inner_texts() == ["The file is larger than 5 MB."]


def test_adding_to_days_with_data_warns_and_cancel_stores_nothing(
    page: Any, server: Server, api: httpx.Client, shoot: Any
) -> None:
    # Given a day already stored for both variants
    exp_id = create_experiment(api, "Double import", VARIANTS)
    post_day(api, exp_id, "2026-11-01", {"control": (1000, 40, 4), "b": (1000, 60, 6)})
    post_day(api, exp_id, "2026-11-02", {"control": (500, 20, 2)})
    before = stored(api, exp_id)
    open_experiment(page, server, exp_id, ready="#import-form")
    again = HEADER + (
        "2026-11-01,control,1000,40,4\n"
        "2026-11-01,b,1000,60,6\n"
        "2026-11-02,b,800,30,3\n"
        "2026-11-03,control,900,30,3\n"
    )

    # When the same day is added again, the page names the days and variants first
    import_file(page, again, "increment")
    dialog = page.get_by_role("dialog", name="These days already have data")
    dialog.wait_for()
    assert page.locator("#import-overlap li").all_inner_texts() == ["2026-11-01: control, b"]
    assert page.evaluate("document.activeElement.dataset.choice") == "cancel"
    shoot(page, "import-double-warning")

    # And cancelling imports nothing
    dialog.get_by_role("button", name="Cancel").click()
    page.wait_for_selector("#import-cancelled")
    assert page.inner_text("#import-cancelled") == "Nothing was imported."
    assert stored(api, exp_id) == before

    # When "Replace those days instead" is chosen, the file's rows replace theirs
    import_file(page, again, "increment")
    dialog.get_by_role("button", name="Replace those days instead").click()
    page.wait_for_selector("#import-status .state-ok")
    assert "replacing those days" in page.inner_text("#import-status")
    after = stored(api, exp_id)
    assert after[("2026-11-01", "control")] == (1000, 40, 4)
    assert after[("2026-11-02", "control")] == (500, 20, 2)
    assert after[("2026-11-02", "b")] == (800, 30, 3)
    assert page.input_value("#import-mode") == "set"

    # When "Add anyway" is chosen, the counts add up
    import_file(page, HEADER + "2026-11-03,control,100,3,0\n", "increment")
    dialog.get_by_role("button", name="Add anyway").click()
    page.wait_for_selector("#import-status .state-ok")
    assert stored(api, exp_id)[("2026-11-03", "control")] == (1000, 33, 3)


def test_adding_new_days_needs_no_warning(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    exp_id = create_experiment(api, "New days", VARIANTS)
    post_day(api, exp_id, "2026-11-01", {"control": (1000, 40, 4)})
    open_experiment(page, server, exp_id, ready="#import-form")
    # b has no data on 2026-11-01, and 2026-11-02 has none at all
    import_file(page, HEADER + "2026-11-01,b,10,1,0\n2026-11-02,control,10,1,0\n", "increment")
    page.wait_for_selector("#import-status .state-ok")
    assert page.locator("dialog").count() == 0
    assert stored(api, exp_id)[("2026-11-01", "b")] == (10, 1, 0)

    # A day that does not exist is the import's to refuse, row by row
    watch.expect_status(422)
    import_file(page, HEADER + "2026-11-03,b,10,1,0\n2026-02-30,b,10,1,0\n", "increment")
    page.wait_for_selector("#import-errors")
    assert page.locator("#import-errors li").all_inner_texts() == [
        "Line 3: Date must be a real date, YYYY-MM-DD."
    ]


def test_a_retry_of_an_unanswered_add_is_not_warned_and_counts_once(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    # Given an "Add" import the server stored but whose answer was lost (a 503 on the way)
    exp_id = create_experiment(api, "Lost answer", VARIANTS)
    open_experiment(page, server, exp_id, ready="#import-form")
    keys: list[str | None] = []

    def lose_first_answer(route: Any) -> None:
        keys.append(route.request.headers.get("idempotency-key"))
        if len(keys) == 1:
            route.fetch()  # the server stores the file ...
            route.fulfill(status=503, content_type="application/problem+json", body="{}")
        else:
            route.continue_()

    page.route("**/import?*", lose_first_answer)
    watch.expect_status(503)
    text = HEADER + "2026-11-01,control,100,5,1\n"
    import_file(page, text, "increment")
    page.wait_for_selector("#import-errors")
    assert stored(api, exp_id) == {("2026-11-01", "control"): (100, 5, 1)}

    # When the same file is sent again, the page does not warn: its key makes it count once
    page.click("#import-submit")
    page.wait_for_selector("#import-status .state-ok")
    assert page.locator("dialog").count() == 0
    assert keys[0] is not None
    assert keys == [keys[0], keys[0]]
    assert stored(api, exp_id) == {("2026-11-01", "control"): (100, 5, 1)}


def test_create_names_the_variant_the_api_refused(
    page: Any, server: Server, api: httpx.Client, watch: Watch
) -> None:
    watch.expect_status(422)
    before = experiment_ids(api)
    page.goto(f"{server.url}/dashboard/#/new")
    page.wait_for_selector("#create-form")
    page.fill("#new-name", "Refused names")
    page.fill("#new-variant-2", "c\u043entrol")  # a Cyrillic o
    page.get_by_role("button", name="Add variant").click()
    page.fill("#new-variant-3", "'=b")
    page.click("#new-submit")
    status = page.locator("#create-form .state-error")
    status.wait_for()
    assert status.locator("strong").inner_text() == "Nothing was saved: please fix this first"
    assert status.locator("li").all_inner_texts() == [
        'Variant "c\u043entrol" mixes scripts (Cyrillic, Latin); use one script.',
        "Variant \"'=b\" must not start with ' before = + - @ (a spreadsheet's escape).",
    ]
    assert experiment_ids(api) == before
