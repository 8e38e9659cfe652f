"""Variant names: one spelling per name (NFC), one script per name (or a combination that
writes one language, such as Japanese), nothing invisible, nothing a spreadsheet runs."""

from __future__ import annotations

import unicodedata

import pytest
from banditkit.models import CsvRow, EventVariant, VariantIn
from pydantic import ValidationError

CAFE_NFC = "caf\u00e9"
CAFE_NFD = "cafe\u0301"


@pytest.mark.parametrize(
    "name",
    [
        "control",
        "variant_b",
        CAFE_NFC,
        "Stra\u00dfe",  # Latin with ß
        "\u0442\u0435\u0441\u0442",  # Cyrillic only
        "\u03b1\u03b2\u03b3 2",  # Greek only
        "\u30c6\u30b9\u30c8\u6f22\u5b57abc",  # Katakana + Han + Latin: Japanese
        "\ud55c\uae00 \u6f22\u5b57 v2",  # Hangul + Han + Latin: Korean
        "N\u00ba 1",  # an ordinal indicator is not a script
        "-10% price",  # a leading minus is fine as a name; the CSV template quotes it
        "=x",
        "@home",
    ],
)
def test_names_that_are_accepted(name: str) -> None:
    assert VariantIn(name=name).name == unicodedata.normalize("NFC", name)


def test_one_name_has_one_spelling() -> None:
    assert VariantIn(name=CAFE_NFD).name == CAFE_NFC
    row = EventVariant(variant_name=CAFE_NFD, impressions=1, clicks=0)
    assert row.variant_name == CAFE_NFC


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("c\u043entrol", "mixes scripts (Cyrillic, Latin)"),  # Cyrillic o
        ("\u0440\u0430y", "mixes scripts (Cyrillic, Latin)"),
        ("\u03b1lpha", "mixes scripts (Greek, Latin)"),
        ("a\u200bb", "invisible or bidirectional control character U+200B"),
        ("\u202econtrol", "invisible or bidirectional control character U+202E"),
        ("a\u2066b\u2069", "invisible or bidirectional control character U+2066"),
        ("a\u3164b", "invisible character U+3164"),  # Hangul filler
        ("a\ufe0fb", "invisible character U+FE0F"),  # variation selector
        ("a\u00adb", "invisible or bidirectional control character U+00AD"),  # soft hyphen
        ("'=x", "must not start with ' before = + - @"),
        ("a\x00b", "control character U+0000"),
    ],
)
def test_names_that_are_refused(name: str, reason: str) -> None:
    for build in (
        lambda: VariantIn(name=name),
        lambda: EventVariant(variant_name=name, impressions=1, clicks=0),
        lambda: CsvRow(date="2025-01-01", variant_name=name, impressions=1, clicks=0),
    ):
        with pytest.raises(ValidationError) as err:
            build()
        assert reason in str(err.value)
