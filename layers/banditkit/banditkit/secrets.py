"""The Aurora PostgreSQL URL, read from Secrets Manager at first use and cached.

With StoreBackend=postgres, template.yaml sets BANDIT_DATABASE_SECRET_ARN instead of a store
URL, so no credential sits in the function's configuration. The secret holds either the URL
itself or the JSON an RDS-managed secret stores (`username`, `password`, `host`, `port`,
`dbname`). Powertools Parameters caches the value for SECRET_MAX_AGE_SECONDS, so a rotated
password is picked up within minutes without a call per request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from urllib.parse import quote

from banditkit.config import AppConfig

SECRET_MAX_AGE_SECONDS = 300
DEFAULT_PORT = 5432
DEFAULT_DBNAME = "postgres"


class SecretFormatError(ValueError):
    """The secret holds neither a postgresql:// URL nor RDS's JSON credentials."""


def dsn_from_secret(value: str) -> str:
    """A postgresql:// URL from the secret's text (a URL, or RDS's JSON)."""
    text = value.strip()
    if text.startswith(("postgresql://", "postgres://")):
        return text
    try:
        fields = json.loads(text)
    except json.JSONDecodeError:
        raise SecretFormatError("the secret is neither a postgresql:// URL nor JSON") from None
    if not isinstance(fields, dict):
        raise SecretFormatError("the secret's JSON is not an object")
    missing = [key for key in ("username", "password", "host") if not fields.get(key)]
    if missing:
        raise SecretFormatError(f"the secret's JSON lacks {', '.join(missing)}")
    user = quote(str(fields["username"]), safe="")
    password = quote(str(fields["password"]), safe="")
    port = int(fields.get("port") or DEFAULT_PORT)
    dbname = quote(str(fields.get("dbname") or DEFAULT_DBNAME), safe="")
    # Aurora speaks TLS; require it rather than psycopg's default of "prefer".
    return f"postgresql://{user}:{password}@{fields['host']}:{port}/{dbname}?sslmode=require"


def fetch_secret(arn: str) -> str:
    """The secret's current text, through Powertools Parameters (cached for a while)."""
    from aws_lambda_powertools.utilities import parameters

    return str(parameters.get_secret(arn, max_age=SECRET_MAX_AGE_SECONDS))


def store_url(config: AppConfig, fetch: Callable[[str], str] = fetch_secret) -> str:
    """The store URL to open: from the secret when BANDIT_DATABASE_SECRET_ARN is set,
    else BANDIT_STORE_URL."""
    if config.database_secret_arn:
        return dsn_from_secret(fetch(config.database_secret_arn))
    return config.store_url
