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
  (Debian: binutils-aarch64-linux-gnu) or `llvm-strip` for arm64 on an x86_64 host; and the
  symbol table of the libraries numpy vendors, which strip would break (drop_symtab: 2.4 MB
  of OpenBLAS on arm64, 1 MB on x86_64).

Kept: everything of banditkit itself. Bytecode is written afterwards, for the modules the
handlers load (scripts/layer_bytecode.py). tests/infra imports and runs the pruned build,
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
# ELF64 program and section headers (loadable, drop_symtab).
SHT_NULL, SHT_SYMTAB, SHT_NOBITS = 0, 2, 8
SHF_ALLOC = 0x2
SHDR = struct.Struct("<IIQQQQIIQQ")  # name type flags addr offset size link info align entsize
PHDR = struct.Struct("<IIQQQQQQ")  # type flags offset vaddr paddr filesz memsz align


def elf_machine(path: Path) -> int | None:
    """The e_machine of a 64-bit little-endian ELF file, None for anything else."""
    with path.open("rb") as f:
        head = f.read(20)
    if not elf64_le(head):
        return None
    return int.from_bytes(head[18:20], "little")


def elf64_le(head: bytes) -> bool:
    """Whether `head` starts a 64-bit little-endian ELF file (the only kind handled here)."""
    return head[:4] == b"\x7fELF" and head[4:6] == b"\x02\x01"


def loadable(path: Path) -> bool:
    """Whether every PT_LOAD segment keeps offset = address modulo its alignment, the rule the
    dynamic loader enforces ("ELF load command address/offset not page-aligned")."""
    data = path.read_bytes()
    (phoff,) = struct.unpack_from("<Q", data, 0x20)
    entsize, count = struct.unpack_from("<HH", data, 0x36)
    for i in range(count):
        kind, _, offset, vaddr, _, _, _, align = PHDR.unpack_from(data, phoff + i * entsize)
        if kind == PT_LOAD and align > 1 and offset % align != vaddr % align:
            return False
    return True


