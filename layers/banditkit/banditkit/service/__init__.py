"""Use cases of the API over a store and the engine, one module per use case.

Every function takes the store as its first argument and raises typed errors: the store's
(`ExperimentNotFound`, `Conflict`, `IdempotencyConflict`, `StoreUnavailable`, ...) and the
service's own (`service.errors`). Nothing here knows HTTP; `banditkit.http.errors` maps the
errors to problem+json. The routers call the names below.
"""

from banditkit.service.allocation import AllocationResult, allocate, report
from banditkit.service.assignment import assign, pick, unit_point
from banditkit.service.errors import (
    FieldError,
    InvalidRequest,
    NoVariants,
    PayloadTooLarge,
    ServiceError,
)
from banditkit.service.experiments import (
    create_experiment,
    delete_experiment,
    experiment_out,
    get_experiment,
    list_experiments,
    reset,
    update_experiment,
)
from banditkit.service.file_import import import_file, template_csv, upload_data
from banditkit.service.freshness import experiment_state
from banditkit.service.history import history, metrics
from banditkit.service.ingest import import_csv, ingest_events
from banditkit.service.loading import control_of, engine_settings, even_split, utcnow
from banditkit.service.recompute import (
    RecomputeResult,
    plan_pages,
    plan_recompute,
    recompute_all,
    recompute_one,
)
from banditkit.service.simulation import simulate

__all__ = [
    "AllocationResult",
    "FieldError",
    "InvalidRequest",
    "NoVariants",
    "PayloadTooLarge",
    "RecomputeResult",
    "ServiceError",
    "allocate",
    "assign",
    "control_of",
    "create_experiment",
    "delete_experiment",
    "engine_settings",
    "even_split",
    "experiment_out",
    "experiment_state",
    "get_experiment",
    "history",
    "import_csv",
    "import_file",
    "ingest_events",
    "list_experiments",
    "metrics",
    "pick",
    "plan_pages",
    "plan_recompute",
    "recompute_all",
    "recompute_one",
    "report",
    "reset",
    "simulate",
    "template_csv",
    "unit_point",
    "update_experiment",
    "upload_data",
    "utcnow",
]
