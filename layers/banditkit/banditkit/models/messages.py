"""Pydantic's validation errors in plain words: what a field must be, written to follow its
name ("impressions: must be 0 or more"), the same on every route and in every CSV row."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def _number(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _chars(n: object) -> str:
    return f"{n} character" + ("" if n == 1 else "s")


def _items(n: object) -> str:
    return f"{n} item" + ("" if n == 1 else "s")


WHOLE = "must be a whole number"
DATE = "must be a real date, YYYY-MM-DD"

# Error types whose sentence needs nothing from the error's context.
FIXED = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "int_type": WHOLE,
    "int_parsing": WHOLE,
    "int_from_float": WHOLE,
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "finite_number": "must be a finite number",
    "bool_type": "must be true or false (a JSON boolean)",
    "bool_parsing": "must be true or false",
    "string_type": "must be text",
    "list_type": "must be a list",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "date_type": DATE,
    "date_parsing": DATE,
    "date_from_datetime_parsing": DATE,
    "date_from_datetime_inexact": DATE,
    "datetime_type": "must be an ISO 8601 date-time",
    "datetime_parsing": "must be an ISO 8601 date-time",
    "datetime_from_date_parsing": "must be an ISO 8601 date-time",
}


def plain_message(error: Mapping[str, Any]) -> str:
    """The sentence for one of pydantic's errors (an item of `ValidationError.errors()`)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in FIXED:
        return FIXED[kind]
    if kind == "greater_than_equal":
        return f"must be {_number(ctx.get('ge'))} or more"
    if kind == "greater_than":
        return f"must be more than {_number(ctx.get('gt'))}"
    if kind == "less_than_equal":
        return f"must be {_number(ctx.get('le'))} or less"
    if kind == "less_than":
        return f"must be less than {_number(ctx.get('lt'))}"
    if kind == "string_too_short":
        n = ctx.get("min_length")
        return "must not be empty" if n == 1 else f"must be at least {_chars(n)}"
    if kind == "string_too_long":
        return f"must be at most {_chars(ctx.get('max_length'))}"
    if kind == "too_short":
        n = ctx.get("min_length")
        return "must not be empty" if n == 1 else f"must have at least {_items(n)}"
    if kind == "too_long":
        return f"must have at most {_items(ctx.get('max_length'))}"
    if kind == "literal_error" or kind == "enum":
        return f"must be {ctx.get('expected')}"
    if kind == "string_pattern_mismatch":
        return f"must match the pattern {ctx.get('pattern')}"
    msg = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return msg.replace("Input should be", "must be", 1)
