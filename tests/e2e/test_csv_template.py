"""The CSV template the dashboard downloads, in Chromium: a variant name a spreadsheet would
run as a formula is written as text (OWASP: a leading ' and quotes), and the file imports
back to the same variants."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Server
from .test_dashboard import create_experiment, csv_file, open_experiment

NAMES = ['=HYPERLINK("http://x.test","y")', "+1", "-10% price", "@home", "plain, with comma"]


pytestmark = pytest.mark.e2e


def test_the_template_neutralises_formula_names_and_imports_back(
    page: Any, server: Server, api: httpx.Client
) -> None:
    exp_id = create_experiment(api, "Formulas", NAMES)
    open_experiment(page, server, exp_id)
    # When the template is downloaded
    with page.expect_download() as info:
        page.click("#import-template")
    text = Path(info.value.path()).read_text(encoding="utf-8")
    # Then no cell starts a formula, and the formula-like names are quoted text
    lines = text.strip().splitlines()
    assert lines[1].split(",")[1].startswith("\"'=HYPERLINK(")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["date", "variant_name", "impressions", "clicks", "conversions"]
    assert [r[1] for r in rows[1:]] == ["'" + n for n in NAMES[:4]] + [NAMES[4]]
    assert not any(cell[:1] in "=+-@\t\r" for r in rows for cell in r)
    # And the file, uploaded as it is, imports to the experiment's own variants
    page.set_input_files("#import-file", files=[csv_file("template.csv", text)])
    page.click("#import-submit")
    page.wait_for_selector("#import-status .state-ok")
    days = api.get(f"/experiments/{exp_id}/metrics").json()["days"]
    assert sorted(v["variant_name"] for v in days[0]["variants"]) == sorted(NAMES)
