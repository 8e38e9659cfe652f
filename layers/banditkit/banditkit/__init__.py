"""banditkit: a Thompson-sampling traffic allocator for A/B tests.

`banditkit.Client` is the Python client of the API (banditkit/client.py), loaded on first
use: the Lambda handlers import this package and never load it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from banditkit.client import ApiError as ApiError
    from banditkit.client import Client as Client

__all__ = ["ApiError", "Client", "__version__"]


def __getattr__(name: str) -> Any:
    if name in ("Client", "ApiError"):
        from banditkit import client

        return getattr(client, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
