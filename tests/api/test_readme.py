"""The README's API examples, replayed: every curl command, the Python snippet and the shell
commands (against the real local server: the client speaks HTTP), and the section on
switching from the original API, `banditkit migrate` included."""

from __future__ import annotations

import json
import os
import re
import shlex
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from api import serve  # bench/api.py: the local server on a free loopback port

README = Path(__file__).resolve().parents[2] / "README.md"
BANDITKIT = Path(sys.executable).with_name("banditkit")


def section(title: str = "## Using the API") -> str:
    """The README from `title` to the next heading of the same level or above."""
    text = README.read_text()
    start = text.index(title)
    level = title.split(" ")[0]
    # level 2 up ("# ..." lines inside bash blocks are comments, not headings)
    ends = [text.find(f"\n{h} ", start + 1) for h in ("#" * n for n in range(2, len(level) + 1))]
    end = min([e for e in ends if e != -1], default=len(text))
    return text[start:end]


def blocks(lang: str, title: str = "## Using the API") -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", section(title), flags=re.S)


SWITCHING = "### Switching from the original API"


def curl_commands(block: str) -> list[tuple[int, str]]:
    """(expected status, command) for each curl in a bash block; `# expect N` sets N."""
    out: list[tuple[int, str]] = []
    expect = 200
    current: list[str] = []
    for line in block.splitlines():
        if line.startswith("curl "):
            if current:
                out.append((expect, "\n".join(current)))
                expect = 200
            current = [line]
        elif line.startswith("#"):
            if current:
                out.append((expect, "\n".join(current)))
                current = []
                expect = 200
            if m := re.match(r"# expect (\d{3})", line):
                expect = int(m.group(1))
        elif current:
            current.append(line)
    if current:
        out.append((expect, "\n".join(current)))
    return out


def run_curl(client: Any, command: str) -> Any:
    args = shlex.split(command.replace("\\\n", " "))
    assert args[0] == "curl"
    method, headers, data, url = None, {}, None, None
    it = iter(args[1:])
    for arg in it:
        if arg == "-s":
            continue
        if arg == "-X":
            method = next(it)
        elif arg == "-H":
            name, value = next(it).split(":", 1)
            headers[name.strip()] = value.strip()
        elif arg in ("-d", "--data-binary"):
            data = next(it)
        else:
            url = arg
    assert url is not None
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("http", "127.0.0.1:8000")
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return client.request(
        method or ("POST" if data is not None else "GET"),
        path,
        headers=headers,
        content=data.encode() if data is not None else None,
    )


def test_the_readme_has_the_examples() -> None:
    assert len(blocks("bash")) >= 2
    assert len(blocks("python")) == 1
    assert sum(len(curl_commands(b)) for b in blocks("bash")) >= 12


def test_curl_examples_replay(client) -> None:
    first, more = blocks("bash")[:2]
    # the seed-compatible flow first
    answers = [run_curl(client, cmd) for _, cmd in curl_commands(first)]
    assert [r.status_code for r in answers] == [201, 200, 200]
    allocation = answers[-1].json()
    assert set(allocation["allocations"]) == {"control", "variant_b"}
    assert allocation["allocations"]["variant_b"] > allocation["allocations"]["control"]
    for expect, cmd in curl_commands(more):
        r = run_curl(client, cmd)
        assert r.status_code == expect, (cmd, r.text)
        if expect == 422:
            problem = r.json()
            shown = re.search(r"```json\n(.*?)```", section(), flags=re.S)
            assert shown is not None
            assert problem["errors"] == [
                {
                    "field": "variants.0.clicks",
                    "message": "clicks (11) can't exceed impressions (10) for control",
                }
            ]
            assert '"variants.0.clicks"' in shown.group(1)
    assert client.get("/allocation?experiment_id=homepage_cta").json()["status"] == "paused"


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("readme") / "readme.db"
    with serve(f"sqlite:///{db}", {}) as (port, _):
        yield f"http://127.0.0.1:{port}"


def test_python_example_replays(server_url: str) -> None:
    (code,) = blocks("python")
    assert 'Client("http://127.0.0.1:8000")' in code
    code = code.replace("http://127.0.0.1:8000", server_url)
    namespace: dict[str, Any] = {"print": lambda *a: None}
    exec(compile(code, "README.md", "exec"), namespace)
    shares = namespace["allocation"].allocations
    assert shares["annual_first"] > shares["control"]
    assert namespace["report"].recommendation


def shell_lines(block: str) -> list[list[str]]:
    """The commands of a bash block of `banditkit` lines, comments dropped."""
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


