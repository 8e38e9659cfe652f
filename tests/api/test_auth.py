"""Either configured key works; /health stays open; the constant-time comparison.
(Every route's missing/wrong key and the reset's rules: test_security.py.)"""

from __future__ import annotations

import pytest
from banditkit.http.auth import key_matches

KEY = "k-123456"
OTHER = "k-654321"
ADMIN = "admin-key-0123456789"


@pytest.fixture
def locked(make_client, api):
    api.create(id="exp_1", variants=["a"])
    return make_client(api_keys=f"{KEY}, {OTHER}", admin_key=ADMIN, enable_reset=True)


def test_either_configured_key_works(locked) -> None:
    for key in (KEY, OTHER):
        r = locked.get("/experiments/exp_1", headers={"x-api-key": key})
        assert r.status_code == 200
        assert r.json()["id"] == "exp_1"


def test_health_is_open_and_says_auth_is_required(locked) -> None:
    r = locked.get("/health")
    assert r.status_code == 200
    assert r.json()["auth_required"] is True
    assert r.json()["reset_enabled"] is True


def test_key_comparison() -> None:
    assert key_matches("a", ("b", "a"))
    assert not key_matches("a", ("b", "ab", ""))
    assert not key_matches("", ())
