"""Text rules: what a variant name may be (one spelling, one script, nothing invisible,
no spreadsheet escape) and what free text may hold (no control characters)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Annotated

from pydantic import Field
from pydantic.functional_validators import AfterValidator

from banditkit.models.common import Name

# A cell starting with one of these is a formula to a spreadsheet (OWASP, CSV injection).
FORMULA_START = frozenset("=+-@\t\r")

# Free text (descriptions) is any Unicode but control characters: tab, newline and carriage
# return are allowed; NUL and every other C0/C1 control, and lone surrogates, are refused on
# every backend alike (PostgreSQL cannot store NUL, no backend can store a lone surrogate).
_TEXT_REFUSED = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _plain_text(value: str) -> str:
    bad = _TEXT_REFUSED.search(value)
    if bad is not None:
        raise ValueError(
            f"must not contain U+{ord(bad[0]):04X} (a control character or lone surrogate)"
        )
    return value


# Printable yet invisible (Unicode's Default_Ignorable_Code_Point that are not format
# characters): Hangul fillers, variation selectors, the combining grapheme joiner, ...
_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)
# Scripts that write one language together (Unicode TS 39, "highly restrictive").
_SCRIPT_SETS = (
    frozenset({"Latin", "Han", "Hiragana", "Katakana"}),
    frozenset({"Latin", "Han", "Bopomofo"}),
    frozenset({"Latin", "Han", "Hangul"}),
)
_SCRIPT_WORDS = ("LETTER", "SYLLABLE", "IDEOGRAPH", "CHARACTER")


def _script(char: str) -> str | None:
    """The script of a letter, from its Unicode name (CYRILLIC SMALL LETTER O -> Cyrillic);
    None for marks, digits, punctuation and letters that name no script (º)."""
    if not unicodedata.category(char).startswith("L"):
        return None
    words = unicodedata.name(char, "").split()
    if not any(w.startswith(_SCRIPT_WORDS) for w in words):
        return None
    if words[0] in ("FULLWIDTH", "HALFWIDTH"):
        words = words[1:]
    return "Han" if words[0] == "CJK" else words[0].title()


def _variant_name(value: str) -> str:
    """One spelling per name (NFC), then: nothing invisible, one script (or a set that writes
    one language), and no spreadsheet escape (a leading ' before = + - @ is how the CSV
    template writes such names, and the import reads it back off)."""
    if not value.isascii():  # ASCII is NFC, visible once printable, and Latin only
        value = _unicode_name(value)
    if value[:1] == "'" and value[1:2] in FORMULA_START:
        raise ValueError("must not start with ' before = + - @ (a spreadsheet's escape)")
    return value


@lru_cache(maxsize=4096)  # a CSV file repeats its few names on every row
def _unicode_name(value: str) -> str:
    value = unicodedata.normalize("NFC", value)
    invisible = _INVISIBLE.search(value)
    if invisible:
        raise ValueError(f"must not contain the invisible character U+{ord(invisible[0]):04X}")
    scripts = {s for s in map(_script, value) if s is not None}
    if len(scripts) > 1 and not any(scripts <= allowed for allowed in _SCRIPT_SETS):
        raise ValueError(f"mixes scripts ({', '.join(sorted(scripts))}); use one script")
    return value


VariantName = Annotated[
    Name,
    AfterValidator(_variant_name),
    Field(
        description="1-100 printable characters in one script, none invisible; stored in "
        "Unicode NFC, so two spellings of one name are one variant."
    ),
]
Text = Annotated[
    str,
    Field(
        max_length=2000,
        description="Free text, up to 2000 characters; no control characters but tab and newline.",
    ),
    AfterValidator(_plain_text),
]
