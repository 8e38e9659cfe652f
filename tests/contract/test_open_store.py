"""open_store picks the backend from the URL and connects to nothing until first use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from banditkit.store import open_store
from banditkit.store.sqlite import SQLiteStore


def test_sqlite_url_with_relative_and_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    default = open_store("sqlite://")
    assert isinstance(default, SQLiteStore)
    assert default.path == ".data/banditkit.db"
    assert not (tmp_path / ".data").exists()  # lazy: nothing until the first call
    default.ping()
    assert (tmp_path / ".data" / "banditkit.db").is_file()
    default.close()

    relative = open_store("sqlite:///sub/dir/x.db?busy_timeout=0.25")
    assert isinstance(relative, SQLiteStore)
    assert (relative.path, relative.busy_timeout) == ("sub/dir/x.db", 0.25)

    absolute = open_store(f"sqlite:///{tmp_path}/abs.db")
    assert isinstance(absolute, SQLiteStore)
    assert absolute.path == f"{tmp_path}/abs.db"
    assert os.path.isabs(absolute.path)


def test_unknown_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        open_store("mysql://localhost/db")


def test_a_dynamodb_retry_mode_typo_is_refused() -> None:
    assert open_store("dynamodb://t?retry_mode=adaptive").retry_mode == "adaptive"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="retry_mode"):
        open_store("dynamodb://t?retry_mode=adaptiv")
