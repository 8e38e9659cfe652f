"""Cold start of the built Lambda handlers, against a one-route FastAPI + Mangum app.

For each handler of the SAM build: the time to import it in a fresh `python3.13 -I -S -B`
whose sys.path holds only the function folder, the layer and a stand-in for the runtime's
boto3 (as Lambda's init does, bytecode never written), best of 5. The baseline is a
one-route FastAPI app wrapped in Mangum, imported the same way from the same layer in the
same run. Then the unzipped sizes of the layers and functions as they ship (arm64).

    .venv/bin/python bench/cold_start.py   # builds .aws-sam/build-{x86_64,arm64} if missing

Targets (docs/operations.md, "Cold start"): each handler's import <= 1.3x the one-route app's;
a function with its layers <= 250 MB unzipped, Lambda's limit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from banditkit import service
from banditkit.models import EventsIn, ExperimentCreate
from banditkit.store import open_store
from lambda_local import api_event, python313, runtime_stand_in

ROOT = Path(__file__).resolve().parent.parent

FUNCTIONS = ["experiments", "events", "allocation", "history", "admin", "recompute"]
BASELINE_APP = """\
from fastapi import FastAPI
from mangum import Mangum

app = FastAPI()


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


handler = Mangum(app, lifespan="off")
"""
TIMER = """\
import json, sys, time
sys.path[:0] = sys.argv[1:]
wall, cpu = time.perf_counter(), time.process_time()
import app
import_cpu, import_wall = time.process_time() - cpu, time.perf_counter() - wall


class Context:
    function_name = "banditkit-bench"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:banditkit-bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def get_remaining_time_in_millis(self):
        return 60_000


