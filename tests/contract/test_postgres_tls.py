"""TLS to PostgreSQL as the functions use it on Aurora: `sslmode=verify-full` against a CA
bundle, through the same path as the deployed URL (the template's BANDIT_STORE_URL options
kept when the credentials come from a secret). The test server's certificate comes from a
CA that scripts/with_postgres.sh makes; the shipped RDS bundle must refuse it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from banditkit.runtime import url_from_secret
from banditkit.store import StoreUnavailable
from banditkit.store.postgres import PostgresStore

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
RDS_BUNDLE = ROOT / "layers/banditkit/banditkit/certs/rds-global-bundle.pem"


def tls_server() -> tuple[str, str]:
    url, ca = os.environ.get("BANDIT_TEST_PG_URL"), os.environ.get("BANDIT_TEST_PG_CA")
    if not url or not ca:
        if os.environ.get("CI"):
            pytest.fail("run under scripts/with_postgres.sh (it makes the server's CA)")
        pytest.skip("BANDIT_TEST_PG_URL / BANDIT_TEST_PG_CA not set")
    return url, ca


def store_for(rootcert: str | Path, mode: str = "verify-full") -> PostgresStore:
    url, _ = tls_server()
    host_url = url.split("@", 1)[1]  # 127.0.0.1:PORT/postgres
    fallback = f"postgresql://{host_url}?sslmode={mode}&sslrootcert={rootcert}"
    # as on AWS: credentials from the secret, host and TLS options from BANDIT_STORE_URL
    return PostgresStore(url_from_secret('{"username": "postgres", "password": "x"}', fallback))


def uses_tls(store: PostgresStore) -> bool:
    row = store._run(
        lambda conn: conn.execute(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
        ).fetchone(),
        repeatable=True,
    )
    return bool(row and row[0])


def test_verify_full_with_the_servers_ca_connects_over_tls() -> None:
    _, ca = tls_server()
    store = store_for(ca)
    try:
        store.ping()
        assert uses_tls(store)
    finally:
        store.close()


def test_a_server_the_bundle_does_not_vouch_for_is_refused() -> None:
    tls_server()
    store = store_for(RDS_BUNDLE)  # the RDS CAs did not sign the test server's certificate
    try:
        with pytest.raises(StoreUnavailable):
            store.ping()
    finally:
        store.close()


def test_the_local_escape_connects_without_a_certificate() -> None:
    """A local PostgreSQL without TLS: BANDIT_STORE_URL with sslmode=disable (README)."""
    tls_server()
    store = store_for("unused", mode="disable")
    try:
        store.ping()
        assert not uses_tls(store)
    finally:
        store.close()


def test_the_shipped_bundle_holds_the_rds_root_cas() -> None:
    text = RDS_BUNDLE.read_text()
    assert text.count("-----BEGIN CERTIFICATE-----") >= 100
    # the current roots (RSA2048, RSA4096, ECC384 G1) of a region, in PEM
    import subprocess

    subjects = subprocess.run(
        ["openssl", "storeutl", "-noout", "-text", "-certs", str(RDS_BUNDLE)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for kind in ("RSA2048 G1", "RSA4096 G1", "ECC384 G1"):
        assert f"CN=Amazon RDS eu-west-1 Root CA {kind}" in subjects, kind