def test_shell_examples_replay(server_url: str, tmp_path: Path) -> None:
    (block,) = blocks("bash", "### From a shell")
    from banditkit import Client

    Client(server_url).create_experiment(
        "Homepage CTA", id="homepage_cta", variants=["control", "variant_b"]
    )
    (tmp_path / "daily.csv").write_text(
        "experiment_id,date,variant_name,impressions,clicks\n"
        "homepage_cta,2025-01-15,control,10000,320\nhomepage_cta,2025-01-15,variant_b,10000,410\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDIT_")}
    env["BANDIT_URL"] = server_url
    outputs = {}
    for args in shell_lines(block):
        assert args[0] == "banditkit"
        if args[1] == "serve":
            continue  # binds :8000; tests/compat/test_cli.py runs `banditkit serve`
        out = subprocess.run(
            [str(BANDITKIT), *args[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, (args, out.stderr)
        outputs[" ".join(args[1:3])] = out.stdout
    assert "homepage_cta" in outputs["experiments list"]
    assert json.loads(outputs["report homepage_cta"])["experiment_id"] == "homepage_cta"
    metrics = Client(server_url).metrics("homepage_cta")
    assert [v.impressions for v in metrics.days[0].variants] == [20000, 20000]  # set, then add


def test_switching_examples_replay(client) -> None:
    curl_block, _ = blocks("bash", SWITCHING)
    answers = []
    for expect, cmd in curl_commands(curl_block):
        r = run_curl(client, cmd)
        assert r.status_code == expect, (cmd, r.text)
        answers.append(r)
    created, event, allocation, history, upload, template = answers
    assert created.json()["id"] == "7"
    assert event.json()["variants_processed"] == 1
    data = allocation.json()
    assert data["window_days"] == 7
    assert data["parameters"]["min_explore_rate"] == 0.05
    assert data["summary"]["total_impressions"] == 1000
    assert len(data["history"]) == 1
    assert history.json()["history"][0]["total_impressions"] == 1000
    assert upload.json() == {
        "status": "success",
        "processed_rows": 2,
        "total_rows": 2,
        "errors": [],
        "total_errors": 0,
        "experiment_ids": ["7"],
    }
    assert template.text.startswith("experiment_id,date,variant_name,impressions,clicks")


def original_database(path: Path) -> None:
    """A small database in the original API's schema, one duplicate and one invalid row."""
    conn = sqlite3.connect(path)
    conn.executescript(
        """
        CREATE TABLE experiments (id INTEGER, name TEXT, description TEXT, status TEXT,
          created_at TEXT, updated_at TEXT);
        CREATE TABLE daily_metrics (id INTEGER, experiment_id INTEGER, variant_name TEXT,
          date TEXT, impressions INTEGER, clicks INTEGER, conversions INTEGER, ctr REAL,
          created_at TEXT, updated_at TEXT);
        CREATE TABLE allocations (id INTEGER, experiment_id INTEGER, target_date TEXT,
          algorithm TEXT, allocations TEXT, window_days INTEGER, total_impressions INTEGER,
          total_clicks INTEGER, created_at TEXT);
        INSERT INTO experiments VALUES (1, 'Homepage', '', 'active', '2025-01-01', NULL);
        INSERT INTO daily_metrics VALUES
          (1, 1, 'control', '2025-01-01', 100, 3, 0, 0.03, '2025-01-01', '2025-01-01 10:00'),
          (2, 1, 'control', '2025-01-01', 100, 4, 0, 0.04, '2025-01-01', '2025-01-01 11:00'),
          (3, 1, 'variant_b', '2025-01-01', 10, 11, 0, 1.1, '2025-01-01', '2025-01-01');
        INSERT INTO allocations VALUES (1, 1, '2025-01-02', 'thompson_sampling',
          '{"control": 1.0}', 7, 100, 4, '2025-01-02 06:00');
        """
    )
    conn.close()


def test_migrate_examples_replay(tmp_path: Path) -> None:
    _, block = blocks("bash", SWITCHING)
    original_database(tmp_path / "original.db")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDIT_")}
    outputs = []
    for args in shell_lines(block):
        assert args[:2] == ["banditkit", "migrate"]
        out = subprocess.run(
            [str(BANDITKIT), *args[1:]],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert out.returncode == 0, out.stderr
        outputs.append(out.stdout)
    dry, applied = outputs
    assert "Dry run: nothing was written" in dry
    assert "kept id=2 (last updated)" in applied
    assert "daily_metrics id=3" in applied
    from banditkit.store import open_store

    store = open_store(f"sqlite:///{tmp_path}/.data/banditkit.db")
    assert [(r.variant_name, r.clicks) for r in store.read_daily("1")] == [("control", 4)]
    assert len(store.list_snapshots("1").items) == 1
    store.close()
