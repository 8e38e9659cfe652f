"""Dependencies of the routes, declared once as `Annotated` aliases, and the process's store.

The store is opened at first use, never at import. On Aurora the deployment gives
BANDIT_DATABASE_SECRET_ARN instead of a URL with a password: the secret (a postgresql://
URL, or the JSON of an RDS credentials secret) is read once from Secrets Manager.
"""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from banditkit.config import AppConfig, ConfigError, get_config
from banditkit.store import Store, open_store

_stores: dict[tuple[str, str | None], Store] = {}
_lock = threading.Lock()


def config_of(request: Request) -> AppConfig:
    """The app's configuration: the one given to create_app, else the environment's."""
    given: AppConfig | None = getattr(request.app.state, "config", None)
    return given if given is not None else get_config()


def url_from_secret(secret: str, fallback_url: str) -> str:
    """A PostgreSQL URL from a secret: the secret itself when it is a URL, else the JSON of an
    RDS secret (username, password, and host/port/dbname, which default to those of
    `fallback_url` when it is a postgresql:// URL)."""
    text = secret.strip()
    if text.startswith(("postgresql://", "postgres://")):
        return text
    try:
        fields: dict[str, Any] = json.loads(text)
        username, password = str(fields["username"]), str(fields["password"])
    except (ValueError, KeyError, TypeError):
        raise ConfigError(
            "BANDIT_DATABASE_SECRET_ARN: the secret is neither a postgresql:// URL nor JSON "
            "with username and password"
        ) from None
    base = urlsplit(fallback_url) if fallback_url.startswith("postgres") else None
    host = fields.get("host") or (base.hostname if base else None)
    if not host:
        raise ConfigError(
            "BANDIT_DATABASE_SECRET_ARN: the secret has no host; put one in the secret or in "
            "BANDIT_STORE_URL (postgresql://HOST:PORT/DB)"
        )
    port = fields.get("port") or (base.port if base else None) or 5432
    dbname = fields.get("dbname") or (base.path.lstrip("/") if base else "") or "postgres"
    return (
        f"postgresql://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{port}/{dbname}"
    )


def store_url(config: AppConfig, secrets_client: Any = None) -> str:
    """The store URL of the configuration (reading the database secret when there is one)."""
    if not config.database_secret_arn:
        return config.store_url
    if secrets_client is None:
        import boto3

        secrets_client = boto3.client("secretsmanager")
    value = secrets_client.get_secret_value(SecretId=config.database_secret_arn)
    return url_from_secret(value["SecretString"], config.store_url)


def default_store(config: AppConfig) -> Store:
    """One store per configuration per process, opened at first use. May block (secret)."""
    key = (config.store_url, config.database_secret_arn)
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = open_store(store_url(config))
        return store


def close_default_stores() -> None:
    """Close and forget the process's stores (tests, shutdown)."""
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()


# The dependencies are async on purpose: they never block on the loop (a first store open
# that may read a secret goes to the threadpool), and FastAPI would otherwise hop to the
# threadpool once per sync dependency.
async def app_config(request: Request) -> AppConfig:
    return config_of(request)


async def app_store(request: Request) -> Store:
    """The app's store: the one given to create_app, else the process's default store."""
    given: Store | None = getattr(request.app.state, "store", None)
    if given is not None:
        return given
    config = config_of(request)
    opened = _stores.get((config.store_url, config.database_secret_arn))
    return opened if opened is not None else await run_in_threadpool(default_store, config)


ConfigDep = Annotated[AppConfig, Depends(app_config)]
StoreDep = Annotated[Store, Depends(app_store)]
