"""Remove from a built Lambda layer what never runs in Lambda.

`make sam-build` runs this on `.aws-sam/build/*Layer/python` after `sam build` (SAM's
python3.13 build method installs whole wheels and has no exclude option), so `sam deploy`
uploads the pruned folders. Removed:

- what the python3.13 runtime already has on its path (/var/runtime): boto3, botocore and
  their dependencies, pulled in again by the X-Ray SDK (30 MB of botocore alone);
- third-party test suites, type stubs, C/Cython sources and headers, static libraries;
- numpy's f2py, PyInstaller hook, examples and compiled test modules.

Kept: `__pycache__` (Lambda's file system is read-only, so shipped bytecode spares the
compile at cold start) and everything of banditkit itself. tests/infra imports and runs the
pruned build, with boto3 where the runtime puts it.

    python scripts/prune_layer.py .aws-sam/build/BanditkitLayer/python [...]
"""

from __future__ import annotations

import argparse
import shutil
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
)
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
    for rel in NUMPY_EXTRAS:
        if (root / rel).exists():
            yield root / rel
    for pattern in NUMPY_TEST_MODULES:
        yield from sorted(root.glob(pattern))


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
        print(f"{root}: {before / 1e6:.1f} MB -> {(before - freed) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
