"""What the running process keeps: its stores, one per configuration, opened at first use.

On Aurora the deployment gives BANDIT_DATABASE_SECRET_ARN instead of a URL with a password:
the secret (a postgresql:// URL, or the JSON of an RDS credentials secret, whose host, port
and database may come from BANDIT_STORE_URL) is read from Secrets Manager through Powertools
Parameters at first use, again after `SECRET_TTL` seconds, and at once when a new
connection fails (a rotated password), so a rotation needs no deployment. Free of FastAPI,
so that the scheduled recompute job opens its store without loading the web stack;
`banditkit.http.deps` serves these stores to the routes.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlsplit

from banditkit.config import AppConfig, ConfigError
from banditkit.store import Store, open_store

_stores: dict[tuple[str, str | None], Store] = {}
_lock = threading.Lock()
SECRET_TTL = 300.0  # seconds a secret is trusted before it is read again


def url_from_secret(secret: str, fallback_url: str) -> str:
    """A PostgreSQL URL from a secret: the secret itself when it is a URL, else the JSON of an
    RDS secret (username, password, and host/port/dbname, which default to those of
    `fallback_url` when it is a postgresql:// URL, whose options, such as sslmode, are kept)."""
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
    query = f"?{base.query}" if base and base.query else ""
    return (
        f"postgresql://{quote(username, safe='')}:{quote(password, safe='')}@{host}:{port}/{dbname}"
        + query
    )


def _get_secret(arn: str) -> str:
    from aws_lambda_powertools.utilities import parameters  # only on Aurora, at first use

    # SecretValue keeps its own expiry; Powertools' cache would only delay a re-read.
    return str(parameters.get_secret(arn, force_fetch=True))


class SecretValue:
    """A value read from a secret: kept `ttl` seconds; `value(fresh=True)` reads it again now
    (after a failed connection), at most once per `min_interval` seconds."""

    def __init__(
        self,
        read: Callable[[], str],
        ttl: float = SECRET_TTL,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.ttl = ttl
        self.min_interval = min_interval
        self.clock = clock
        self._value: str | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def value(self, fresh: bool = False) -> str:
        with self._lock:
            age = self.clock() - self._read_at
            stale = age >= self.ttl or (fresh and age >= self.min_interval)
            if self._value is None or stale:
                self._value = self.read()
                self._read_at = self.clock()
            return self._value


def store_url(config: AppConfig, get_secret: Callable[[str], str] = _get_secret) -> str:
    """The store URL of the configuration (reading the database secret when there is one)."""
    if not config.database_secret_arn:
        return config.store_url
    return url_from_secret(get_secret(config.database_secret_arn), config.store_url)


def opened_store(config: AppConfig) -> Store | None:
    """The store of this configuration if the process has opened it already (never blocks)."""
    return _stores.get((config.store_url, config.database_secret_arn))


def open_default_store(config: AppConfig, get_secret: Callable[[str], str] | None = None) -> Store:
    """The configuration's store; with a database secret, a PostgreSQL store whose new
    connections use the secret as it is now (see the module doc)."""
    if not config.database_secret_arn:
        return open_store(config.store_url)
    from banditkit.store.postgres import PostgresStore

    secret = SecretValue(lambda: store_url(config, get_secret or _get_secret))
    return PostgresStore(secret.value(), url_source=secret.value)


def default_store(config: AppConfig) -> Store:
    """One store per configuration per process, opened at first use. May block (secret)."""
    key = (config.store_url, config.database_secret_arn)
    with _lock:
        store = _stores.get(key)
        if store is None:
            store = _stores[key] = open_default_store(config)
        return store


_admin_keys: dict[str, SecretValue] = {}


def admin_key(config: AppConfig, get_secret: Callable[[str], str] | None = None) -> str:
    """The reset's admin key: BANDIT_ADMIN_KEY, or the secret BANDIT_ADMIN_KEY_SECRET_ARN
    names (read at first use, then every SECRET_TTL seconds). May block."""
    if config.admin_key is not None:
        return config.admin_key.get_secret_value()
    arn = config.admin_key_secret_arn
    if arn is None:
        raise ConfigError("BANDIT_ADMIN_KEY: reset needs an admin key")
    with _lock:
        secret = _admin_keys.get(arn)
        if secret is None:
            read = get_secret or _get_secret
            secret = _admin_keys[arn] = SecretValue(lambda: read(arn).strip())
    return secret.value()


def close_default_stores() -> None:
    """Close and forget the process's stores (tests, shutdown)."""
    with _lock:
        for store in _stores.values():
            store.close()
        _stores.clear()
        _admin_keys.clear()
