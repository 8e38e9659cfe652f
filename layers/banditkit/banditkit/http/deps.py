"""Dependencies of the routes, declared once as `Annotated` aliases."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends, Request

from banditkit.config import AppConfig, get_config
from banditkit.secrets import store_url
from banditkit.store import Store, open_store


def config_of(request: Request) -> AppConfig:
    """The app's configuration: the one given to create_app, else the environment's."""
    given: AppConfig | None = getattr(request.app.state, "config", None)
    return given if given is not None else get_config()


# The dependencies are async on purpose: they never block (no I/O; open_store connects
# lazily), and FastAPI would otherwise hop to the threadpool once per sync dependency.
async def app_config(request: Request) -> AppConfig:
    return config_of(request)


@lru_cache(maxsize=4)
def store_for(url: str) -> Store:
    """One store per URL per process, opened at first use (never at import)."""
    return open_store(url)


async def app_store(request: Request) -> Store:
    """The app's store: the one given to create_app, else one opened from the config's URL
    (or, on Aurora, from the database secret: banditkit.secrets)."""
    given: Store | None = getattr(request.app.state, "store", None)
    return given if given is not None else store_for(store_url(config_of(request)))


ConfigDep = Annotated[AppConfig, Depends(app_config)]
StoreDep = Annotated[Store, Depends(app_store)]
