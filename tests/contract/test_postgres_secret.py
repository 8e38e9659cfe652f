"""Aurora as deployed: the functions get host, port and database from the template
(BANDIT_STORE_URL) and only the credentials from an RDS-managed secret (moto Secrets
Manager), then talk to the real PostgreSQL of this tier. A rotated password is picked up by
the next connection without a restart."""

from __future__ import annotations

import datetime as dt
import json
import secrets as random
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import psycopg
import pytest
import yaml
from aws_lambda_powertools.utilities.parameters import base as parameters_base
from banditkit.config import AppConfig
from banditkit.runtime import close_default_stores, default_store
from banditkit.store import DailyRow, Experiment, Variant
from moto import mock_aws
from psycopg import sql

from .conftest import pg_url

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


class CfnLoader(yaml.SafeLoader):
    """Reads !Tag value as {"Tag": value}."""


def _tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.SequenceNode):
        return {suffix: loader.construct_sequence(node, deep=True)}
    if isinstance(node, yaml.MappingNode):
        return {suffix: loader.construct_mapping(node, deep=True)}
    return {suffix: loader.construct_scalar(node)}  # type: ignore[arg-type]


CfnLoader.add_multi_constructor("!", _tag)


def template_store_url(host: str, port: int, dbname: str) -> str:
    """BANDIT_STORE_URL as the template sets it for StoreBackend=postgres, for this server.
    The TLS options are left out: the test server has no certificate (the escape a local
    PostgreSQL uses, see README)."""
    template = yaml.load((ROOT / "template.yaml").read_text(), Loader=CfnLoader)
    chosen = template["Globals"]["Function"]["Environment"]["Variables"]["BANDIT_STORE_URL"]
    _, _, postgres = chosen["If"]  # !If [UseDynamoDb, dynamodb URL, postgres URL]
    url = postgres["Sub"]
    for name, value in (("DatabaseHost", host), ("DatabasePort", port), ("DatabaseName", dbname)):
        url = url.replace("${" + name + "}", str(value))
    assert "${" not in url, url
    assert "sslmode=verify-full" in url
    return url.split("?", 1)[0]


class Role:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url
        self.name = f"app_{uuid.uuid4().hex[:10]}"
        self.password = random.token_urlsafe(16)
        parts = urlsplit(admin_url)
        self.host, self.port, self.dbname = parts.hostname, parts.port, parts.path.lstrip("/")

    def admin(self, statement: sql.Composable) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(statement)

    def change_password(self) -> str:
        self.password = random.token_urlsafe(16)
        self.admin(
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(self.name), sql.Literal(self.password)
            )
        )
        return self.password

    def drop_connections(self) -> None:
        self.admin(
            sql.SQL(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = {}"
            ).format(sql.Literal(self.name))
        )


@pytest.fixture
def role() -> Iterator[Role]:
    role = Role(pg_url())
    role.admin(
        sql.SQL(
            "DO $$ BEGIN CREATE ROLE banditkit_password NOLOGIN; "
            "EXCEPTION WHEN duplicate_object THEN NULL; END $$"
        )
    )
    role.admin(
        sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} IN ROLE banditkit_password").format(
            sql.Identifier(role.name), sql.Literal(role.password)
        )
    )
    role.admin(
        sql.SQL("GRANT CREATE ON DATABASE {} TO {}").format(
            sql.Identifier(role.dbname), sql.Identifier(role.name)
        )
    )
    wrong = f"postgresql://{role.name}:wrong@{role.host}:{role.port}/{role.dbname}"
    try:
        psycopg.connect(wrong, connect_timeout=5).close()
    except psycopg.OperationalError:
        pass
    else:
        pytest.skip("this server trusts every password (scripts/with_postgres.sh enforces them)")
    yield role
    close_default_stores()
    role.drop_connections()
    role.admin(sql.SQL("DROP OWNED BY {} CASCADE").format(sql.Identifier(role.name)))
    role.admin(sql.SQL("DROP ROLE {}").format(sql.Identifier(role.name)))


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():
        monkeypatch.setenv(name, value)
    # Powertools keeps one provider (and its client, in the region of its first use) per
    # process: start from none, so an earlier test's region does not linger here
    parameters_base.DEFAULT_PROVIDERS.clear()
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="eu-west-1")
    parameters_base.DEFAULT_PROVIDERS.clear()


def rds_managed(role: Role) -> str:
    """What RDS stores in a cluster's managed master secret: credentials only."""
    return json.dumps({"username": role.name, "password": role.password})


def config_for(role: Role, arn: str) -> AppConfig:
    url = template_store_url(str(role.host), int(role.port or 5432), role.dbname)
    return AppConfig(store_url=f"{url}?schema={role.name}", database_secret_arn=arn)


def experiment(eid: str) -> Experiment:
    now = dt.datetime.now(dt.UTC)
    return Experiment(
        id=eid,
        name=eid,
        description="",
        status="running",
        variants=(Variant("a"), Variant("b")),
        variants_declared=True,
        settings={},
        created_at=now,
        updated_at=now,
    )


def test_an_rds_managed_secret_with_the_templates_host_serves_requests(
    role: Role, secrets: Any
) -> None:
    from banditkit.http.app import create_app
    from fastapi.testclient import TestClient

    arn = secrets.create_secret(Name="rds!cluster-1", SecretString=rds_managed(role))["ARN"]
    c = TestClient(create_app(config=config_for(role, arn)))
    assert (
        c.post(
            "/experiments", json={"id": "exp_1", "name": "aurora", "variants": ["a", "b"]}
        ).status_code
        == 201
    )
    body = {
        "experiment_id": "exp_1",
        "date": "2025-01-01",
        "variants": [
            {"variant_name": "a", "impressions": 100, "clicks": 3},
            {"variant_name": "b", "impressions": 100, "clicks": 5},
        ],
    }
    assert c.post("/events", json=body).status_code == 200
    r = c.get("/allocation", params={"experiment_id": "exp_1"})
    assert r.status_code == 200, r.text
    assert c.get("/health").json()["store"] == "postgres"
    # it is the role of the secret that wrote (so the password was the secret's)
    with psycopg.connect(role.admin_url) as conn:
        owner = conn.execute(
            "SELECT tableowner FROM pg_tables WHERE schemaname = %s AND tablename = 'daily'",
            (role.name,),
        ).fetchone()
    assert owner == (role.name,)


def test_a_rotated_password_is_picked_up_by_the_next_connection(
    role: Role, secrets: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from banditkit import runtime

    arn = secrets.create_secret(Name="rds!cluster-2", SecretString=rds_managed(role))["ARN"]
    reads = []
    real = runtime._get_secret

    def counted(secret_arn: str) -> str:
        reads.append(secret_arn)
        return real(secret_arn)

    monkeypatch.setattr(runtime, "_get_secret", counted)
    store = default_store(config_for(role, arn))
    store.create_experiment(experiment("exp_1"))
    assert len(reads) == 1
    # When the secret rotates (RDS changes the password, then the secret) mid-run
    role.change_password()
    secrets.put_secret_value(SecretId=arn, SecretString=rds_managed(role))
    # and the pool's connections go (server restart, max lifetime, a scale-up)
    role.drop_connections()
    # Then the next calls reconnect with the new password, read from the secret again
    store.write_daily("exp_1", [DailyRow(dt.date(2025, 1, 1), "a", 10, 1, 0)], "set")
    assert store.get_experiment("exp_1").data_version == 1
    assert reads == [arn, arn]
