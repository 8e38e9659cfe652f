"""The two scripts `make sam-build` and `make deploy` run: layer pruning and the dashboard
upload (against moto's S3)."""

from __future__ import annotations

import ctypes
import platform
import shutil
import struct
import textwrap
from pathlib import Path

import numpy
import prune_layer
import pytest
import upload_dashboard

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]


def touch(path: Path, size: int = 10) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_prune_removes_the_runtimes_packages_tests_docs_and_build_files_only(
    tmp_path: Path,
) -> None:
    keep = [
        "banditkit/tests/keep.py",  # ours is never touched
        "banditkit/__init__.pyi",
        "numpy/__init__.py",
        "numpy/__pycache__/__init__.cpython-313.pyc",
        "numpy/_core/_multiarray_umath.cpython-313-aarch64-linux-gnu.so",
        "numpy/polynomial/legendre.py",
        "numpy/testing/utils.py",  # np.testing is public API, not a test suite
        "numpy/random/LICENSE.md",
        "pydantic/main.py",
        "aws_lambda_powertools/logging/logger.py",
        "aws_xray_sdk/core/__init__.py",
        "sixteen/__init__.py",
        "somelib/docs/__init__.py",  # a package named docs is code
        "somelib/docs/render.py",
    ]
    drop = [
        "numpy/_core/tests/test_a.py",
        "numpy/linalg/tests/test_b.py",
        "numpy/doc/ufuncs.rst",
        "otherlib/docs/index.md",
        "numpy/__init__.pyi",
        "numpy/_core/include/numpy/ndarraytypes.h",
        "numpy/_core/lib/libnpymath.a",
        "pydantic_core/core_schema.pyi",
        "numpy/random/_bounded_integers.pxd",
        "botocore/__init__.py",
        "botocore-1.44.8.dist-info/METADATA",
        "dateutil/parser.py",
        "python_dateutil-2.9.0.post0.dist-info/RECORD",
        "six.py",
        "jmespath-1.1.0.data/scripts/jp.py",
        "pydantic/v1/main.py",
    ]
    for rel in keep + drop:
        touch(tmp_path / rel)

    freed = prune_layer.prune(tmp_path)

    assert freed == 10 * len(drop)
    assert [rel for rel in keep if not (tmp_path / rel).exists()] == []
    assert [rel for rel in drop if (tmp_path / rel).exists()] == []


def test_extension_modules_are_stripped_and_still_load_vendored_libraries_left_alone(
    tmp_path: Path,
) -> None:
    """A real extension module of the dev environment's numpy wheel (x86_64, with its symbol
    table), stripped by the host's strip: smaller, and the dynamic loader still maps it. The
    same file under numpy.libs/ (where auditwheel's patchelf leaves the vendored libraries) is
    not touched."""
    if prune_layer.strip_program(prune_layer.EM_X86_64) is None or platform.machine() != "x86_64":
        pytest.skip("needs an x86_64 host with strip (binutils) or llvm-strip")
    source = Path(numpy.__file__).parent / "_core"
    (module,) = source.glob("_operand_flag_tests.cpython-313-*.so")
    layer = tmp_path / "python"
    ext = layer / "numpy" / "_core" / module.name
    vendored = layer / "numpy.libs" / "libvendored.so"
    for path in (ext, vendored):
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(module, path)

    freed, kept = prune_layer.strip_extensions(layer)

    assert kept == []
    assert freed == module.stat().st_size - ext.stat().st_size > 0
    assert vendored.read_bytes() == module.read_bytes()
    assert prune_layer.loadable(ext)
    ctypes.CDLL(str(ext))  # OSError if the loader refused it


def elf(machine: int, loads: list[tuple[int, int, int]]) -> bytes:
    """A 64-bit little-endian ELF header followed by PT_LOAD headers (offset, vaddr, align)."""
    header = bytearray(64)
    header[:6] = b"\x7fELF\x02\x01"
    struct.pack_into("<H", header, 18, machine)
    struct.pack_into("<Q", header, 0x20, 64)  # e_phoff
    struct.pack_into("<HH", header, 0x36, 56, len(loads))  # e_phentsize, e_phnum
    table = b"".join(
        struct.pack("<IIQQQQQQ", 1, 5, offset, vaddr, vaddr, 16, 16, align)
        for offset, vaddr, align in loads
    )
    return bytes(header) + table


def test_stripped_libraries_are_checked_against_the_loaders_alignment_rule(
    tmp_path: Path,
) -> None:
    good, bad = tmp_path / "good.so", tmp_path / "bad.so"
    # arm64 pages: 64 KiB. patchelf's appended segment, moved by strip: 0x1773760 vs 0x1800000.
    good.write_bytes(elf(183, [(0, 0, 0x10000), (0x1770000, 0x1800000, 0x10000)]))
    bad.write_bytes(elf(183, [(0, 0, 0x10000), (0x1773760, 0x1800000, 0x10000)]))
    (tmp_path / "script.sh").write_bytes(b"#!/bin/sh\n")

    assert prune_layer.elf_machine(good) == 183
    assert prune_layer.elf_machine(tmp_path / "script.sh") is None
    assert prune_layer.loadable(good)
    assert not prune_layer.loadable(bad)


def test_upload_mirrors_the_frontend_with_types_and_cache_policy(tmp_path: Path) -> None:
    import boto3
    from moto import mock_aws

    frontend = tmp_path / "frontend"
    for rel in ("index.html", "js/main.js", "css/app.css", "favicon.svg", "vendor/LICENSE"):
        touch(frontend / rel)
    touch(frontend / ".DS_Store")

    with mock_aws():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="dash-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        s3.put_object(Bucket="dash-bucket", Key="js/old.js", Body=b"stale")

        uploaded, stale = upload_dashboard.upload(s3, "dash-bucket", frontend)

        assert uploaded == [
            "css/app.css",
            "favicon.svg",
            "index.html",
            "js/main.js",
            "vendor/LICENSE",
        ]
        assert stale == ["js/old.js"]
        listed = s3.list_objects_v2(Bucket="dash-bucket")["Contents"]
        assert sorted(o["Key"] for o in listed) == uploaded
        heads = {key: s3.head_object(Bucket="dash-bucket", Key=key) for key in uploaded}
    assert heads["js/main.js"]["ContentType"] == "text/javascript; charset=utf-8"
    from banditkit.local import DASHBOARD_CSP

    assert {h["Metadata"]["csp"] for h in heads.values()} == {DASHBOARD_CSP}
    assert heads["index.html"]["ContentType"] == "text/html; charset=utf-8"
    assert heads["favicon.svg"]["ContentType"] == "image/svg+xml"
    assert heads["index.html"]["CacheControl"] == "no-cache"
    assert heads["css/app.css"]["CacheControl"] == "public, max-age=300"


def test_stack_settings_come_from_samconfig(tmp_path: Path) -> None:
    assert upload_dashboard.stack_settings(ROOT / "samconfig.toml", "prod") == (
        "banditkit-prod",
        None,
    )
    config = tmp_path / "samconfig.toml"
    config.write_text(
        textwrap.dedent(
            """
            version = 0.1
            [dev.deploy.parameters]
            stack_name = "mine"
            region = "us-west-2"
            """
        )
    )
    assert upload_dashboard.stack_settings(config, "dev") == ("mine", "us-west-2")
    with pytest.raises(SystemExit):
        upload_dashboard.stack_settings(config, "prod")
