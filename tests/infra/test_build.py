"""`sam build` makes artifacts the Lambda runtime can run, without Docker or AWS.

arm64 (what ships) cannot execute here (x86_64), so its artifacts are proved by what they
are: every wheel tagged for aarch64 or pure Python and CPython 3.13, every native library an
aarch64 ELF that glibc's aarch64 loader maps (under qemu-user), the layer within its size
budget. The same template built with Arch=x86_64
then proves the code: each handler imports in a bare python3.13 with only the build folders
on sys.path, and requests run end to end through the built handlers on a SQLite store.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import layer_bytecode
import pytest

pytestmark = [pytest.mark.infra, pytest.mark.slow]

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
FUNCTIONS = ["experiments", "events", "allocation", "history", "admin", "recompute"]
# Bytes unzipped. Issue 5 asks 60 MB for the layer as shipped, bytecode included (SAM's build
# leaves none, and compiling at each cold start costs seconds). After pruning (arm64) it is
# 50.1 MB of code, most of it numpy's OpenBLAS (26.3 MB once its symbol table is dropped, see
# scripts/prune_layer.py), and 57.3 MB with the bytecode of the 471 modules the handlers load
# (scripts/layer_bytecode.py). The budget is the target itself; what grows past it has to
# find its room. Stripping the extension modules saves 1.1 MB more, which on x86_64 needs
# binutils-aarch64-linux-gnu (.ci/run installs it); without it the layer is 58.4 MB.
LAYER_SHIPPED_CEILING = 60_000_000
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
    folder: Path = layer_bytecode.runtime_stand_in(tmp_path_factory.mktemp("var-runtime"))
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


ARM64_SYSROOT = Path("/usr/aarch64-linux-gnu")  # Debian's libc6-arm64-cross and friends
# What AL2023 gives every Lambda besides glibc and the C++ runtime; an empty stand-in here,
# where no arm64 zlib package installs (only numpy's bundled libgfortran asks for it).
SYSTEM_STAND_INS = ["libz.so.1"]


def arm64_loader_tools() -> bool:
    tools = ["qemu-aarch64", "aarch64-linux-gnu-as", "aarch64-linux-gnu-ld"]
    found = all(shutil.which(t) for t in tools) and all(
        (ARM64_SYSROOT / "lib" / name).exists()
        for name in ("ld-linux-aarch64.so.1", "libgcc_s.so.1", "libstdc++.so.6")
    )
    if not found and os.environ.get("CI"):
        pytest.fail("CI needs qemu-user and the arm64 cross runtime (see .ci/run)")
    return bool(found)


def stand_ins(folder: Path) -> Path:
    empty = folder / "empty.o"
    subprocess.run(["aarch64-linux-gnu-as", "-o", empty, "/dev/null"], check=True)
    for name in SYSTEM_STAND_INS:
        link = ["aarch64-linux-gnu-ld", "-shared", "-soname", name, "-o", folder / name, empty]
        subprocess.run(link, check=True)
    return folder


def test_arm64_libraries_map_under_the_arm64_dynamic_loader(
    build_arm64: Path, tmp_path: Path
) -> None:
    """glibc's own aarch64 loader (under qemu) maps every shared object of the layers with
    its dependencies: what prune_layer rewrote (stripped extension modules, OpenBLAS
    without its symbol table) still loads as Lambda's loader would load it."""
    if not arm64_loader_tools():
        pytest.skip("qemu-aarch64 and the arm64 cross runtime are not installed")
    layers = [build_arm64 / name / "python" for name in ("BanditkitLayer", "PostgresLayer")]
    bundled = [str(d) for layer in layers for d in layer.glob("*.libs")]
    search = ":".join([str(stand_ins(tmp_path)), *bundled])
    libraries = [p for layer in layers for p in layer.rglob("*.so*") if p.is_file()]
    for library in libraries:
        result = arm64_list(library, search)
        assert result.returncode == 0, (library, result.stderr)
        assert "not found" not in result.stdout, (library, result.stdout)
    # and the check can fail: OpenBLAS with one segment's file offset off by half a page
    openblas = next(p for p in libraries if "openblas" in p.name)
    broken = tmp_path / openblas.name
    broken.write_bytes(misaligned(openblas.read_bytes()))
    result = arm64_list(broken, search)
    assert result.returncode != 0
    assert "not page-aligned" in result.stderr


