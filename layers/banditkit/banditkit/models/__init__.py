"""Request and response models of the HTTP API (docs/api.md): the contract, checked at the boundary.

One submodule per Lambda function, so that each handler builds only the models of its own
routes (pydantic builds a model's validator and serializer when its class is created, ~1 ms a
model): `common` (limits, field types, bases, problem+json), `text` (variant names and
free text), `settings` (engine settings, for experiments and allocation), `experiments`,
`events`, `allocation`, `history`, `admin`.

Every name stays importable from here (`from banditkit.models import EventsIn`): the package
loads the submodule that defines a name when it is first asked for (PEP 562), so importing
`banditkit.models` builds nothing by itself.
"""

# ruff: noqa: I001 (the imports for mypy below follow SUBMODULES, not the alphabet)
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Submodule -> the public names it defines (tests/api/test_models.py keeps this complete).
SUBMODULES: dict[str, tuple[str, ...]] = {
    "common": (
        "MAX_VARIANTS",
        "MAX_COUNT",
        "MIN_DATE",
        "FUTURE_DAYS",
        "MIN_PRIOR",
        "SIM_MAX_VARIANTS",
        "SIM_MAX_DAYS",
        "SIM_MAX_DAILY_IMPRESSIONS",
        "SIM_MAX_WORK",
        "SIM_MAX_SEEDS",
        "SIM_MAX_RUN_DAYS",
        "SIM_MAX_TOTAL_WORK",
        "ID_PATTERN",
        "ID_MAX_LENGTH",
        "check_unique",
        "ExperimentStatus",
        "AllocationStatus",
        "WriteMode",
        "Metric",
        "AllocationRule",
        "Name",
        "Count",
        "IsoDate",
        "IsoDateTime",
        "Day",
        "ExperimentId",
        "Request",
        "Response",
        "FieldProblem",
        "Problem",
    ),
    "text": (
        "FORMULA_START",
        "VariantName",
        "Text",
    ),
    "settings": (
        "SettingsPatch",
        "SettingsOut",
    ),
    "experiments": (
        "VariantIn",
        "VariantList",
        "DeclaredVariants",
        "ExperimentCreate",
        "ExperimentPatch",
        "VariantOut",
        "ExperimentOut",
        "LeaderOut",
        "SearchQuery",
        "ExperimentPage",
        "HealthOut",
        "ChangeOut",
    ),
    "events": (
        "EventVariant",
        "EventsIn",
        "EventsOut",
        "CsvRow",
        "ImportOut",
        "FLAT_EVENT_FIELDS",
        "FileImportOut",
        "UploadOut",
    ),
    "allocation": (
        "VariantStats",
        "AllocationOut",
        "LiftOut",
        "RegretDayOut",
        "ReportOut",
        "WarningCode",
        "ReasonCode",
        "WarningOut",
        "ReasonOut",
        "EstimateOut",
        "VariantEstimates",
        "EstimatesOut",
        "AssignOut",
        "SimVariant",
        "SimChange",
        "SimulateIn",
        "SimDay",
        "SimBand",
        "SimSeedsOut",
        "SimulateOut",
        "AllocationParameters",
        "SummaryVariant",
        "AllocationSummary",
        "PastAllocation",
    ),
    "history": (
        "SnapshotOut",
        "HistoryOut",
        "DayVariant",
        "MetricsDay",
        "MetricsOut",
        "HistoryEntry",
    ),
    "admin": ("ResetOut",),
}
_HOME = {name: module for module, names in SUBMODULES.items() for name in names}
__all__ = sorted(_HOME)

