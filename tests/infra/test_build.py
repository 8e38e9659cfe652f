"""`sam build` makes artifacts the Lambda runtime can run, without Docker or AWS.

arm64 (what ships) cannot execute here (x86_64), so its artifacts are proved by what they
are: every wheel tagged for aarch64 or pure Python and CPython 3.13, every native library an
aarch64 ELF whose segments the loader can map, bytecode for every module, the deployment
within its budget. The same template built with Arch=x86_64 then proves the code: each
handler imports in a bare python3.13 with only the build folders on sys.path, and requests
run end to end through the built handlers on a SQLite store.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import lambda_local
import prune_layer
import pytest

pytestmark = [pytest.mark.infra, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FUNCTIONS = ["experiments", "events", "allocation", "history", "admin", "recompute"]
# Bytes unzipped, bytecode included. Lambda refuses a function whose code and layers exceed
# 250 MB together. The largest deployment is a function with both layers (StoreBackend=
# postgres): 86 MB on arm64 (the banditkit layer 70 MB with its bytecode, 50 MB of it numpy
# and its OpenBLAS; the PostgreSQL layer 16 MB). The budget keeps half of Lambda's limit
# free, so that a dependency's growth shows here long before Lambda would refuse a deploy.
LAMBDA_UNZIPPED_LIMIT = 250_000_000
DEPLOYED_BUDGET = LAMBDA_UNZIPPED_LIMIT // 2
EM_AARCH64, EM_X86_64 = 183, 62


def tree_size(folder: Path, *, bytecode: bool = True) -> int:
    return sum(
        p.stat().st_size
        for p in folder.rglob("*")
        if p.is_file() and (bytecode or "__pycache__" not in p.parts)
    )


def elf_machine(path: Path) -> int | None:
    """The e_machine of an ELF file (little-endian), None if not ELF."""
    with path.open("rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF":
        return None
    return int.from_bytes(head[18:20], "little")


def wheel_tags(layer: Path) -> dict[str, list[str]]:
    return {
        wheel.parent.name: [
            line.split(":", 1)[1].strip()
            for line in wheel.read_text().splitlines()
            if line.startswith("Tag:")
        ]
        for wheel in layer.glob("*.dist-info/WHEEL")
    }


@pytest.fixture(scope="session")
def runtime_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stand-in for the runtime's /var/runtime: links to this venv's boto3 and its deps."""
    folder: Path = lambda_local.runtime_stand_in(tmp_path_factory.mktemp("var-runtime"))
    return folder


Run = Callable[..., Any]


