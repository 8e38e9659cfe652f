"""API-key checks: `x-api-key` against BANDIT_API_KEYS (constant time), admin key for reset.

With no keys configured the API is open (the local server then binds loopback only).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header
from fastapi.security import APIKeyHeader

from banditkit.config import AppConfig
from banditkit.http.deps import ConfigDep
from banditkit.http.errors import ProblemError
from banditkit.service import FieldError

# Declared for OpenAPI (the Authorize button of /docs); the check itself is below.
api_key_scheme = APIKeyHeader(name="x-api-key", auto_error=False)


def key_matches(given: str, keys: tuple[str, ...]) -> bool:
    """Constant-time comparison against every configured key (no early exit on a match)."""
    supplied = given.encode()
    found = False
    for key in keys:
        found |= hmac.compare_digest(supplied, key.encode())
    return found


async def require_api_key(
    config: ConfigDep,
    x_api_key: Annotated[str | None, Depends(api_key_scheme)] = None,
) -> None:
    """401 without a key, 403 with a wrong one; open when no keys are configured."""
    check_api_key(config, x_api_key)


def check_api_key(config: AppConfig, given: str | None) -> None:
    if not config.api_keys:
        return
    if not given:
        raise ProblemError(
            401,
            "unauthenticated",
            "this API needs an x-api-key header",
            [FieldError("X-Api-Key", "missing")],
            headers={"WWW-Authenticate": "ApiKey"},
        )
    if not key_matches(given, tuple(k.get_secret_value() for k in config.api_keys)):
        raise ProblemError(
            403,
            "forbidden",
            "the x-api-key is not valid",
            [FieldError("X-Api-Key", "not a valid key")],
        )


async def require_admin(
    config: ConfigDep,
    x_admin_key: Annotated[str | None, Header(description="BANDIT_ADMIN_KEY.")] = None,
) -> None:
    """Reset is hidden (404) unless enabled with an admin key; then the key must match."""
    if not config.reset_enabled or config.admin_key is None:
        raise ProblemError(404, "not-found", "no such resource")
    if not x_admin_key:
        raise ProblemError(
            401,
            "unauthenticated",
            "reset needs an x-admin-key header",
            [FieldError("X-Admin-Key", "missing")],
        )
    if not key_matches(x_admin_key, (config.admin_key.get_secret_value(),)):
        raise ProblemError(
            403,
            "forbidden",
            "the x-admin-key is not valid",
            [FieldError("X-Admin-Key", "not the admin key")],
        )


ApiKeyDep = Depends(require_api_key)
AdminDep = Depends(require_admin)