if TYPE_CHECKING:  # for mypy: the same names, grouped as in SUBMODULES
    from banditkit.models.common import (
        MAX_VARIANTS as MAX_VARIANTS,
        MAX_COUNT as MAX_COUNT,
        MIN_DATE as MIN_DATE,
        FUTURE_DAYS as FUTURE_DAYS,
        MIN_PRIOR as MIN_PRIOR,
        SIM_MAX_VARIANTS as SIM_MAX_VARIANTS,
        SIM_MAX_DAYS as SIM_MAX_DAYS,
        SIM_MAX_DAILY_IMPRESSIONS as SIM_MAX_DAILY_IMPRESSIONS,
        SIM_MAX_WORK as SIM_MAX_WORK,
        SIM_MAX_SEEDS as SIM_MAX_SEEDS,
        SIM_MAX_RUN_DAYS as SIM_MAX_RUN_DAYS,
        SIM_MAX_TOTAL_WORK as SIM_MAX_TOTAL_WORK,
        ID_PATTERN as ID_PATTERN,
        ID_MAX_LENGTH as ID_MAX_LENGTH,
        check_unique as check_unique,
        ExperimentStatus as ExperimentStatus,
        AllocationStatus as AllocationStatus,
        WriteMode as WriteMode,
        Metric as Metric,
        AllocationRule as AllocationRule,
        Name as Name,
        Count as Count,
        IsoDate as IsoDate,
        IsoDateTime as IsoDateTime,
        Day as Day,
        ExperimentId as ExperimentId,
        Request as Request,
        Response as Response,
        FieldProblem as FieldProblem,
        Problem as Problem,
    )
    from banditkit.models.text import (
        FORMULA_START as FORMULA_START,
        VariantName as VariantName,
        Text as Text,
    )
    from banditkit.models.settings import (
        SettingsPatch as SettingsPatch,
        SettingsOut as SettingsOut,
    )
    from banditkit.models.experiments import (
        VariantIn as VariantIn,
        VariantList as VariantList,
        DeclaredVariants as DeclaredVariants,
        ExperimentCreate as ExperimentCreate,
        ExperimentPatch as ExperimentPatch,
        VariantOut as VariantOut,
        ExperimentOut as ExperimentOut,
        LeaderOut as LeaderOut,
        SearchQuery as SearchQuery,
        ExperimentPage as ExperimentPage,
        HealthOut as HealthOut,
        ChangeOut as ChangeOut,
    )
    from banditkit.models.events import (
        EventVariant as EventVariant,
        EventsIn as EventsIn,
        EventsOut as EventsOut,
        CsvRow as CsvRow,
        ImportOut as ImportOut,
        FLAT_EVENT_FIELDS as FLAT_EVENT_FIELDS,
        FileImportOut as FileImportOut,
        UploadOut as UploadOut,
    )
    from banditkit.models.allocation import (
        VariantStats as VariantStats,
        AllocationOut as AllocationOut,
        LiftOut as LiftOut,
        RegretDayOut as RegretDayOut,
        ReportOut as ReportOut,
        WarningCode as WarningCode,
        ReasonCode as ReasonCode,
        WarningOut as WarningOut,
        ReasonOut as ReasonOut,
        EstimateOut as EstimateOut,
        VariantEstimates as VariantEstimates,
        EstimatesOut as EstimatesOut,
        AssignOut as AssignOut,
        SimVariant as SimVariant,
        SimChange as SimChange,
        SimulateIn as SimulateIn,
        SimDay as SimDay,
        SimBand as SimBand,
        SimSeedsOut as SimSeedsOut,
        SimulateOut as SimulateOut,
        AllocationParameters as AllocationParameters,
        SummaryVariant as SummaryVariant,
        AllocationSummary as AllocationSummary,
        PastAllocation as PastAllocation,
    )
    from banditkit.models.history import (
        SnapshotOut as SnapshotOut,
        HistoryOut as HistoryOut,
        DayVariant as DayVariant,
        MetricsDay as MetricsDay,
        MetricsOut as MetricsOut,
        HistoryEntry as HistoryEntry,
    )
    from banditkit.models.admin import (
        ResetOut as ResetOut,
    )


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOME))