event = json.loads(sys.stdin.read())
wall, cpu = time.perf_counter(), time.process_time()
answer = app.handler(event, Context())
first_cpu, first_wall = time.process_time() - cpu, time.perf_counter() - wall
status = answer.get("statusCode", 200)
print(json.dumps([import_cpu, import_wall, first_cpu, first_wall, status, "numpy" in sys.modules]))
"""
# The variables template.yaml sets (Powertools reads some at import).
LAMBDA_ENV = {
    "POWERTOOLS_SERVICE_NAME": "banditkit",
    "POWERTOOLS_METRICS_NAMESPACE": "banditkit",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "OPENBLAS_NUM_THREADS": "1",
    "AWS_REGION": "eu-west-1",
}
LAMBDA_UNZIPPED_LIMIT = 250_000_000  # a function's code and all its layers, bytecode included
EXPERIMENT = "bench"
VARIANTS = ("A", "B", "C")  # A is the control
RATIO_TARGET = 1.3


def ensure_build(arch: str) -> Path:
    build = ROOT / ".aws-sam" / f"build-{arch}"
    if not (build / "template.yaml").is_file():
        subprocess.run(
            ["make", "-s", "sam-build", f"ARCH={arch}", f"SAM_BUILD_DIR={build}"],
            cwd=ROOT,
            check=True,
        )
    return build


@dataclass(frozen=True)
class Run:
    """One fresh interpreter: seconds to import `app`, then to answer one request."""

    import_cpu: float
    import_wall: float
    first_cpu: float
    first_wall: float
    status: int
    numpy: bool


@dataclass(frozen=True)
class App:
    paths: list[Path]
    event: dict[str, Any]
    env: dict[str, str]
    # (seed, store): the store file is made a fresh copy of the seed before each run.
    fresh: tuple[Path, Path] | None = None


def cold_run(python: Path, app: App) -> Run:
    """Import `app` from `app.paths` in a fresh interpreter and hand it one event. CPU time is
    the figure compared: on a shared machine wall time also counts waiting for a core."""
    if app.fresh is not None:
        shutil.copyfile(*app.fresh)
    out = subprocess.run(
        [str(python), "-I", "-S", "-B", "-c", TIMER, *map(str, app.paths)],
        input=json.dumps(app.event),
        env={"PATH": os.defpath, **LAMBDA_ENV, **app.env},
        capture_output=True,
        text=True,
        check=True,
    )
    # The last line is the timer's; the handler's logs and metrics come before it.
    import_cpu, import_wall, first_cpu, first_wall, status, numpy = json.loads(
        out.stdout.strip().splitlines()[-1]
    )
    if not 200 <= status < 300:
        raise SystemExit(f"{app.paths[0].name}: the request answered {status}:\n{out.stdout}")
    return Run(import_cpu, import_wall, first_cpu, first_wall, status, numpy)


def best_runs(python: Path, apps: dict[str, App], repeat: int) -> dict[str, Run]:
    """Best of `repeat` for each app and figure, in interleaved rounds (every app once per
    round), so that a load change on a shared machine hits the baseline and the handlers
    alike."""
    best: dict[str, Run] = {}
    for _ in range(repeat):
        for name, app in apps.items():
            run = cold_run(python, app)
            old = best.get(name, run)
            best[name] = Run(
                min(old.import_cpu, run.import_cpu),
                min(old.import_wall, run.import_wall),
                min(old.first_cpu, run.first_cpu),
                min(old.first_wall, run.first_wall),
                run.status,
                run.numpy,
            )
    return best


def seeded_store(folder: Path) -> Path:
    """A SQLite store holding one running experiment with 14 days of counts."""
    path = folder / "bench.db"
    store = open_store(f"sqlite:///{path}")
    try:
        service.create_experiment(
            store,
            ExperimentCreate.model_validate(
                {
                    "id": EXPERIMENT,
                    "name": "Bench",
                    "variants": [{"name": n, "is_control": n == "A"} for n in VARIANTS],
                }
            ),
        )
        start = dt.date(2026, 11, 1)
        for day in range(14):
            body = {
                "experiment_id": EXPERIMENT,
                "date": (start + dt.timedelta(days=day)).isoformat(),
                "variants": [
                    {"variant_name": name, "impressions": 2000, "clicks": 60 + 15 * i}
                    for i, name in enumerate(VARIANTS)
                ],
            }
            service.ingest_events(store, EventsIn.model_validate(body))
    finally:
        store.close()
    return path


def first_requests(seed: Path, folder: Path) -> dict[str, tuple[str, App]]:
    """For each function: the request its first invocation answers (label, App without
    paths). The recompute job gets a fresh copy of the seeded store each time, so that it
    finds changed data and computes (unchanged data is skipped without the engine)."""
    store = {"BANDIT_STORE_URL": f"sqlite:///{seed}"}
    recompute_db, pristine = folder / "recompute.db", folder / "pristine.db"
    shutil.copyfile(seed, pristine)  # the other functions write snapshots into `seed`
    today = {
        "experiment_id": EXPERIMENT,
        "date": "2026-11-15",
        "variants": [{"variant_name": n, "impressions": 1000, "clicks": 40} for n in VARIANTS],
    }
    admin = {"BANDIT_STORE_URL": f"sqlite:///{folder / 'admin.db'}", "BANDIT_ENABLE_RESET": "true"}
    admin |= {"BANDIT_ADMIN_KEY": "a" * 32}
    specs: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
        "experiments": ("GET /experiments", api_event("GET", "/experiments"), store),
        "events": ("POST /events", api_event("POST", "/events", body=today), store),
        "allocation": (
            "GET /allocation",
            api_event("GET", "/allocation", query={"experiment_id": EXPERIMENT}),
            store,
        ),
        "history": (
            "GET .../history",
            api_event(
                "GET",
                f"/experiments/{EXPERIMENT}/history",
                resource="/experiments/{experiment_id}/history",
            ),
            store,
        ),
        "admin": (
            "POST /reset_data",
            api_event("POST", "/reset_data", headers={"x-admin-key": "a" * 32}),
            admin,
        ),
    }
    apps = {name: (label, App([], event, env)) for name, (label, event, env) in specs.items()}
    recompute_env = {"BANDIT_STORE_URL": f"sqlite:///{recompute_db}"}
    apps["recompute"] = ("schedule", App([], {}, recompute_env, (pristine, recompute_db)))
    return apps


def size(folder: Path, *, bytecode: bool = True) -> int:
    return sum(
        p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and (bytecode or "__pycache__" not in p.parts)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="rounds (best of)")
    args = parser.parse_args()

    python = python313()
    x86, arm = ensure_build("x86_64"), ensure_build("arm64")
    with tempfile.TemporaryDirectory() as tmp:
        runtime = runtime_stand_in(Path(tmp) / "var-runtime")
        baseline_dir = Path(tmp) / "baseline"
        baseline_dir.mkdir()
        (baseline_dir / "app.py").write_text(BASELINE_APP)
        layer = x86 / "BanditkitLayer" / "python"
        seed = seeded_store(Path(tmp))
        apps = {"baseline": App([baseline_dir, layer, runtime], api_event("GET", "/health"), {})}
        labels = {"baseline": "GET /health"}
        for name, (label, app) in first_requests(seed, Path(tmp)).items():
            folder = x86 / f"{name.capitalize()}Function"
            apps[name] = App([folder, layer, runtime], app.event, app.env, app.fresh)
            labels[name] = label
        best = best_runs(python, apps, args.repeat)
    base = best.pop("baseline")
    base_total = base.import_cpu + base.first_cpu

    print(f"Cold start, python3.13 -I -S -B, x86_64 build, best of {args.repeat} rounds (CPU ms)")
    print(
        f"{'handler':<22}{'import':>7}{'x one-route':>12}  {'first request':<18}"
        f"{'1st req':>8}{'numpy':>6}{'import+1st x':>13}  target: import <= 1.3x"
    )
    print(
        f"{'one-route FastAPI app':<22}{base.import_cpu * 1000:>7.0f}{1.0:>11.2f}x  "
        f"{labels['baseline']:<18}{base.first_cpu * 1000:>8.0f}{'no':>6}{1.0:>12.2f}x"
    )
    for name, run in best.items():
        ratio = run.import_cpu / base.import_cpu
        total = (run.import_cpu + run.first_cpu) / base_total
        mark = "ok" if ratio <= RATIO_TARGET else "OVER"
        print(
            f"{name:<22}{run.import_cpu * 1000:>7.0f}{ratio:>11.2f}x  {labels[name]:<18}"
            f"{run.first_cpu * 1000:>8.0f}{'yes' if run.numpy else 'no':>6}{total:>12.2f}x  {mark}"
        )
    print("numpy: loaded by the end of the first request (never at import).")

    print()
    print("Unzipped size as shipped (arm64 build; MB = 10^6 bytes)")
    print(f"{'artifact':<22}{'code MB':>10}{'+bytecode MB':>14}")
    shipped: dict[str, int] = {}
    for folder in sorted(arm.glob("*Layer")) + sorted(arm.glob("*Function")):
        code, shipped[folder.name] = size(folder, bytecode=False), size(folder)
        print(f"{folder.name:<22}{code / 1e6:>10.2f}{shipped[folder.name] / 1e6:>14.2f}")
    layers = sum(n for name, n in shipped.items() if name.endswith("Layer"))
    largest = layers + max(n for name, n in shipped.items() if name.endswith("Function"))
    mark = "ok" if largest <= LAMBDA_UNZIPPED_LIMIT else "OVER"
    print(
        f"{'largest function + both layers':<32}{largest / 1e6:>14.2f}  "
        f"target: <= {LAMBDA_UNZIPPED_LIMIT / 1e6:.0f} MB (Lambda's limit)  {mark}"
    )


if __name__ == "__main__":
    main()
