"""Remove from a built Lambda layer what Lambda never runs, with the standard tools.

`make sam-build` runs this on `.aws-sam/build/*Layer/python` after `sam build` (SAM's
python3.13 build method installs whole wheels and has no exclude option), then compiles the
bytecode of everything left (`compileall`), so `sam deploy` uploads the slimmed folders.

Removed:
- what the python3.13 runtime already has on its path (/var/runtime): boto3, botocore and
  their dependencies, pulled in again by the X-Ray SDK (30 MB of botocore alone);
- the third-party packages' test suites (`tests/` folders) and documentation folders that
  are not packages (`doc/`, `docs/` without an `__init__.py`);
- what only builds or type-checks: C/Cython sources and headers, static libraries, type stubs;
- pydantic.v1, the Pydantic 1 compatibility copy, for cold start: FastAPI imports it while it
  defines a route only to ask whether a model is a Pydantic 1 model, and takes its absence
  (ImportError) for "no". Shipped, it adds 23 modules and about 32 ms of CPU to every API
  handler's import (docs/operations.md, "Lambda artifacts and cold start"). banditkit's
  models are Pydantic 2.

Stripped: the symbol tables of the extension modules (`strip --strip-unneeded`, which keeps
the dynamic symbols the loader uses), where a strip for their architecture is installed: the
host's `strip` for its own, `aarch64-linux-gnu-strip` (Debian: binutils-aarch64-linux-gnu) or
`llvm-strip` for arm64 on x86_64. The libraries the wheels vendor (`numpy.libs/`: OpenBLAS,
libgfortran) are left as they are: auditwheel's patchelf appended segments after their
symbol tables, and strip moves those off their alignment ("ELF load command address/offset
not page-aligned"). A stripped module whose segments no longer sit at an offset congruent to
their address is kept unstripped for the same reason.

Kept: everything of banditkit itself. tests/infra imports and runs the slimmed x86_64 build,
with boto3 where the runtime puts it.

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
TEST_DIRS = frozenset({"tests"})
DOC_DIRS = frozenset({"doc", "docs"})
BUILD_SUFFIXES = frozenset({".pyi", ".pxd", ".pyx", ".pxi", ".h", ".c", ".a"})
KEEP_TOP = frozenset({"banditkit"})
NOT_IMPORTED = ("pydantic/v1",)  # relative to python/; see the docstring

# ELF e_machine -> the strip for it on another host ("strip" only on a host of that machine).
EM_AARCH64, EM_X86_64 = 183, 62
HOST_MACHINE = {"aarch64": EM_AARCH64, "arm64": EM_AARCH64, "x86_64": EM_X86_64}
CROSS_STRIP = {EM_AARCH64: "aarch64-linux-gnu-strip", EM_X86_64: "x86_64-linux-gnu-strip"}
PT_LOAD = 1
PHDR = struct.Struct("<IIQQQQQQ")  # type flags offset vaddr paddr filesz memsz align


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
            if path.is_dir():
                is_docs = path.name in DOC_DIRS and not (path / "__init__.py").exists()
                if path.name in TEST_DIRS or is_docs:
                    yield path
            elif path.suffix in BUILD_SUFFIXES:
                yield path
    for rel in NOT_IMPORTED:
        if (root / rel).exists():
            yield root / rel


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


def elf_machine(path: Path) -> int | None:
    """The e_machine of a 64-bit little-endian ELF file, None for anything else."""
    with path.open("rb") as f:
        head = f.read(20)
    if head[:4] != b"\x7fELF" or head[4:6] != b"\x02\x01":
        return None
    return int.from_bytes(head[18:20], "little")


def loadable(path: Path) -> bool:
    """Whether every PT_LOAD segment of a 64-bit little-endian ELF file keeps offset =
    address modulo its alignment, the rule the dynamic loader enforces."""
    data = path.read_bytes()
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    entsize, count = struct.unpack_from("<HH", data, 0x36)
    for i in range(count):
        kind, _, offset, vaddr, _, _, _, align = PHDR.unpack_from(data, phoff + i * entsize)
        if kind == PT_LOAD and align > 1 and offset % align != vaddr % align:
            return False
    return True


def strip_program(machine: int) -> str | None:
    candidates = [CROSS_STRIP.get(machine, "")]
    if HOST_MACHINE.get(platform.machine()) == machine:
        candidates.append("strip")
    candidates.append("llvm-strip")
    return next((tool for tool in candidates if tool and shutil.which(tool)), None)


def strip_extensions(root: Path) -> tuple[int, list[Path]]:
    """Strip the extension modules under `root` (not the libraries in `*.libs/` folders).
    Returns the bytes freed and the modules left as they were (no strip for their
    architecture, or strip would have moved a segment off its alignment)."""
    freed, kept = 0, []
    for path in sorted(root.rglob("*.so")):
        if path.is_symlink() or any(part.endswith(".libs") for part in path.parts):
            continue
        machine = elf_machine(path)
        if machine is None:
            continue
        tool = strip_program(machine)
        stripped = path.with_name(path.name + ".stripped")
        if tool is not None:
            subprocess.run([tool, "--strip-unneeded", "-o", str(stripped), str(path)], check=True)
            if loadable(stripped):
                freed += path.stat().st_size - stripped.stat().st_size
                stripped.replace(path)
                continue
            stripped.unlink()
        kept.append(path)
    return freed, kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path, help="built layer python/ folders")
    args = parser.parse_args()
    for root in args.roots:
        if not root.is_dir():
            parser.error(f"{root} is not a folder")
        before = size_of(root)
        freed = prune(root)
        stripped, kept = strip_extensions(root)
        print(f"{root}: {before / 1e6:.1f} MB -> {(before - freed - stripped) / 1e6:.1f} MB")
        for path in kept:
            print(f"  not stripped: {path.relative_to(root)}", file=sys.stderr)


if __name__ == "__main__":
    main()
