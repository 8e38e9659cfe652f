"""Cold start of the built Lambda handlers, against a one-route FastAPI + Mangum app.

For each handler of the SAM build: the time to import it in a fresh `python3.13 -I -S -B`
whose sys.path holds only the function folder, the layer and a stand-in for the runtime's
boto3 (as Lambda's init does, bytecode never written), best of 5. The baseline is a
one-route FastAPI app wrapped in Mangum, imported the same way from the same layer in the
same run. Then the unzipped sizes of the layers and functions as they ship (arm64).

    .venv/bin/python bench/cold_start.py   # builds .aws-sam/build-{x86_64,arm64} if missing

Targets (issue 5): each handler <= 1.3x the one-route app; layer <= 60 MB unzipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS = ["experiments", "events", "allocation", "history", "admin", "recompute"]
RUNTIME_PACKAGES = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"]
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
import sys, time
sys.path[:0] = sys.argv[1:]
wall, cpu = time.perf_counter(), time.process_time()
import app
print(time.process_time() - cpu, time.perf_counter() - wall)
"""
# The variables template.yaml sets (Powertools reads some at import).
LAMBDA_ENV = {
    "POWERTOOLS_SERVICE_NAME": "banditkit",
    "POWERTOOLS_METRICS_NAMESPACE": "banditkit",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_REGION": "eu-west-1",
}
CODE_TARGET_BYTES = 60_000_000
RATIO_TARGET = 1.3


def python313() -> Path:
    if sys.version_info[:2] == (3, 13):
        return Path(sys.base_prefix) / "bin" / "python3.13"
    found = sorted((Path.home() / ".pyenv" / "versions").glob("3.13*/bin/python3.13"))
    if not found:
        raise SystemExit("no CPython 3.13: the Lambda runtime is python3.13")
    return found[-1]


def ensure_build(arch: str) -> Path:
    build = ROOT / ".aws-sam" / f"build-{arch}"
    if not (build / "template.yaml").is_file():
        subprocess.run(
            ["make", "-s", "sam-build", f"ARCH={arch}", f"SAM_BUILD_DIR={build}"],
            cwd=ROOT,
            check=True,
        )
    return build


def runtime_stand_in(folder: Path) -> Path:
    """Links to this interpreter's boto3 and its dependencies, as /var/runtime has them."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise SystemExit(f"{name} is not installed: run with the project's .venv")
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = folder / source.name
        if not link.exists():
            link.symlink_to(source)
    return folder


def import_seconds(python: Path, paths: list[Path]) -> tuple[float, float]:
    """(CPU, wall) seconds of one fresh-interpreter import of `app` from `paths`. CPU time is
    the figure compared: on a shared machine wall time also counts waiting for a core."""
    out = subprocess.run(
        [str(python), "-I", "-S", "-B", "-c", TIMER, *map(str, paths)],
        env={"PATH": os.defpath, **LAMBDA_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    cpu, wall = out.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def best_imports(
    python: Path, apps: dict[str, list[Path]], repeat: int
) -> dict[str, tuple[float, float]]:
    """Best of `repeat` for each app, in interleaved rounds (every app once per round), so
    that a load change on a shared machine hits the baseline and the handlers alike."""
    best = dict.fromkeys(apps, (float("inf"), float("inf")))
    for _ in range(repeat):
        for name, paths in apps.items():
            cpu, wall = import_seconds(python, paths)
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    return best


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
        apps = {"baseline": [baseline_dir, layer, runtime]}
        for name in FUNCTIONS:
            apps[name] = [x86 / f"{name.capitalize()}Function", layer, runtime]
        best = best_imports(python, apps, args.repeat)
    base = best.pop("baseline")
    rows = list(best.items())

    print(f"Cold import, python3.13 -I -S -B, x86_64 build, best of {args.repeat} rounds")
    print(f"{'handler':<22}{'CPU ms':>8}{'x one-route':>13}{'wall ms':>9}  target <= 1.3x")
    print(f"{'one-route FastAPI app':<22}{base[0] * 1000:>8.0f}{1.0:>12.2f}x{base[1] * 1000:>9.0f}")
    for name, (cpu, wall) in rows:
        ratio = cpu / base[0]
        mark = "ok" if ratio <= RATIO_TARGET else "OVER"
        print(f"{name:<22}{cpu * 1000:>8.0f}{ratio:>12.2f}x{wall * 1000:>9.0f}  {mark}")

    print()
    print("Unzipped size as shipped (arm64 build; MB = 10^6 bytes)")
    print(f"{'artifact':<22}{'code MB':>10}{'+bytecode MB':>14}  target: code <= 60 MB")
    for folder in sorted(arm.glob("*Layer")) + sorted(arm.glob("*Function")):
        code, total = size(folder, bytecode=False), size(folder)
        mark = ""
        if folder.name == "BanditkitLayer":
            mark = "ok" if code <= CODE_TARGET_BYTES else "OVER"
        print(f"{folder.name:<22}{code / 1e6:>10.2f}{total / 1e6:>14.2f}  {mark}")


if __name__ == "__main__":
    main()
