"""Path and query parameters shared by several routers. Here, not in one router's module, so
that a Lambda function importing them does not also build that router's routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from banditkit.models.common import ID_MAX_LENGTH, ID_PATTERN

ExperimentPath = Annotated[
    str,
    Path(min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, description="Experiment id."),
]
ExperimentQuery = Annotated[
    str,
    Query(
        min_length=1, max_length=ID_MAX_LENGTH, pattern=ID_PATTERN, description="The experiment."
    ),
]
