"""What the running process keeps: its stores, one per configuration, opened at first use.

On Aurora the deployment gives BANDIT_DATABASE_SECRET_ARN instead of a URL with a password:
the secret (a postgresql:// URL, or the JSON of an RDS credentials secret) is read once from
Secrets Manager through Powertools Parameters. Free of FastAPI, so that the scheduled
recompute job opens its store without loading the web stack; `banditkit.http.deps` serves
these stores to the routes.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from banditkit.config import AppConfig, ConfigError
from banditkit.store import Store, open_store

_stores: dict[tuple[str, str | None], Store] = {}
_lock = threading.Lock()


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


def _get_secret(arn: str) -> str:
    from aws_lambda_powertools.utilities import parameters  # only on Aurora, at first use

    return str(parameters.get_secret(arn))


def store_url(config: AppConfig, get_secret: Callable[[str], str] = _get_secret) -> str:
    """The store URL of the configuration (reading the database secret when there is one)."""
    if not config.database_secret_arn:
        return config.store_url
    return url_from_secret(get_secret(config.database_secret_arn), config.store_url)


def opened_store(config: AppConfig) -> Store | None:
    """The store of this configuration if the process has opened it already (never blocks)."""
    return _stores.get((config.store_url, config.database_secret_arn))


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