def drop_symtab(data: bytes) -> bytes | None:
    """`data` (a 64-bit little-endian ELF library) without its symbol table, every segment
    byte for byte at an offset congruent to its address modulo its alignment; None when the
    file is not of that shape (no .symtab, or its segments are not in file order).

    For what strip cannot do: patchelf appends segments after the symbol table, and strip,
    removing it, moves those segments off their alignment. Here each segment moves down by
    a multiple of the largest alignment instead, and the sections outside segments (names,
    comments, debug data) follow the last one; .symtab and its .strtab become empty (NULL)
    sections, so no section index changes. The loader reads program headers only."""
    if not elf64_le(data):
        return None
    phoff, shoff = struct.unpack_from("<QQ", data, 0x20)
    phentsize, phnum, shentsize, shnum, shstrndx = struct.unpack_from("<HHHHH", data, 0x36)
    if phentsize != PHDR.size or shentsize != SHDR.size or shnum == 0:
        return None
    phdrs = [list(PHDR.unpack_from(data, phoff + i * PHDR.size)) for i in range(phnum)]
    shdrs = [list(SHDR.unpack_from(data, shoff + i * SHDR.size)) for i in range(shnum)]
    symtabs = [i for i, sh in enumerate(shdrs) if sh[1] == SHT_SYMTAB]
    if len(symtabs) != 1:
        return None
    symtab = symtabs[0]
    strtab = shdrs[symtab][6]
    linked = {sh[6] for i, sh in enumerate(shdrs) if i != symtab}
    if strtab in (0, shstrndx) or strtab in linked or symtab in linked:
        return None
    if shdrs[symtab][2] & SHF_ALLOC or shdrs[strtab][2] & SHF_ALLOC:
        return None
    loads = sorted((ph for ph in phdrs if ph[0] == PT_LOAD), key=lambda ph: ph[2])
    if not loads or loads[0][2] != 0 or phoff + phnum * PHDR.size > loads[0][5]:
        return None  # the headers must sit in the first segment, which must stay put
    step = max(max(ph[7] for ph in loads), 0x1000)
    # Each segment's shift: as far down as its predecessor's end allows, by whole steps.
    shifts: list[tuple[int, int, int]] = []  # (old start, old end, shift)
    end = shift = 0
    for ph in loads:
        start, size = ph[2], ph[5]
        if start >= end + shift:  # else it overlaps the previous segment: moves with it
            shift = (start - end) // step * step
        shifts.append((start, start + size, shift))
        end = max(end, start + size - shift)

    def moved(offset: int, size: int = 0) -> int | None:
        for start, stop, by in shifts:
            if start <= offset and offset + size <= stop:
                return offset - by
        return None

    out = bytearray(end)
    for start, stop, by in shifts:
        out[start - by : stop - by] = data[start:stop]
    for ph in phdrs:
        new = moved(ph[2], ph[5])
        if new is not None:
            ph[2] = new
        elif ph[5]:  # bytes outside every segment (empty ones, such as GNU_STACK, stay)
            return None
    for i, sh in enumerate(shdrs):
        if i in (symtab, strtab):
            shdrs[i] = [sh[0], SHT_NULL, 0, 0, 0, 0, 0, 0, 0, 0]
        elif i == 0:
            continue
        elif sh[2] & SHF_ALLOC:
            new = moved(sh[4], 0 if sh[1] == SHT_NOBITS else sh[5])
            if new is None:
                return None
            sh[4] = new
        elif sh[1] != SHT_NOBITS:  # outside the segments: after them
            at = -(-len(out) // max(sh[8], 1)) * max(sh[8], 1)
            out[len(out) : at] = bytes(at - len(out))
            out += data[sh[4] : sh[4] + sh[5]]
            sh[4] = at
    table = -(-len(out) // 8) * 8
    out[len(out) : table] = bytes(table - len(out))
    for sh in shdrs:
        out += SHDR.pack(*sh)
    for i, ph in enumerate(phdrs):
        PHDR.pack_into(out, phoff + i * PHDR.size, *ph)
    struct.pack_into("<Q", out, 0x28, table)
    return bytes(out)


def strip_program(machine: int) -> str | None:
    candidates = [CROSS_STRIP.get(machine, "")]
    if HOST_MACHINE.get(platform.machine()) == machine:
        candidates.append("strip")
    candidates.append("llvm-strip")
    return next((tool for tool in candidates if tool and shutil.which(tool)), None)


def strip_native(root: Path) -> tuple[int, list[Path]]:
    """Strip the symbol tables of the native libraries under `root` (the dynamic symbols the
    loader needs stay). Returns the bytes freed and the libraries left as they were (no
    strip for their architecture and no symbol table drop_symtab can take out).

    The libraries a wheel vendors (numpy.libs/: OpenBLAS, libgfortran) were renamed by
    auditwheel's patchelf, which appends segments after the symbol table; binutils' and
    LLVM's strip then move those off their alignment, and the loader refuses the library
    ("ELF load command address/offset not page-aligned"). So each stripped copy is checked,
    and where strip fails, drop_symtab takes the symbol table out instead (2.4 MB of
    OpenBLAS on arm64)."""
    freed, kept = 0, []
    for path in sorted(root.rglob("*.so*")):
        if not path.is_file() or path.is_symlink():
            continue
        machine = elf_machine(path)
        if machine is None:
            continue
        tool = strip_program(machine)
        stripped = path.with_name(path.name + ".stripped")
        if tool is not None:
            subprocess.run([tool, "--strip-unneeded", "-o", str(stripped), str(path)], check=True)
            if not loadable(stripped):
                stripped.unlink()
        if not stripped.exists():
            compacted = drop_symtab(path.read_bytes())
            if compacted is not None:
                stripped.write_bytes(compacted)
                if not loadable(stripped):
                    stripped.unlink()
        if stripped.exists():
            freed += path.stat().st_size - stripped.stat().st_size
            stripped.replace(path)
        else:
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
