"""What every part of the API contract shares: limits, field types, the request and response
bases, and the problem+json body every handler can answer with.

Every request model forbids unknown fields, so a misspelt setting is a 422 rather than a
silent default. Counts are strict integers (no floats, strings or booleans).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.functional_validators import AfterValidator, BeforeValidator

MAX_VARIANTS = 50
MAX_COUNT = 10**12
MIN_DATE = dt.date(2000, 1, 1)
# Days may be posted up to this many days after today (UTC), for clients east of UTC.
FUTURE_DAYS = 1
# Priors below this are numerically meaningless (and denormal floats break the grid).
MIN_PRIOR = 0.001
SIM_MAX_VARIANTS = 10
SIM_MAX_DAYS = 365
SIM_MAX_DAILY_IMPRESSIONS = 1_000_000
# days x variants; above this POST /simulate answers 413.
SIM_MAX_WORK = 1_000
# Runs of one POST /simulate (seeds, twice with compare_settings). Summed over the runs, their
# days (each allocates once) and days x variants are capped: above either, 413 naming seeds.
# The longest request is then two runs of a year, twice the longest single run.
SIM_MAX_SEEDS = 50
SIM_MAX_RUN_DAYS = 2 * SIM_MAX_DAYS
SIM_MAX_TOTAL_WORK = 2_000

ExperimentStatus = Literal["running", "paused", "completed"]
AllocationStatus = Literal["warming_up", "optimizing", "winner_found", "paused", "completed"]
WriteMode = Literal["set", "increment"]
Metric = Literal["ctr", "conversion_rate"]
AllocationRule = Literal["thompson", "sharpened"]


def _printable_name(value: str) -> str:
    if not value.isprintable():
        bad = next(c for c in value if not c.isprintable())
        kind = (
            "invisible or bidirectional control character"
            if unicodedata.category(bad) == "Cf"
            else "control character"
        )
        raise ValueError(f"must contain printable characters only, not the {kind} U+{ord(bad):04X}")
    if not value.strip():
        raise ValueError("must not be blank")
    if value != value.strip():
        raise ValueError("must not start or end with whitespace")
    return value


def check_unique(names: Sequence[str]) -> None:
    """ValueError naming every variant that appears more than once in one request."""
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"duplicate variant names: {', '.join(dupes)}")


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date_text(value: object) -> object:
    """Only YYYY-MM-DD text (or a date, from Python callers): pydantic alone would also take a
    unix time (1735689600 -> 2025-01-01) and a date-time at midnight."""
    if isinstance(value, dt.date) or (isinstance(value, str) and _ISO_DATE.fullmatch(value)):
        return value
    raise ValueError("must be an ISO date, YYYY-MM-DD")


def _iso_datetime_text(value: object) -> object:
    """Only ISO 8601 text starting YYYY-MM-DD (or a datetime): never a unix time."""
    if isinstance(value, dt.datetime) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be an ISO 8601 date-time, YYYY-MM-DDTHH:MM:SS[Z]")


def _in_utc(value: dt.datetime) -> dt.datetime:
    """The instant in UTC (naive = UTC already); an offset that carries it past year 1 or
    9999 is refused rather than overflowing in a store."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise ValueError("is out of range once converted to UTC") from None


def _sane_date(value: dt.date) -> dt.date:
    latest = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=FUTURE_DAYS)
    if value < MIN_DATE or value > latest:
        raise ValueError(f"must be between {MIN_DATE.isoformat()} and {latest.isoformat()}")
    return value


Name = Annotated[
    str,
    Field(min_length=1, max_length=100, description="1-100 printable characters."),
    AfterValidator(_printable_name),
]
Count = Annotated[int, Field(strict=True, ge=0, le=MAX_COUNT)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_text)]
IsoDateTime = Annotated[dt.datetime, BeforeValidator(_iso_datetime_text), AfterValidator(_in_utc)]
Day = Annotated[IsoDate, AfterValidator(_sane_date)]
ID_PATTERN = r"^[A-Za-z0-9_-]+$"  # also the id's rule in paths and queries (http/params.py)
ID_MAX_LENGTH = 64


def _number_to_id(value: object) -> object:
    """The original API's integer ids: the JSON number 7 is the id "7"."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


ExperimentId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=ID_MAX_LENGTH,
        pattern=ID_PATTERN,
        description="Experiment id: 1-64 letters, digits, '_' or '-' (or an integer: its digits).",
    ),
    BeforeValidator(_number_to_id),
]


class Request(BaseModel):
    """Base of request bodies: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")


class Response(BaseModel):
    """Base of response bodies; built from the engine's and the store's records by field
    name (`model_validate(record)`)."""

    model_config = ConfigDict(extra="forbid", from_attributes=True)


# ---------------------------------------------------------------- errors


class FieldProblem(BaseModel):
    field: str = Field(description="The offending field (dotted path), header or query parameter.")
    message: str = Field(description="What is wrong with it.")


class Problem(BaseModel):
    """RFC 9457 problem details, sent as application/problem+json."""

    type: str = Field(description="A URI identifying the problem type.")
    title: str = Field(description="Short summary of the problem type.")
    status: int = Field(description="The HTTP status code.")
    detail: str = Field(description="Explanation of this occurrence.")
    errors: list[FieldProblem] = Field(default_factory=list, description="Per-field problems.")
