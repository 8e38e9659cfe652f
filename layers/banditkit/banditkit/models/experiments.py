"""Models of the experiments function: experiments, their variants, and GET /health."""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic.functional_validators import AfterValidator, BeforeValidator
from pydantic.json_schema import WithJsonSchema

from banditkit.models.common import (
    MAX_VARIANTS,
    ExperimentId,
    ExperimentStatus,
    Name,
    Request,
    Response,
    check_unique,
)
from banditkit.models.settings import SettingsOut, SettingsPatch
from banditkit.models.text import Text, VariantName


class VariantIn(Request):
    """A declared variant."""

    name: VariantName = Field(description="Variant name.")
    is_control: bool = Field(
        default=False, strict=True, description="True for the control variant (a JSON boolean)."
    )


def _normalise_variants(value: list[VariantIn] | None) -> list[VariantIn] | None:
    if value is None:
        return None
    check_unique([v.name for v in value])
    if sum(v.is_control for v in value) > 1:
        raise ValueError("at most one variant may be the control")
    return value


def _names_to_objects(value: object) -> object:
    """Accept plain names as shorthand: "b" means {"name": "b"}."""
    if isinstance(value, list):
        return [{"name": v} if isinstance(v, str) else v for v in value]
    return value


_NAME_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 100}


def _variant_list_schema(min_items: int) -> WithJsonSchema:
    """The array as clients may send it: names, or objects with is_control."""
    bounds = {"minItems": min_items} if min_items else {}
    return WithJsonSchema(
        {
            "type": "array",
            **bounds,
            "maxItems": MAX_VARIANTS,
            "items": {
                "anyOf": [
                    _NAME_SCHEMA,
                    {
                        "type": "object",
                        "properties": {"name": _NAME_SCHEMA, "is_control": {"type": "boolean"}},
                        "required": ["name"],
                        "additionalProperties": False,
                    },
                ]
            },
        }
    )


# Variants to add (PATCH): any number up to the cap, none included.
VariantList = Annotated[
    list[VariantIn],
    BeforeValidator(_names_to_objects),
    Field(max_length=MAX_VARIANTS),
    _variant_list_schema(0),
]
# Variants declared on create: at least one (omit the field to declare none).
DeclaredVariants = Annotated[
    list[VariantIn],
    BeforeValidator(_names_to_objects),
    Field(min_length=1, max_length=MAX_VARIANTS),
    _variant_list_schema(1),
]


class ExperimentCreate(Request):
    """Body of POST /experiments."""

    id: ExperimentId | None = Field(
        default=None,
        description="Optional client-chosen id (keeps existing clients' ids); generated if absent.",
    )
    name: Name = Field(description="Experiment name.")
    description: Text = Field(default="", description="Free text (no control characters).")
    variants: DeclaredVariants | None = Field(
        default=None,
        description=(
            "Declared variants (names, or objects with is_control). When declared, events naming "
            "any other variant are rejected; when omitted, variants appear with their first events."
        ),
    )
    settings: SettingsPatch = Field(
        default_factory=SettingsPatch, description="Engine settings overrides."
    )

    @field_validator("variants")
    @classmethod
    def _check_variants(cls, value: list[VariantIn] | None) -> list[VariantIn] | None:
        return _normalise_variants(value)


class ExperimentPatch(Request):
    """Body of PATCH /experiments/{id}: any subset of the fields."""

    name: Name | None = Field(default=None, description="New name.")
    description: Text | None = Field(default=None, description="New description.")
    status: ExperimentStatus | None = Field(default=None, description="New lifecycle status.")
    settings: SettingsPatch | None = Field(
        default=None, description="Settings to change; omitted settings keep their value."
    )
    variants: VariantList | None = Field(
        default=None, description="Variants to add (existing variants cannot be removed)."
    )
    shipped_variant: VariantName | None = Field(
        default=None,
        description=(
            "The variant shipped: one of the experiment's variants, set when it is completed "
            "(with status completed, or on a completed experiment); null ships none. A "
            "completed experiment's /allocation then gives it 100% of the traffic. Cleared "
            "when the experiment leaves completed."
        ),
    )

    @field_validator("variants")
    @classmethod
    def _check_variants(cls, value: list[VariantIn] | None) -> list[VariantIn] | None:
        return _normalise_variants(value)


class VariantOut(Response):
    name: str = Field(description="Variant name.")
    is_control: bool = Field(description="True for the control variant.")


class LeaderOut(Response):
    variant: str = Field(description="Variant name.")
    p_best: float = Field(description="Probability that it is the best variant.")


class ChangeOut(Response):
    """One logged change of settings, variants or status."""

    at: dt.datetime = Field(description="When it was made (UTC).")
    kind: Literal["settings", "variants_added", "paused", "resumed", "completed"] = Field(
        description="What changed."
    )
    detail: str = Field(description='Short, for people: "control_floor 0.1 → 0", "added b".')
    latest_day: dt.date | None = Field(
        description="The latest data day stored when it was made (null before any data): "
        "charts by data day mark it there."
    )


class ExperimentOut(Response):
    """An experiment."""

    id: str = Field(description="Experiment id.")
    name: str = Field(description="Experiment name.")
    description: str = Field(description="Free text.")
    status: ExperimentStatus = Field(description="running, paused or completed.")
    variants: list[VariantOut] = Field(description="Known variants, declared or seen in events.")
    variants_declared: bool = Field(
        description="True when variants were declared: events naming others are rejected."
    )
    control: str | None = Field(description="The control variant, if any.")
    settings: SettingsOut = Field(description="Effective engine settings.")
    created_at: dt.datetime = Field(description="Creation time (UTC).")
    updated_at: dt.datetime = Field(description="Last change (UTC).")
    # Defaults: a client of this version still reads an older server's experiments.
    shipped_variant: str | None = Field(
        default=None,
        description="The variant shipped on completing (all traffic goes to it); else null.",
    )
    leader: LeaderOut | None = Field(
        default=None,
        description=(
            "The variant most likely best in the latest allocation snapshot, with that "
            "probability; null before a snapshot in which every variant has impressions."
        ),
    )
    changes: list[ChangeOut] = Field(
        default_factory=list,  # (absent from older servers' answers: the client still parses)
        description="Changes of settings, variants and status, oldest first (the latest 50).",
    )


def _search_text(value: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise ValueError("must not contain control characters")
    return value


# GET /experiments?q=: what to look for in ids and names.
SearchQuery = Annotated[
    str,
    Field(max_length=100),
    AfterValidator(_search_text),
]


class ExperimentPage(Response):
    items: list[ExperimentOut] = Field(
        description="Experiments, in the order asked (oldest first by default)."
    )
    next_cursor: str | None = Field(description="Pass as cursor for the next page; null at end.")


class HealthOut(Response):
    status: Literal["ok"] = Field(description="Always ok when answering 200.")
    store: str = Field(description="Store backend: sqlite, postgres or dynamodb.")
    version: str = Field(description="banditkit version.")
    reset_enabled: bool = Field(description="True when POST /reset_data is enabled.")
    auth_required: bool = Field(description="True when requests need an x-api-key header.")
