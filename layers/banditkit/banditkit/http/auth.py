"""API-key checks: `x-api-key` against BANDIT_API_KEYS (constant time), admin key for reset.

With no keys configured the API is open (the local server then binds loopback only).
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header
from fastapi.security import APIKeyHeader

from banditkit.http.deps import ConfigDep
from banditkit.http.errors import ProblemError
from banditkit.service.errors import FieldError

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
    if config.api_keys:
        keys = tuple(k.get_secret_value() for k in config.api_keys)
        check_key(x_api_key, keys, "X-Api-Key", "this API", {"WWW-Authenticate": "ApiKey"})


async def require_admin(
    config: ConfigDep,
    x_admin_key: Annotated[str | None, Header(description="BANDIT_ADMIN_KEY.")] = None,
) -> None:
    """Reset is hidden (404) unless enabled with an admin key; then the key must match."""
    if not config.reset_enabled or config.admin_key is None:
        raise ProblemError(404, "not-found", "no such resource")
    check_key(x_admin_key, (config.admin_key.get_secret_value(),), "X-Admin-Key", "reset")


def check_key(
    given: str | None,
    keys: tuple[str, ...],
    header: str,
    what: str,
    challenge: dict[str, str] | None = None,
) -> None:
    """401 when the `header` key is missing, 403 when it is none of `keys`."""
    if not given:
        raise ProblemError(
            401,
            "unauthenticated",
            f"{what} needs an {header.lower()} header",
            [FieldError(header, "missing")],
            headers=challenge,
        )
    if not key_matches(given, keys):
        raise ProblemError(
            403,
            "forbidden",
            f"the {header.lower()} is not valid",
            [FieldError(header, "not a valid key")],
        )


ApiKeyDep = Depends(require_api_key)
AdminDep = Depends(require_admin)
