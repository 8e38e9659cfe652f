"""Model of the admin function (dev stage only): POST /reset_data."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from banditkit.models.common import Response


class ResetOut(Response):
    status: Literal["reset"] = Field(description="Everything was deleted.")
