"""Dependencies of the routes, declared once as `Annotated` aliases."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from banditkit.config import AppConfig, get_config
from banditkit.store import Store, open_store


def app_config(request: Request) -> AppConfig:
    """The app's configuration: the one given to create_app, else the environment's."""
    given: AppConfig | None = getattr(request.app.state, "config", None)
    return given if given is not None else get_config()


@lru_cache(maxsize=4)
def store_for(url: str) -> Store:
    """One store per URL per process, opened at first use (never at import)."""
    return open_store(url)


def app_store(request: Request) -> Store:
    """The app's store: the one given to create_app, else one opened from the config's URL."""
    given: Store | None = getattr(request.app.state, "store", None)
    return given if given is not None else store_for(app_config(request).store_url)


ConfigDep = Annotated[AppConfig, Depends(app_config)]
StoreDep = Annotated[Store, Depends(app_store)]