@pytest.fixture(scope="session")
def run_built(
    build_x86_64: Path, runtime_dir: Path, py313: Path, tmp_path_factory: pytest.TempPathFactory
) -> Run:
    """run_built(mode, function, events=None, env={}) -> what built_handler.py wrote."""

    def run(
        mode: str, function: str, events: list[Any] | None = None, env: dict[str, str] | None = None
    ) -> Any:
        out = tmp_path_factory.mktemp("out") / "result.json"
        layers = [
            build_x86_64 / "BanditkitLayer" / "python",
            build_x86_64 / "PostgresLayer" / "python",
        ]
        function_dir = build_x86_64 / f"{function.capitalize()}Function"
        result = subprocess.run(
            [
                str(py313),
                "-I",
                "-S",
                str(HERE / "built_handler.py"),
                mode,
                str(out),
                str(function_dir),
                *map(str, layers),
                "--",
                str(runtime_dir),
            ],
            input=json.dumps(events or []),
            env={"PATH": "/usr/bin:/bin", **(env or {})},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, f"{function}: {result.stderr[-3000:]}"
        return json.loads(out.read_text())

    return run


# ------------------------------------------------------------------ arm64: what ships


@pytest.mark.parametrize("layer", ["BanditkitLayer", "PostgresLayer"])
def test_arm64_wheels_are_aarch64_or_pure_and_cpython313(build_arm64: Path, layer: str) -> None:
    tags = wheel_tags(build_arm64 / layer / "python")
    assert tags, "no wheels installed"
    for wheel, wheel_tag_list in tags.items():
        for tag in wheel_tag_list:
            python, abi, platform = tag.split("-")
            if platform == "any":
                continue
            assert "aarch64" in platform, (wheel, tag)
            assert python == "cp313" or abi == "abi3", (wheel, tag)


@pytest.mark.parametrize("layer", ["BanditkitLayer", "PostgresLayer"])
def test_arm64_native_libraries_are_aarch64_elf(build_arm64: Path, layer: str) -> None:
    machines = {
        path.relative_to(build_arm64): elf_machine(path)
        for path in (build_arm64 / layer / "python").rglob("*.so*")
        if path.is_file()
    }
    assert len(machines) >= 5
    assert set(machines.values()) == {EM_AARCH64}, [
        p for p, m in machines.items() if m != EM_AARCH64
    ]


@pytest.mark.parametrize("layer", ["BanditkitLayer", "PostgresLayer"])
def test_arm64_native_libraries_keep_their_segments_where_the_loader_maps_them(
    build_arm64: Path, layer: str
) -> None:
    """Every loadable segment of every shared object (the extension modules prune_layer
    stripped, the vendored libraries it left alone) sits at a file offset congruent to its
    address, or the loader refuses it ("ELF load command address/offset not page-aligned")."""
    libraries = [p for p in (build_arm64 / layer / "python").rglob("*.so*") if p.is_file()]
    assert len(libraries) >= 5
    assert [p.name for p in libraries if not prune_layer.loadable(p)] == []


def test_arm64_deployment_fits_its_budget_and_leaves_boto3_to_the_runtime(
    build_arm64: Path,
) -> None:
    layer = build_arm64 / "BanditkitLayer" / "python"
    layers = tree_size(build_arm64 / "BanditkitLayer") + tree_size(build_arm64 / "PostgresLayer")
    largest = max(tree_size(build_arm64 / f"{f.capitalize()}Function") for f in FUNCTIONS)
    assert layers + largest <= DEPLOYED_BUDGET
    assert (layer / "banditkit" / "__init__.py").is_file()
    assert (layer / "requirements.txt").is_file()
    for name in lambda_local.RUNTIME_PACKAGES:
        assert not list(layer.glob(f"{name}*")), name
    assert not list(layer.glob("numpy/**/tests"))  # third-party test suites are not shipped
    assert not (layer / "pydantic" / "v1").exists()  # cold start: see scripts/prune_layer.py
    assert not list(layer.glob("psycopg*"))  # in the PostgreSQL layer only
    assert list((build_arm64 / "PostgresLayer" / "python").glob("psycopg_binary*"))


ARTIFACTS = ["BanditkitLayer", "PostgresLayer", *(f"{f.capitalize()}Function" for f in FUNCTIONS)]


@pytest.mark.parametrize("folder", ARTIFACTS)
def test_arm64_every_module_ships_unchecked_hash_bytecode(build_arm64: Path, folder: str) -> None:
    """Lambda's /opt and /var/task are read-only: a module without bytecode would be compiled
    again by every cold start that imports it. Unchecked-hash bytecode (PEP 552 flags 0b01)
    is never compared with its source, so the files' timestamps do not matter."""
    root = build_arm64 / folder
    sources = [p for p in root.rglob("*.py") if "__pycache__" not in p.parts]
    assert len(sources) >= (1 if folder.endswith("Function") else 100)
    missing, checked = [], []
    for source in sources:
        pyc = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not pyc.is_file():
            missing.append(source.relative_to(root).as_posix())
        elif int.from_bytes(pyc.read_bytes()[4:8], "little") != 0b01:
            checked.append(pyc.relative_to(root).as_posix())
    assert missing == []
    assert checked == []


@pytest.mark.parametrize("function", FUNCTIONS)
def test_arm64_functions_hold_only_their_handler(build_arm64: Path, function: str) -> None:
    folder = build_arm64 / f"{function.capitalize()}Function"
    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert "app.py" in files
    assert tree_size(folder) < 100_000


def test_arm64_built_template_points_at_the_built_folders(build_arm64: Path) -> None:
    text = (build_arm64 / "template.yaml").read_text()
    for function in FUNCTIONS:
        assert f"CodeUri: {function.capitalize()}Function" in text
    assert "ContentUri: BanditkitLayer" in text


# ------------------------------------------------------------------ x86_64: what runs


def test_x86_64_native_libraries_are_x86_64(build_x86_64: Path) -> None:
    layer = build_x86_64 / "BanditkitLayer" / "python"
    machines = {elf_machine(p) for p in layer.rglob("*.so*") if p.is_file()}
    assert machines == {EM_X86_64}


@pytest.mark.parametrize("function", FUNCTIONS)
def test_built_handler_imports_from_the_build_folders_alone(run_built: Run, function: str) -> None:
    result = run_built("import", function)
    assert result["outside"] == []
    assert result["handler"] == ("function" if function == "recompute" else "ApiFunction")
    # Powertools (the recompute job is built with it) and the rest load at the first call.
    expected = ["aws_lambda_powertools"] if function == "recompute" else []
    assert result["deferred_loaded"] == expected


def test_postgres_driver_loads_its_bundled_libpq(build_x86_64: Path, py313: Path) -> None:
    layer = build_x86_64 / "PostgresLayer" / "python"
    code = (
        f"import sys; sys.path[:0] = [{str(layer)!r}]; import psycopg; "
        "print(psycopg.pq.__impl__, psycopg.pq.version())"
    )
    result = subprocess.run(
        [str(py313), "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    impl, version = result.stdout.split()
    assert impl == "binary"
    assert int(version) >= 160000


api_event = lambda_local.api_event  # an API Gateway REST (v1) proxy event
HISTORY = "/experiments/{experiment_id}/history"


def test_requests_run_end_to_end_through_built_handlers(run_built: Run, tmp_path: Path) -> None:
    """Create an experiment (experiments), post a day of counts (events), read the allocation
    (allocation) and the history (history): four built functions sharing one SQLite store,
    configured by the variables template.yaml sets."""
    env = {
        "BANDIT_STORE_URL": f"sqlite:///{tmp_path / 'bandit.db'}",
        "POWERTOOLS_SERVICE_NAME": "banditkit",
        "POWERTOOLS_METRICS_NAMESPACE": "banditkit",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "BANDIT_TRACING": "true",  # as TracingMode=Active sets it: the X-Ray SDK must load
        "AWS_REGION": "eu-west-1",
    }
    (created,) = run_built(
        "invoke",
        "experiments",
        [
            api_event(
                "POST",
                "/experiments",
                body={
                    "id": "checkout",
                    "name": "Checkout button",
                    "variants": [{"name": "A", "is_control": True}, {"name": "B"}],
                },
            )
        ],
        env,
    )
    assert created["statusCode"] == 201, created
    assert json.loads(created["body"])["id"] == "checkout"

    (ingested,) = run_built(
        "invoke",
        "events",
        [
            api_event(
                "POST",
                "/events",
                body={
                    "experiment_id": "checkout",
                    "date": "2026-11-28",
                    "variants": [
                        {"variant_name": "A", "impressions": 1000, "clicks": 50},
                        {"variant_name": "B", "impressions": 1000, "clicks": 90},
                    ],
                },
            )
        ],
        env,
    )
    assert ingested["statusCode"] in (200, 201), ingested
    assert json.loads(ingested["body"])["total_clicks"] == 140

    (allocated,) = run_built(
        "invoke",
        "allocation",
        [api_event("GET", "/allocation", query={"experiment_id": "checkout"})],
        env,
    )
    assert allocated["statusCode"] == 200, allocated
    shares = json.loads(allocated["body"])["allocations"]
    assert set(shares) == {"A", "B"}
    assert sum(shares.values()) == pytest.approx(1.0)
    assert shares["B"] > shares["A"]

    (recomputed,) = run_built("invoke", "recompute", [{}], env)  # the schedule's event
    assert recomputed["considered"] == 1, recomputed
    assert recomputed["failed"] == 0, recomputed

    history, missing = run_built(
        "invoke",
        "history",
        [
            api_event("GET", "/experiments/checkout/history", resource=HISTORY),
            api_event("GET", "/experiments/nope/history", resource=HISTORY),
        ],
        env,
    )
    assert history["statusCode"] == 200, history
    assert "B" in history["body"]
    # Errors leave as problem+json text: base64 here would reach clients undecoded, as the
    # API has no binary media types.
    assert missing["statusCode"] == 404
    assert missing["isBase64Encoded"] is False
    assert missing["headers"]["content-type"] == "application/problem+json"
    assert json.loads(missing["body"])["status"] == 404
