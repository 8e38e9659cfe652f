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
