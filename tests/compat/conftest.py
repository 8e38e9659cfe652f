"""Fixtures of the clients tier: the real local server (`python -m banditkit.local`) on a
temporary SQLite file and a free 127.0.0.1 port, as the original API's clients, the Python
client and the CLI meet it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api import serve  # bench/api.py: the local server on a free loopback port

API_KEY = "compat-key"
_ids = itertools.count(1000)


@pytest.fixture(scope="session")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db = tmp_path_factory.mktemp("compat") / "compat.db"
    with serve(f"sqlite:///{db}", {"BANDIT_API_KEYS": API_KEY}) as (port, _):
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, headers={"x-api-key": API_KEY}, timeout=30) as c:
        yield c


@pytest.fixture
def int_id() -> int:
    """A fresh integer id, as the original API issued them."""
    return next(_ids)


@pytest.fixture
def tmp_csv(tmp_path: Path) -> Path:
    return tmp_path / "upload.csv"
