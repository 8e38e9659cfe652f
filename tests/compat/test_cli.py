"""The `banditkit` command end to end: the installed console script against the local
server, tables for people and --json for scripts, exit statuses, and `serve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from api import free_port  # bench/api.py
from banditkit import Client

from .conftest import API_KEY

BANDITKIT = Path(sys.executable).with_name("banditkit")


def run(base_url: str, *args: str, key: str | None = API_KEY) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDIT_")}
    env["BANDIT_URL"] = base_url
    if key is not None:
        env["BANDIT_API_KEY"] = key
    return subprocess.run(
        [str(BANDITKIT), *args], env=env, capture_output=True, text=True, timeout=60
    )


def seeded(base_url: str, exp_id: int) -> None:
    api = Client(base_url, API_KEY)
    api.create_experiment(f"cli {exp_id}", id=exp_id, variants=["control", "variant_b"])
    for day in range(1, 4):
        api.post_day(exp_id, f"2025-01-0{day}", {"control": (4000, 120), "variant_b": (4000, 170)})


def test_the_script_is_installed() -> None:
    assert BANDITKIT.is_file()
    out = subprocess.run([str(BANDITKIT), "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    for command in ("experiments", "push", "allocation", "report", "migrate", "serve"):
        assert command in out.stdout


def test_experiments_list_as_a_table_and_as_json(base_url: str, int_id: int) -> None:
    seeded(base_url, int_id)
    table = run(base_url, "experiments", "list")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "status", "variants", "created_at"]
    assert set(lines[1]) == {"-", " "}
    (row,) = [line for line in lines if line.startswith(f"{int_id} ")]
    assert f"cli {int_id}" in row
    assert "running" in row
    assert "control, variant_b" in row
    as_json = run(base_url, "experiments", "list", "--json")
    listed = {e["id"]: e for e in json.loads(as_json.stdout)}
    assert listed[str(int_id)]["variants"] == [
        {"name": "control", "is_control": False},
        {"name": "variant_b", "is_control": False},
    ]


def test_allocation_and_report(base_url: str, int_id: int) -> None:
    seeded(base_url, int_id)
    table = run(base_url, "allocation", str(int_id))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] in (f"{int_id}: optimizing", f"{int_id}: winner_found")
    assert lines[1].split() == [
        "variant",
        "share",
        "p_best",
        "impressions",
        "clicks",
        "conversions",
        "rate",
    ]
    data = json.loads(run(base_url, "allocation", str(int_id), "--json").stdout)
    shares = {line.split()[0]: float(line.split()[1]) for line in lines[3:]}
    assert shares == {k: round(v, 4) for k, v in data["allocations"].items()}
    assert data["summary"]["total_impressions"] == 24000
    windowed = json.loads(
        run(base_url, "allocation", str(int_id), "--window-days", "1", "--json").stdout
    )
    assert windowed["summary"]["total_impressions"] == 8000
    report = run(base_url, "report", str(int_id))
    assert report.returncode == 0, report.stderr
    assert "lift" in report.stdout
    assert "variant_b" in report.stdout
    rep = json.loads(run(base_url, "report", str(int_id), "--json").stdout)
    assert report.stdout.rstrip().endswith(rep["recommendation"])


def test_push_a_file_of_several_experiments(base_url: str, int_id: int, tmp_csv: Path) -> None:
    api = Client(base_url, API_KEY)
    a, b = int_id, int_id + 100_000
    api.create_experiment("a", id=a)
    api.create_experiment("b", id=b)
    tmp_csv.write_text(
        "experiment_id,date,variant_name,impressions,clicks,conversions\n"
        f"{a},2025-01-01,control,100,3,1\n{a},2025-01-02,control,100,4,1\n"
        f"{b},2025-01-01,control,50,2,0\n"
    )
    out = run(base_url, "push", str(tmp_csv))
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()[2:]]
    assert rows == [[str(a), "2", "2", "200", "7"], [str(b), "1", "1", "50", "2"]]
    one = json.loads(run(base_url, "push", str(tmp_csv), "--json", "--mode", "increment").stdout)
    assert one["rows_imported"] == 3
    assert api.metrics(b).days[0].variants[0].impressions == 100


def test_push_into_one_experiment(base_url: str, int_id: int, tmp_csv: Path) -> None:
    Client(base_url, API_KEY).create_experiment("one", id=int_id)
    tmp_csv.write_text("date,variant_name,impressions,clicks\n2025-01-01,control,100,3\n")
    out = json.loads(
        run(base_url, "push", str(tmp_csv), "--experiment", str(int_id), "--json").stdout
    )
    assert (out["experiment_id"], out["rows_imported"]) == (str(int_id), 1)


def test_a_refusal_prints_the_problem_and_exits_1(
    base_url: str, int_id: int, tmp_csv: Path
) -> None:
    Client(base_url, API_KEY).create_experiment("bad", id=int_id)
    tmp_csv.write_text(
        f"experiment_id,date,variant_name,impressions,clicks\n{int_id},2025-01-01,control,10,11\n"
    )
    out = run(base_url, "push", str(tmp_csv))
    assert out.returncode == 1
    assert "line.2.clicks: clicks (11) can't exceed impressions (10) for control" in out.stderr
    as_json = run(base_url, "push", str(tmp_csv), "--json")
    assert json.loads(as_json.stdout)["errors"] == [
        {
            "field": "line.2.clicks",
            "message": "clicks (11) can't exceed impressions (10) for control",
        }
    ]
    missing = run(base_url, "allocation", "no-such-experiment")
    assert missing.returncode == 1
    assert "404" in missing.stderr
    unkeyed = run(base_url, "experiments", "list", key=None)
    assert unkeyed.returncode == 1
    assert "401" in unkeyed.stderr
    nofile = run(base_url, "push", str(tmp_csv.with_name("absent.csv")))
    assert nofile.returncode == 2


def test_an_unreachable_server_exits_3() -> None:
    port = free_port()
    out = run(f"http://127.0.0.1:{port}", "--json", "experiments", "list")
    assert out.returncode == 3
    assert "cannot reach the server" in out.stderr


def test_serve_runs_the_local_server(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BANDIT_")}
    server = subprocess.Popen(
        [
            str(BANDITKIT),
            "serve",
            "--port",
            str(port),
            "--store",
            f"sqlite:///{tmp_path}/serve.db",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline and health is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
            except httpx.TransportError:
                time.sleep(0.1)
        assert health is not None
        assert health["store"] == "sqlite"
    finally:
        server.terminate()
        server.wait(timeout=15)