def arm64_list(library: Path, search: str) -> subprocess.CompletedProcess[str]:
    loader = ARM64_SYSROOT / "lib" / "ld-linux-aarch64.so.1"
    qemu = ["qemu-aarch64", "-L", str(ARM64_SYSROOT), "-E", f"LD_LIBRARY_PATH={search}"]
    return subprocess.run(
        [*qemu, str(loader), "--list", str(library)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def misaligned(data: bytes) -> bytes:
    """The ELF with its second PT_LOAD's file offset moved by 0x800 bytes."""
    out = bytearray(data)
    phoff = int.from_bytes(data[0x20:0x28], "little")
    entsize, count = (int.from_bytes(data[i : i + 2], "little") for i in (0x36, 0x38))
    loads = [phoff + i * entsize for i in range(count) if data[phoff + i * entsize] == 1]
    offset = int.from_bytes(data[loads[1] + 8 : loads[1] + 16], "little")
    out[loads[1] + 8 : loads[1] + 16] = (offset + 0x800).to_bytes(8, "little")
    return bytes(out)


def test_arm64_layer_fits_its_budget_and_leaves_boto3_to_the_runtime(build_arm64: Path) -> None:
    layer = build_arm64 / "BanditkitLayer" / "python"
    assert tree_size(layer) <= LAYER_SHIPPED_CEILING, "stripped? see scripts/prune_layer.py"
    # The modules the handlers load ship their bytecode (Lambda's /opt is read-only), and
    # only they: the list is checked against what the handlers load below.
    listed = layer_bytecode.read_list()
    compiled = sorted(
        (p.parent.parent / f"{p.name.removesuffix('.cpython-313.pyc')}.py")
        .relative_to(layer)
        .as_posix()
        for p in layer.rglob("__pycache__/*.pyc")
    )
    assert len(listed) > 400
    assert compiled == listed, "listed modules the layer lacks: run `make layer-bytecode`"
    assert (layer / "banditkit" / "__init__.py").is_file()
    assert (layer / "requirements.txt").is_file()
    for name in layer_bytecode.RUNTIME_PACKAGES:
        assert not list(layer.glob(f"{name}*")), name
    assert not list(layer.glob("psycopg*"))  # in the PostgreSQL layer only
    assert list((build_arm64 / "PostgresLayer" / "python").glob("psycopg_binary*"))


def test_every_module_a_handler_loads_ships_its_bytecode(build_x86_64: Path) -> None:
    """Run each built handler on every route of its function, as `make layer-bytecode` does,
    and compare what it loads from the layer with the list whose bytecode ships."""
    loaded = layer_bytecode.record(build_x86_64)
    missing = sorted(set(loaded) - set(layer_bytecode.read_list()))
    assert len(loaded) > 400
    assert "banditkit/engine/beta.py" in loaded  # the allocation's maths ran
    assert "aws_xray_sdk/ext/botocore/patch.py" in loaded  # and the tracer patched boto
    assert missing == [], "run `make layer-bytecode`"
    for module in loaded:  # and the build compiled them
        pyc = build_x86_64 / "BanditkitLayer" / "python" / module
        assert (pyc.parent / "__pycache__" / f"{pyc.stem}.cpython-313.pyc").is_file(), module


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


api_event = layer_bytecode.api_event  # an API Gateway REST (v1) proxy event
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
            api_event("GET", HISTORY, path={"experiment_id": "checkout"}),
            api_event("GET", HISTORY, path={"experiment_id": "nope"}),
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
