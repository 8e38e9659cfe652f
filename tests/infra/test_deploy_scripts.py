"""The two scripts `make sam-build` and `make deploy` run: layer pruning and the dashboard
upload (against moto's S3)."""

from __future__ import annotations

import struct
import subprocess
import textwrap
from pathlib import Path

import prune_layer
import pytest
import upload_dashboard

pytestmark = pytest.mark.infra

ROOT = Path(__file__).resolve().parents[2]


def touch(path: Path, size: int = 10) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)


def test_prune_removes_tests_stubs_build_files_and_unused_subpackages_only(
    tmp_path: Path,
) -> None:
    keep = [
        "banditkit/tests/keep.py",  # ours is never touched
        "banditkit/__init__.pyi",
        "numpy/__init__.py",
        "numpy/__pycache__/__init__.cpython-313.pyc",
        "numpy/_core/_multiarray_umath.cpython-313-aarch64-linux-gnu.so",
        "numpy/polynomial/legendre.py",
        "numpy/linalg/_linalg.py",
        "pydantic/main.py",
        "aws_lambda_powertools/logging/logger.py",
        "aws_lambda_powertools/utilities/parameters/secrets.py",
        "aws_lambda_powertools/utilities/jmespath_utils/__init__.py",
        "aws_lambda_powertools/utilities/typing/lambda_context.py",
        "aws_xray_sdk/core/__init__.py",
        "sixteen/__init__.py",
    ]
    drop = [
        "numpy/_core/tests/test_a.py",
        "numpy/linalg/tests/test_b.py",
        "numpy/__init__.pyi",
        "numpy/f2py/__init__.py",
        "numpy/_core/include/numpy/ndarraytypes.h",
        "numpy/_core/lib/libnpymath.a",
        "numpy/_core/_umath_tests.cpython-313-aarch64-linux-gnu.so",
        "pydantic_core/core_schema.pyi",
        "numpy/random/_bounded_integers.pxd",
        "numpy/_core/_simd.cpython-313-aarch64-linux-gnu.so",
        "botocore/__init__.py",
        "botocore-1.44.8.dist-info/METADATA",
        "dateutil/parser.py",
        "python_dateutil-2.9.0.post0.dist-info/RECORD",
        "six.py",
        "jmespath-1.1.0.data/scripts/jp.py",
        "numpy/testing/utils.py",
        "numpy/fft/_pocketfft.py",
        "pydantic/v1/main.py",
        "aws_lambda_powertools/event_handler/api_gateway.py",
        "aws_lambda_powertools/utilities/parser/models/s3.py",
        "aws_lambda_powertools/utilities/idempotency/base.py",
    ]
    for rel in keep + drop:
        touch(tmp_path / rel)

    freed = prune_layer.prune(tmp_path)

    assert freed == 10 * len(drop)
    assert [rel for rel in keep if not (tmp_path / rel).exists()] == []
    assert [rel for rel in drop if (tmp_path / rel).exists()] == []


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


def patchelfed_library() -> tuple[bytes, list[tuple[int, int, bytes]]]:
    """A library shaped as auditwheel's patchelf leaves OpenBLAS: code in a first segment,
    then .symtab, .shstrtab and .strtab outside any segment, then an appended segment holding
    .dynsym (64 KiB alignment). Returns the file and its segments (offset, address, bytes)."""
    align = 0x10000
    code, dynsym = bytes(range(256)) * 16, b"D" * 0x300
    symtab, strtab = b"S" * 0x30000, b"\0main\0" + b"T" * 0x8000
    names = b"\0.text\0.symtab\0.strtab\0.shstrtab\0.dynsym\0"
    text_at, symtab_at = 0x1000, 0x1000 + len(code)
    shstrtab_at = symtab_at + len(symtab)
    strtab_at = shstrtab_at + len(names)
    dyn_at, dyn_addr = 0x50000, 0x60000  # congruent modulo 64 KiB
    shoff = dyn_at + len(dynsym)
    data = bytearray(shoff)
    data[text_at : text_at + len(code)] = code
    data[symtab_at:shstrtab_at] = symtab
    data[shstrtab_at:strtab_at] = names
    data[strtab_at : strtab_at + len(strtab)] = strtab
    data[dyn_at:shoff] = dynsym
    data[:4], data[4:6], data[18:20] = b"\x7fELF", b"\x02\x01", (183).to_bytes(2, "little")
    struct.pack_into("<QQ", data, 0x20, 64, shoff)  # e_phoff, e_shoff
    struct.pack_into("<HHHHH", data, 0x36, 56, 2, 64, 6, 4)  # e_shstrndx = 4
    segments = [(0, 0, bytes(data[: text_at + len(code)])), (dyn_at, dyn_addr, dynsym)]
    for i, (offset, address, body) in enumerate(segments):
        struct.pack_into(
            "<IIQQQQQQ",
            data,
            64 + 56 * i,
            1,
            5,
            offset,
            address,
            address,
            len(body),
            len(body),
            align,
        )
    sections = [
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
        (1, 1, 0x6, text_at, text_at, len(code), 0, 0, 16, 0),  # .text (alloc)
        (7, 2, 0, 0, symtab_at, len(symtab), 3, 1, 8, 24),  # .symtab -> .strtab
        (15, 3, 0, 0, strtab_at, len(strtab), 0, 0, 1, 0),
        (23, 3, 0, 0, shstrtab_at, len(names), 0, 0, 1, 0),
        (33, 11, 0x2, dyn_addr, dyn_at, len(dynsym), 0, 0, 8, 24),  # .dynsym (alloc)
    ]
    for fields in sections:
        data += struct.pack("<IIQQQQIIQQ", *fields)
    # The segment table was written after the first segment's bytes were taken: refresh them.
    segments[0] = (0, 0, bytes(data[: text_at + len(code)]))
    return bytes(data), segments


