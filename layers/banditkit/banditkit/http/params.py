"""Path and query parameters shared by several routers. Here, not in one router's module, so
that a Lambda function importing them does not also build that router's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

ID_PATTERN = r"^[A-Za-z0-9_-]+$"
ExperimentPath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=ID_PATTERN, description="Experiment id.")
]
