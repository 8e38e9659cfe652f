"""Remove from a built Lambda layer what never runs in Lambda.

`make sam-build` runs this on `.aws-sam/build/*Layer/python` after `sam build` (SAM's
python3.13 build method installs whole wheels and has no exclude option), so `sam deploy`
uploads the pruned folders. Removed:

- what the python3.13 runtime already has on its path (/var/runtime): boto3, botocore and
  their dependencies, pulled in again by the X-Ray SDK (30 MB of botocore alone);
- third-party test suites, type stubs, C/Cython sources and headers, static libraries;
- numpy's f2py, PyInstaller hook, examples and compiled test modules, and the fft and
  testing subpackages, which numpy imports only when `np.fft` / `np.testing` is used (the
  engine uses neither);
- the Powertools utilities banditkit does not use (it uses Logger, Metrics, Tracer and the
  parameters utility): the event handler (a second web framework beside FastAPI), parser,
  data classes, idempotency, batch, ... — reached only by their own imports;
- pydantic.v1, the Pydantic 1 compatibility copy: banditkit's models are Pydantic 2, and
  FastAPI imports it only to ask whether a model is a v1 model, treating its absence
  (ImportError) as "no";
- modules that cannot run or are never imported in Lambda: idna (anyio imports it only to
  resolve a non-ASCII host name when it opens a TCP connection itself, which banditkit never
  asks it to), anyio's trio backend (trio is not shipped) and pytest plugin, pydantic's mypy
  plugin, Starlette's test client (needs httpx, not shipped), the Powertools Datadog metrics
  provider, and the X-Ray SDK's patches for libraries the layers do not ship (its patch_all
  skips a library whose patch module fails to import);
- the installers' RECORD files (the list of installed files, read only by pip uninstall);
- symbol tables of the wheels' extension modules (`strip --strip-unneeded`, keeping the
  dynamic symbols the loader uses; 1.1 MB on arm64), when a strip for the library's
  architecture is installed: the host's `strip` for its own arch, `aarch64-linux-gnu-strip`
  (Debian: binutils-aarch64-linux-gnu) or `llvm-strip` for arm64 on an x86_64 host. Not the
  libraries numpy vendors (see strip_native).

Kept: `__pycache__` (Lambda's file system is read-only, so shipped bytecode spares the
compile at cold start) and everything of banditkit itself. tests/infra imports and runs the
pruned build, with boto3 where the runtime puts it.

    python scripts/prune_layer.py .aws-sam/build/BanditkitLayer/python [...]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

# Import name -> distribution name of the packages the Lambda runtime provides.
RUNTIME_PROVIDED = {
    "boto3": "boto3",
    "botocore": "botocore",
    "s3transfer": "s3transfer",
    "jmespath": "jmespath",
    "dateutil": "python_dateutil",
    "urllib3": "urllib3",
    "six": "six",
}
# Folders removed wherever they sit inside a third-party package, and file suffixes.
TEST_DIRS = frozenset({"tests"})
BUILD_SUFFIXES = frozenset({".pyi", ".pxd", ".pyx", ".pxi", ".h", ".c", ".a"})
# Paths relative to the layer's python/ folder.
NUMPY_EXTRAS = (
    "numpy/f2py",
    "numpy/_core/include",
    "numpy/_core/lib",
    "numpy/_pyinstaller",
    "numpy/random/_examples",
    "numpy/fft",
    "numpy/testing",
)
POWERTOOLS_UNUSED = tuple(
    f"aws_lambda_powertools/{rel}"
    for rel in (
        "event_handler",
        "utilities/auth_alpha",
        "utilities/batch",
        "utilities/circuit_breaker",
        "utilities/data_classes",
        "utilities/data_masking",
        "utilities/feature_flags",
        "utilities/idempotency",
        "utilities/kafka",
        "utilities/metadata",
        "utilities/parser",
        "utilities/streaming",
        "utilities/validation",
    )
)
PYDANTIC_UNUSED = ("pydantic/v1", "pydantic/mypy.py")
# X-Ray SDK patches of libraries no layer ships. Kept: botocore (the runtime's boto3), sqlite3
# and httplib (the standard library), psycopg (the postgres layer).
XRAY_PATCHES_UNUSED = (
    "aiobotocore",
    "aiohttp",
    "bottle",
    "django",
    "flask",
    "flask_sqlalchemy",
    "httpx",
    "mysql",
    "pg8000",
    "psycopg2",
    "pymongo",
    "pymysql",
    "pynamodb",
    "requests",
    "sqlalchemy",
    "sqlalchemy_core",
)
NEVER_RUN = (
    "idna",
    "anyio/_backends/_trio.py",
    "anyio/pytest_plugin.py",
    "starlette/testclient.py",
    "aws_lambda_powertools/metrics/provider/datadog",
    *(f"aws_xray_sdk/ext/{name}" for name in XRAY_PATCHES_UNUSED),
)
EXTRAS = NUMPY_EXTRAS + POWERTOOLS_UNUSED + PYDANTIC_UNUSED + NEVER_RUN
# Distributions removed whole (their metadata folder too).
DISTS_REMOVED = ("idna",)
NUMPY_TEST_MODULES = ("numpy/_core/_*_tests.cpython-*.so", "numpy/_core/_simd.cpython-*.so")
KEEP_TOP = frozenset({"banditkit"})


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def removable(root: Path) -> Iterator[Path]:
    """What to remove under `root` (a layer's python/ folder)."""
    for module, dist in RUNTIME_PROVIDED.items():
        for pattern in (module, f"{module}.py", f"{dist}-*.dist-info", f"{dist}-*.data"):
            yield from sorted(root.glob(pattern))
    for top in sorted(root.iterdir()):
        if top.name in KEEP_TOP or not top.is_dir():
            continue
        for path in sorted(top.rglob("*")):
            is_test_dir = path.is_dir() and path.name in TEST_DIRS
            if is_test_dir or (path.is_file() and path.suffix in BUILD_SUFFIXES):
                yield path
    for rel in EXTRAS:
        if (root / rel).exists():
            yield root / rel
    for pattern in NUMPY_TEST_MODULES:
        yield from sorted(root.glob(pattern))
    for dist in DISTS_REMOVED:
        yield from sorted(root.glob(f"{dist}-*.dist-info"))
    yield from sorted(root.glob("*.dist-info/RECORD"))


# ELF e_machine -> strip programs that handle it, best first ("strip" only on that host).
EM_AARCH64, EM_X86_64 = 183, 62
HOST_MACHINE = {"aarch64": EM_AARCH64, "arm64": EM_AARCH64, "x86_64": EM_X86_64}
CROSS_STRIP = {EM_AARCH64: "aarch64-linux-gnu-strip", EM_X86_64: "x86_64-linux-gnu-strip"}
PT_LOAD = 1


def elf_machine(path: Path) -> int | None:
    """The e_machine of a 64-bit little-endian ELF file, None for anything else."""
    with path.open("rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF" or head[4:6] != b"\x02\x01":
        return None
    return int.from_bytes(head[18:20], "little")


def loadable(path: Path) -> bool:
    """Whether every PT_LOAD segment keeps offset = address modulo its alignment, the rule the
    dynamic loader enforces ("ELF load command address/offset not page-aligned")."""
    data = path.read_bytes()
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    entsize, count = struct.unpack_from("<HH", data, 0x36)
    for i in range(count):
        kind, _, offset, vaddr, _, _, _, align = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * entsize
        )
        if kind == PT_LOAD and align > 1 and offset % align != vaddr % align:
            return False
    return True


def strip_program(machine: int) -> str | None:
    candidates = [CROSS_STRIP.get(machine, "")]
    if HOST_MACHINE.get(platform.machine()) == machine:
        candidates.append("strip")
    candidates.append("llvm-strip")
    return next((tool for tool in candidates if tool and shutil.which(tool)), None)


def strip_native(root: Path) -> tuple[int, list[Path]]:
    """Strip the symbol tables of the native libraries under `root` (the dynamic symbols the
    loader needs stay). Returns the bytes freed and the libraries left as they were: those
    with no strip for their architecture, and those strip would break. The libraries a
    wheel vendors (numpy.libs/: OpenBLAS, libgfortran) were renamed by auditwheel's
    patchelf, which appends a segment that binutils' strip then moves off its alignment, so
    the loader refuses them; each stripped copy is checked and the original kept if so."""
    freed, kept = 0, []
    for path in sorted(root.rglob("*.so*")):
        if not path.is_file() or path.is_symlink():
            continue
        machine = elf_machine(path)
        tool = strip_program(machine) if machine is not None else None
        if tool is None:
            if machine is not None:
                kept.append(path)
            continue
        stripped = path.with_name(path.name + ".stripped")
        subprocess.run([tool, "--strip-unneeded", "-o", str(stripped), str(path)], check=True)
        if loadable(stripped):
            freed += path.stat().st_size - stripped.stat().st_size
            stripped.replace(path)
        else:
            stripped.unlink()
            kept.append(path)
    return freed, kept


def prune(root: Path) -> int:
    """Remove the removable paths under `root`; return the bytes freed."""
    freed = 0
    for path in list(removable(root)):
        if not path.exists():  # inside a folder removed earlier
            continue
        freed += size_of(path)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return freed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path, help="built layer python/ folders")
    args = parser.parse_args()
    for root in args.roots:
        if not root.is_dir():
            parser.error(f"{root} is not a folder")
        before = size_of(root)
        freed = prune(root)
        stripped, kept = strip_native(root)
        print(f"{root}: {before / 1e6:.1f} MB -> {(before - freed - stripped) / 1e6:.1f} MB")
        for path in kept:
            print(f"  not stripped: {path.relative_to(root)}", file=sys.stderr)


if __name__ == "__main__":
    main()
