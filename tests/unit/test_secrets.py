"""banditkit.secrets: the Aurora URL comes from the database secret, in either format."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from banditkit.config import AppConfig
from banditkit.secrets import SecretFormatError, dsn_from_secret, fetch_secret, store_url

ARN_NAME = "banditkit/dsn"


def test_a_url_secret_is_used_as_is() -> None:
    url = "postgresql://app:pw@db.example:5432/bandit"
    assert dsn_from_secret(f"  {url}\n") == url


def test_rds_json_becomes_a_tls_url_with_quoted_credentials() -> None:
    secret = json.dumps(
        {
            "engine": "postgres",
            "username": "bandit app",
            "password": "p@ss:w/rd",
            "host": "cluster.abc.eu-west-1.rds.amazonaws.com",
            "port": 5433,
            "dbname": "bandit",
        }
    )
    assert dsn_from_secret(secret) == (
        "postgresql://bandit%20app:p%40ss%3Aw%2Frd@cluster.abc.eu-west-1.rds.amazonaws.com"
        ":5433/bandit?sslmode=require"
    )


def test_rds_json_defaults_port_and_database() -> None:
    secret = json.dumps({"username": "u", "password": "p", "host": "h"})
    assert dsn_from_secret(secret) == "postgresql://u:p@h:5432/postgres?sslmode=require"


@pytest.mark.parametrize(
    "value",
    ["not a url", "[1, 2]", json.dumps({"username": "u", "host": "h"}), "mysql://u:p@h/db"],
)
def test_other_secrets_are_refused(value: str) -> None:
    with pytest.raises(SecretFormatError):
        dsn_from_secret(value)


def test_store_url_prefers_the_secret_and_fetches_it_by_arn() -> None:
    seen: list[str] = []

    def fetch(arn: str) -> str:
        seen.append(arn)
        return "postgresql://u:p@h/db"

    config = AppConfig(store_url="sqlite:///x.db", database_secret_arn="arn:secret")
    assert store_url(config, fetch) == "postgresql://u:p@h/db"
    assert seen == ["arn:secret"]
    assert store_url(AppConfig(store_url="sqlite:///x.db"), fetch) == "sqlite:///x.db"
    assert seen == ["arn:secret"]


@pytest.fixture
def secrets_manager(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    import boto3
    from aws_lambda_powertools.utilities import parameters
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    parameters.clear_caches()
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        arn = client.create_secret(
            Name=ARN_NAME, SecretString=json.dumps({"username": "u", "password": "p", "host": "h"})
        )["ARN"]
        yield arn
    parameters.clear_caches()


def test_fetch_reads_secrets_manager_once_then_caches(secrets_manager: str) -> None:
    import boto3

    first = fetch_secret(secrets_manager)
    assert json.loads(first)["host"] == "h"
    boto3.client("secretsmanager", region_name="eu-west-1").put_secret_value(
        SecretId=secrets_manager, SecretString="postgresql://rotated@h/db"
    )
    assert fetch_secret(secrets_manager) == first  # cached within SECRET_MAX_AGE_SECONDS
    config = AppConfig(database_secret_arn=secrets_manager)
    assert store_url(config) == "postgresql://u:p@h:5432/postgres?sslmode=require"
