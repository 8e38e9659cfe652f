"""API keys with scopes, and the admin key of the reset.

Three scopes, each including the ones before it: `read` (every GET and /simulate), `write`
(daily counts and CSV imports), `admin` (experiments created, changed and deleted; reset).
Locally a key's scope is the list it is in (BANDIT_READ_KEYS, BANDIT_WRITE_KEYS,
BANDIT_API_KEYS for admin), compared in constant time. Behind API Gateway, which has
checked the key and its quota already, the scope is that of the key's id
(`requestContext.identity.apiKeyId`) in BANDIT_API_KEY_IDS. With no key of any scope
configured the API is open (the local server then binds loopback only).
"""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Header, Request
from fastapi.security import APIKeyHeader
from starlette.concurrency import run_in_threadpool

from banditkit.config import SCOPES, AppConfig
from banditkit.http.deps import ConfigDep
from banditkit.http.errors import ProblemError
from banditkit.runtime import admin_key
from banditkit.service.errors import FieldError

# Declared for OpenAPI (the Authorize button of /docs); the check itself is below.
api_key_scheme = APIKeyHeader(name="x-api-key", auto_error=False)
CHALLENGE = {"WWW-Authenticate": "ApiKey"}


def key_matches(given: str, keys: tuple[str, ...]) -> bool:
    """Constant-time comparison against every configured key (no early exit on a match)."""
    return matching_scope(given, dict.fromkeys(keys, "admin")) is not None


def matching_scope(given: str, scopes: dict[str, str]) -> str | None:
    """The scope of the key equal to `given`, comparing every key (no early exit)."""
    supplied = given.encode()
    found: str | None = None
    for key, scope in scopes.items():
        if hmac.compare_digest(supplied, key.encode()):
            found = scope
    return found


def gateway_key_id(request: Request) -> str | None:
    """The id of the API key API Gateway validated for this request (Lambda only)."""
    event: dict[str, Any] | None = request.scope.get("aws.event")
    identity = ((event or {}).get("requestContext") or {}).get("identity") or {}
    key_id = identity.get("apiKeyId")
    return key_id if isinstance(key_id, str) and key_id else None


def granted_scope(request: Request, config: AppConfig, given: str | None) -> str:
    """The scope of the caller's key: 401 without one, 403 when it is no configured key."""
    key_id = gateway_key_id(request)
    if key_id is not None and config.api_key_ids:
        scope = config.id_scopes().get(key_id)
        if scope is None:
            raise forbidden("X-Api-Key", "not a valid key")
        return scope
    missing_key(given, "X-Api-Key", "this API")
    scope = matching_scope(given or "", config.key_scopes())
    if scope is None:
        raise forbidden("X-Api-Key", "not a valid key")
    return scope


def require(needed: str) -> Any:
    """A dependency admitting keys whose scope includes `needed`."""

    async def require_scope(
        request: Request,
        config: ConfigDep,
        x_api_key: Annotated[str | None, Depends(api_key_scheme)] = None,
    ) -> None:
        if not config.auth_required:
            return
        scope = granted_scope(request, config, x_api_key)
        if SCOPES.index(scope) < SCOPES.index(needed):
            raise ProblemError(
                403,
                "forbidden",
                f"this route needs a key with the {needed} scope",
                [FieldError("X-Api-Key", f"the key's scope is {scope}")],
            )

    return Depends(require_scope)


async def require_admin(
    config: ConfigDep,
    x_admin_key: Annotated[str | None, Header(description="BANDIT_ADMIN_KEY.")] = None,
) -> None:
    """Reset is hidden (404) unless enabled with an admin key; then the key must match."""
    if not config.reset_enabled:
        raise ProblemError(404, "not-found", "no such resource")
    missing_key(x_admin_key, "X-Admin-Key", "reset")
    expected = await run_in_threadpool(admin_key, config)  # may read its secret (cached)
    if not key_matches(x_admin_key or "", (expected,)):
        raise forbidden("X-Admin-Key", "not a valid key")


def missing_key(given: str | None, header: str, what: str) -> None:
    if not given:
        raise ProblemError(
            401,
            "unauthenticated",
            f"{what} needs an {header.lower()} header",
            [FieldError(header, "missing")],
            headers=CHALLENGE if header == "X-Api-Key" else None,
        )


def forbidden(header: str, message: str) -> ProblemError:
    return ProblemError(
        403, "forbidden", f"the {header.lower()} is not valid", [FieldError(header, message)]
    )


ReadDep = require("read")
WriteDep = require("write")
AdminScopeDep = require("admin")
ApiKeyDep = ReadDep  # any valid key
AdminDep = Depends(require_admin)
