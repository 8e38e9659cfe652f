"""The service's own errors; `banditkit.http.errors` maps them (and the store's) to
problem+json. Nothing in the service knows HTTP."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence


@dataclasses.dataclass(frozen=True)
class FieldError:
    field: str
    message: str


class ServiceError(Exception):
    """Base of the service's own errors."""


class InvalidRequest(ServiceError):
    """The request is well-formed but breaks a rule (422); `errors` names each field."""

    def __init__(self, errors: Sequence[FieldError], detail: str = "") -> None:
        self.errors = tuple(errors)
        self.detail = detail or "; ".join(f"{e.field}: {e.message}" for e in self.errors)
        super().__init__(self.detail)


class PayloadTooLarge(ServiceError):
    """The request asks for more work or data than the caps allow (413); `errors` names
    the field to lower, when one does."""

    def __init__(self, detail: str, errors: Sequence[FieldError] = ()) -> None:
        self.errors = tuple(errors)
        super().__init__(detail)


class NoVariants(ServiceError):
    """The experiment has no variants yet, so there is nothing to assign (409)."""