def test_drop_symtab_keeps_every_segment_aligned_and_byte_for_byte(tmp_path: Path) -> None:
    original, segments = patchelfed_library()
    compacted = prune_layer.drop_symtab(original)
    assert compacted is not None
    path = tmp_path / "lib.so"
    path.write_bytes(compacted)

    assert prune_layer.loadable(path)
    # .symtab and .strtab (0x38000 bytes) are gone: the appended segment moved down by 0x40000,
    # to the first offset after the code congruent to its address modulo 64 KiB.
    assert len(original) - len(compacted) >= 0x38000
    phoff, shoff = struct.unpack_from("<QQ", compacted, 0x20)
    loads = [struct.unpack_from("<IIQQQQQQ", compacted, phoff + 56 * i) for i in range(2)]
    assert [(ph[2], ph[3]) for ph in loads] == [(0, 0), (0x10000, 0x60000)]
    headers = 64 + 56 * 2  # in the first segment; their offsets change, nothing else does
    for ph, (_, address, body) in zip(loads, segments, strict=True):
        skip = headers if address == 0 else 0
        assert ph[3] == address
        assert compacted[ph[2] + skip : ph[2] + ph[5]] == body[skip:]
    shdrs = [struct.unpack_from("<IIQQQQIIQQ", compacted, shoff + 64 * i) for i in range(6)]
    assert [sh[1] for sh in shdrs] == [0, 1, 0, 0, 3, 11]  # .symtab, .strtab: NULL
    names = shdrs[4]
    assert compacted[names[4] : names[4] + names[5]].startswith(b"\0.text\0.symtab\0")
    assert shdrs[5][4] == 0x10000  # .dynsym moved with its segment
    # Nothing to drop, or a library of another shape: left alone.
    assert prune_layer.drop_symtab(compacted) is None
    assert prune_layer.drop_symtab(b"#!/bin/sh\n") is None


def test_bytecode_is_written_for_the_listed_modules_only(tmp_path: Path, py313: Path) -> None:
    layer, listing = tmp_path / "python", tmp_path / "modules.txt"
    for rel in ("a.py", "pkg/__init__.py", "pkg/b.py", "unused.py"):
        (layer / rel).parent.mkdir(parents=True, exist_ok=True)
        (layer / rel).write_text("X = 1\n")
    touch(layer / "__pycache__" / "unused.cpython-313.pyc")  # left by an earlier build
    listing.write_text("# comment\na.py\npkg/b.py\ngone.py\n")

    script_path = ROOT / "scripts" / "layer_bytecode.py"
    run = subprocess.run(
        [str(py313), str(script_path), "compile", str(layer), "--modules", str(listing)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    compiled = sorted(p.relative_to(layer).as_posix() for p in layer.rglob("*.pyc"))
    assert compiled == ["__pycache__/a.cpython-313.pyc", "pkg/__pycache__/b.cpython-313.pyc"]
    assert "bytecode of 2 modules" in run.stdout
    assert "1 listed module(s) not in the layer, e.g. gone.py" in run.stderr
    # Unchecked-hash bytecode (PEP 552 flags 0b01): Lambda never compares it with the source.
    flags = int.from_bytes((layer / compiled[0]).read_bytes()[4:8], "little")
    assert flags == 0b01


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
