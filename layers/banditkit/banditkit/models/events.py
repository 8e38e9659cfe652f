"""Models of the events function: one day of counts, and the CSV import."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import AliasChoices, Field, ValidationInfo, field_validator, model_validator

from banditkit.models.common import (
    MAX_VARIANTS,
    Count,
    Day,
    ExperimentId,
    Request,
    Response,
    WriteMode,
    check_unique,
)
from banditkit.models.text import VariantName


class EventVariant(Request):
    """One variant's counts for the day."""

    variant_name: VariantName = Field(
        validation_alias=AliasChoices("variant_name", "name"),
        description="Variant name (the original API's `name` is accepted too).",
    )
    impressions: Count = Field(description="Trials (impressions) that day, integer >= 0.")
    clicks: Count = Field(description="Clicks that day, integer >= 0 and <= impressions.")
    conversions: Count = Field(
        default=0, description="Conversions that day, integer >= 0 and <= impressions."
    )

    @field_validator("clicks", "conversions")
    @classmethod
    def _not_above_impressions(cls, value: int, info: ValidationInfo) -> int:
        impressions = info.data.get("impressions")
        if isinstance(impressions, int) and value > impressions:
            name = info.data.get("variant_name")
            where = f" for {name}" if isinstance(name, str) else ""
            raise ValueError(
                f"{info.field_name} ({value}) can't exceed impressions ({impressions}){where}"
            )
        return value


# The original API's flat form of one variant's day: these keys sit beside experiment_id.
FLAT_EVENT_FIELDS = ("variant_name", "name", "impressions", "clicks", "conversions")


class EventsIn(Request):
    """Body of POST /events: one day of counts for some variants of one experiment.

    The original API's flat single-variant form, `{experiment_id, date, variant_name,
    impressions, clicks[, conversions]}` without `variants`, is read as a one-row
    `variants` list (its errors name `variants.0.<field>`)."""

    @model_validator(mode="before")
    @classmethod
    def _flat_form(cls, data: object) -> object:
        if isinstance(data, dict) and "variants" not in data:
            row = {k: data[k] for k in FLAT_EVENT_FIELDS if k in data}
            if row:
                rest = {k: v for k, v in data.items() if k not in FLAT_EVENT_FIELDS}
                return {**rest, "variants": [row]}
        return data

    experiment_id: ExperimentId = Field(description="The experiment.")
    date: Day = Field(description="The day, YYYY-MM-DD.")
    variants: list[EventVariant] = Field(
        min_length=1, max_length=MAX_VARIANTS, description="Counts per variant (no duplicates)."
    )
    mode: WriteMode = Field(
        default="set",
        description="set replaces the day's totals (safe to retry); increment adds to them.",
    )

    @field_validator("variants")
    @classmethod
    def _no_duplicates(cls, value: list[EventVariant]) -> list[EventVariant]:
        check_unique([v.variant_name for v in value])
        return value


class EventsOut(Response):
    experiment_id: str = Field(description="The experiment.")
    date: dt.date = Field(description="The day written.")
    mode: WriteMode = Field(description="How the counts were written.")
    variants_processed: int = Field(description="Number of variants written.")
    total_impressions: int = Field(description="Sum of impressions in the request.")
    total_clicks: int = Field(description="Sum of clicks in the request.")
    total_conversions: int = Field(description="Sum of conversions in the request.")
    replayed: bool = Field(
        default=False, description="True when an Idempotency-Key replay returned the first answer."
    )


class CsvRow(Request):
    """One row of a CSV import (validated like an event)."""

    experiment_id: str | None = None
    date: Day
    variant_name: VariantName
    impressions: Count
    clicks: Count
    conversions: Count = 0

    @field_validator("clicks", "conversions")
    @classmethod
    def _not_above_impressions(cls, value: int, info: ValidationInfo) -> int:
        return EventVariant._not_above_impressions(value, info)


class ImportOut(Response):
    experiment_id: str = Field(description="The experiment.")
    mode: WriteMode = Field(description="How the counts were written.")
    rows_imported: int = Field(description="Rows written.")
    days: int = Field(description="Distinct days in the file.")
    variants: list[str] = Field(description="Variants in the file.")
    total_impressions: int = Field(description="Sum of impressions in the file.")
    total_clicks: int = Field(description="Sum of clicks in the file.")
    total_conversions: int = Field(description="Sum of conversions in the file.")
    replayed: bool = Field(
        default=False, description="True when an Idempotency-Key replay returned the first answer."
    )


class FileImportOut(Response):
    """POST /import: a CSV file of several experiments (an experiment_id column)."""

    mode: WriteMode = Field(description="How the counts were written.")
    rows_imported: int = Field(description="Rows written, over every experiment.")
    experiments: list[ImportOut] = Field(description="What was written per experiment.")
    total_impressions: int = Field(description="Sum of impressions in the file.")
    total_clicks: int = Field(description="Sum of clicks in the file.")
    total_conversions: int = Field(description="Sum of conversions in the file.")
    replayed: bool = Field(
        default=False, description="True when an Idempotency-Key replay returned the first answer."
    )


class UploadOut(Response):
    """POST /upload-data: the original API's answer to a CSV upload (the same import)."""

    status: Literal["success"] = Field(description="Always success when answering 200.")
    processed_rows: int = Field(description="Rows written.")
    total_rows: int = Field(description="Data rows in the file.")
    errors: list[str] = Field(description="Always empty: a file with bad rows is a 422.")
    total_errors: int = Field(description="Always 0 (see errors).")
    experiment_ids: list[str] = Field(description="The experiments written, in file order.")
