"""Aurora: the store URL comes from the Secrets Manager secret named by the configuration."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from banditkit.config import AppConfig, ConfigError
from banditkit.runtime import close_default_stores, default_store, store_url, url_from_secret
from moto import mock_aws

ARN_NAME = "banditkit/db"


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def config(arn: str, url: str = "sqlite:///unused.db") -> AppConfig:
    return AppConfig(store_url=url, database_secret_arn=arn, api_keys="", cors_origins="")  # type: ignore[arg-type]


def test_url_secret(secrets) -> None:
    arn = secrets.create_secret(
        Name=ARN_NAME, SecretString="postgresql://app:pw@db.internal:5432/bandit"
    )["ARN"]
    assert store_url(config(arn)) == "postgresql://app:pw@db.internal:5432/bandit"


def test_rds_json_secret_with_host(secrets) -> None:
    secret = {
        "username": "app",
        "password": "p@ss/word",
        "engine": "postgres",
        "host": "cluster.example",
        "port": 5433,
        "dbname": "bandit",
    }
    arn = secrets.create_secret(Name=ARN_NAME, SecretString=json.dumps(secret))["ARN"]
    assert store_url(config(arn)) == ("postgresql://app:p%40ss%2Fword@cluster.example:5433/bandit")


def test_managed_secret_takes_host_from_the_store_url(secrets) -> None:
    arn = secrets.create_secret(
        Name=ARN_NAME, SecretString=json.dumps({"username": "app", "password": "pw"})
    )["ARN"]
    cfg = config(arn, "postgresql://cluster.example:5432/bandit")
    assert store_url(cfg) == "postgresql://app:pw@cluster.example:5432/bandit"
    with pytest.raises(ConfigError, match="no host"):
        store_url(config(arn))


def test_default_store_reads_the_secret_once(secrets) -> None:
    arn = secrets.create_secret(
        Name=ARN_NAME, SecretString="postgresql://app:pw@127.0.0.1:9/bandit"
    )["ARN"]
    cfg = config(arn)
    try:
        store = default_store(cfg)  # opens lazily: no connection is made here
        assert store.name == "postgres"
        assert default_store(cfg) is store
    finally:
        close_default_stores()


@pytest.mark.parametrize("secret", ["not a url", '{"username": "x"}', "[1, 2]"])
def test_bad_secret_is_a_config_error(secret: str) -> None:
    with pytest.raises(ConfigError, match="BANDIT_DATABASE_SECRET_ARN"):
        url_from_secret(secret, "sqlite:///x.db")


def test_without_a_secret_the_url_is_used() -> None:
    cfg = AppConfig(store_url="sqlite:///a.db", api_keys="", cors_origins="")  # type: ignore[arg-type]
    assert (
        store_url(cfg, get_secret=lambda arn: pytest.fail("no secret to read")) == "sqlite:///a.db"
    )


def test_reset_admin_key_is_read_from_its_secret_and_cached(
    secrets, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from banditkit import runtime
    from banditkit.http.app import create_app
    from banditkit.store import open_store
    from fastapi.testclient import TestClient

    arn = secrets.create_secret(Name="banditkit/admin", SecretString="admin-key-0123456789")["ARN"]
    reads: list[str] = []
    real = runtime._get_secret

    def counted(secret_arn: str) -> str:
        reads.append(secret_arn)
        return real(secret_arn)

    monkeypatch.setattr(runtime, "_get_secret", counted)
    store = open_store(f"sqlite:///{tmp_path}/a.db")
    cfg = AppConfig(
        store_url="sqlite:///unused.db",
        api_keys="",  # type: ignore[arg-type]
        cors_origins="",  # type: ignore[arg-type]
        enable_reset=True,
        admin_key_secret_arn=arn,
    )
    assert cfg.reset_enabled
    c = TestClient(create_app(store=store, config=cfg))
    try:
        assert c.get("/health").json()["reset_enabled"] is True
        assert c.post("/reset_data", headers={"x-admin-key": "wrong-key-0000"}).status_code == 403
        r = c.post("/reset_data", headers={"x-admin-key": "admin-key-0123456789"})
        assert r.status_code == 200, r.text
        assert reads == [arn]  # once: cached for SECRET_TTL
    finally:
        close_default_stores()
        store.close()


def test_secret_value_is_read_again_after_its_ttl_and_when_asked() -> None:
    from banditkit.runtime import SecretValue

    now = [0.0]
    values = iter(["v1", "v2", "v3", "v4"])
    secret = SecretValue(lambda: next(values), ttl=300.0, min_interval=1.0, clock=lambda: now[0])
    assert secret.value() == "v1"
    now[0] = 299.0
    assert secret.value() == "v1"
    now[0] = 300.0
    assert secret.value() == "v2"  # the TTL
    now[0] = 300.5
    assert secret.value(fresh=True) == "v2"  # asked again too soon: at most once a second
    now[0] = 301.0
    assert secret.value(fresh=True) == "v3"  # after a failed connection
