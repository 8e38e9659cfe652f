"""Dependencies of the routes, declared once as `Annotated` aliases.

The store is the process's (`banditkit.runtime`: opened at first use, never at import, the
Aurora secret read once), unless create_app was given one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from banditkit.config import AppConfig, get_config
from banditkit.runtime import default_store, opened_store
from banditkit.store import Store


def config_of(request: Request) -> AppConfig:
    """The app's configuration: the one given to create_app, else the environment's."""
    given: AppConfig | None = getattr(request.app.state, "config", None)
    return given if given is not None else get_config()


# The dependencies are async on purpose: they never block on the loop (a first store open
# that may read a secret goes to the threadpool), and FastAPI would otherwise hop to the
# threadpool once per sync dependency.
async def app_config(request: Request) -> AppConfig:
    return config_of(request)


async def app_store(request: Request) -> Store:
    """The app's store: the one given to create_app, else the process's default store."""
    given: Store | None = getattr(request.app.state, "store", None)
    if given is not None:
        return given
    config = config_of(request)
    opened = opened_store(config)
    return opened if opened is not None else await run_in_threadpool(default_store, config)


ConfigDep = Annotated[AppConfig, Depends(app_config)]
StoreDep = Annotated[Store, Depends(app_store)]
