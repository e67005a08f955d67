"""How one answer is read and written: numerals, labels, "not applicable" and "don't know".

Core layer, pure: the one home of how answers are spelled, so that the loaders, the
fill-in workbook, the workshop app, the stores and the instrument's own checks (no item
may use these words as an answer label) agree. Answers written differently but meaning
the same read the same (:class:`AnswerReader`):

- a numeral equal to a whole number is that number: ``3``, ``3.0``, ``3.00``, ``03``,
  ``+3`` and full-width ``３`` are all 3;
- a label matches after Unicode NFKC, case folding, white space collapsed to single
  spaces and typographic quotes straightened (:func:`normalize_label`);
- **not applicable** (``NA`` / ``N/A``): the practice does not exist at the center, so the
  item does not count for that respondent; only items with ``allows_na`` accept it;
- **don't know** (``DK`` / ``Don't know``, also ``Don’t know`` with the typographic
  apostrophe phones and word processors type): the respondent cannot see the practice.
  Every item accepts it. Like not applicable it is out of the score and out of the half
  rule; unlike it, it is counted and reported per facet (``docs/scoring.md``);
- an empty cell is unanswered.

Messages quote the value exactly as it was in the file (:func:`answer_problem`).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from .ids import remove_invisible

__all__ = [
    "DONT_KNOW_LABEL",
    "DONT_KNOW_SPELLINGS",
    "DONT_KNOW_TEXT",
    "NOT_APPLICABLE_SPELLINGS",
    "NOT_APPLICABLE_TEXT",
    "OPEN_TEXT_MAX",
    "AnswerReader",
    "Reading",
    "answer_problem",
    "is_reserved_label",
    "normalize_label",
    "numeral_value",
    "plain_text",
    "quote_value",
]

#: How files written by the framework spell the two answers.
NOT_APPLICABLE_TEXT = "NA"
DONT_KNOW_TEXT = "DK"
#: What a person is offered to choose (drop-downs, the workshop form).
DONT_KNOW_LABEL = "Don't know"

#: Accepted spellings, as :func:`normalize_label` leaves them (the typographic apostrophe
#: is straightened there; it is listed too for callers that only lower-case).
NOT_APPLICABLE_SPELLINGS: frozenset[str] = frozenset({"na", "n/a"})
DONT_KNOW_SPELLINGS: frozenset[str] = frozenset({"dk", "don't know", "don\u2019t know", "dont know"})

#: Longest free-text answer to an open question that is kept whole; longer ones are cut
#: here (with a warning), so one pasted document cannot swamp a report.
OPEN_TEXT_MAX = 2000

_QUOTES = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
    }
)
_SPACE = re.compile(r"\s+")
_NUMERAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
#: Longest value quoted whole in a message; longer ones are shortened with their length.
_QUOTE_MAX = 120


def plain_text(text: str) -> str:
    """``text`` in Unicode NFKC, its invisible characters dropped and its quotes straight.

    >>> plain_text("Don\\u2019t\\u200b know")
    "Don't know"
    """
    return remove_invisible(unicodedata.normalize("NFKC", text)).translate(_QUOTES)


def normalize_label(text: str) -> str:
    """The form in which answer labels, the two marks and role names are compared.

    >>> normalize_label("  Don\\u2019t   KNOW ")
    "don't know"
    """
    return _SPACE.sub(" ", plain_text(text)).strip().casefold()


def is_reserved_label(text: str) -> bool:
    """Whether an answer label would be read as "not applicable" or "don't know"."""
    key = normalize_label(text)
    return key in NOT_APPLICABLE_SPELLINGS or key in DONT_KNOW_SPELLINGS


def numeral_value(text: str) -> float | None:
    """The number a numeral stands for, or ``None`` when ``text`` is no plain numeral.

    Full-width digits and surrounding spaces are allowed; thousands separators, units and
    words are not.

    >>> numeral_value(" 03 "), numeral_value("+3.00"), numeral_value("\\uff13"), numeral_value("3 points")
    (3.0, 3.0, 3.0, None)
    """
    plain = remove_invisible(unicodedata.normalize("NFKC", text)).strip()
    if not _NUMERAL.fullmatch(plain):
        return None
    try:
        number = Decimal(plain)
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return None
    return float(number)  # a numeral too large for a float is inf, refused as no whole number


def quote_value(raw: str) -> str:
    """A cell's value for a message, exactly as written (``repr``), shortened only when huge."""
    if len(raw) <= _QUOTE_MAX:
        return repr(raw)
    return repr(raw[: _QUOTE_MAX - 20]) + f"... ({len(raw)} characters)"


def answer_problem(raw: str, scale_points: int) -> str:
    """Why a cell is not an answer on a ``scale_points`` scale (the cell quoted as written)."""
    number = numeral_value(raw)
    if number is None:
        try:
            number = float(unicodedata.normalize("NFKC", raw).strip())  # inf, nan, 1e400
        except (ValueError, OverflowError):
            return (
                f"unknown answer {quote_value(raw)}: expected 1..{scale_points}, one of the item's labels, "
                "NA, DK or empty"
            )
    if not math.isfinite(number) or not float(number).is_integer():
        return f"answer {quote_value(raw)} is not a whole number from 1 to {scale_points}"
    shown = raw.strip() if len(raw.strip()) <= 30 else quote_value(raw)
    return f"answer {shown} is outside 1..{scale_points}"


class Reading(NamedTuple):
    """What one cell says: an answer (NaN for none), or a mark, or why it is no answer."""

    value: float
    not_applicable: bool
    dont_know: bool
    problem: str | None


class AnswerReader:
    """Reads the cells of one item: ``read(raw) -> Reading``.

    ``value`` is the answer 1..``scale_points`` as a float (NaN when none), and
    ``problem`` the message for a cell that is no answer (else ``None``). Construction
    only stores the item's labels; the lookup table is built on first use.

    Examples
    --------
    >>> reader = AnswerReader(("Never", "Rarely", "Sometimes", "Often", "Always"), 5)
    >>> reader.read("often").value, reader.read("4.0").value, reader.read("n/a").not_applicable
    (4.0, 4.0, True)
    >>> reader.read("Don\\u2019t know").dont_know
    True
    """

    def __init__(self, labels: Sequence[str], scale_points: int) -> None:
        self.labels = tuple(labels)
        self.scale_points = scale_points
        self._lookup: dict[str, float] | None = None

    def read(self, raw: str) -> Reading:
        if self._lookup is None:
            self._lookup = {normalize_label(label): float(v) for v, label in enumerate(self.labels, start=1)}
        if not raw or raw.isspace():
            return Reading(math.nan, False, False, None)
        key = normalize_label(raw)
        if not key:  # only invisible characters
            return Reading(math.nan, False, False, None)
        if key in NOT_APPLICABLE_SPELLINGS:
            return Reading(math.nan, True, False, None)
        if key in DONT_KNOW_SPELLINGS:
            return Reading(math.nan, False, True, None)
        if key in self._lookup:
            return Reading(self._lookup[key], False, False, None)
        number = numeral_value(raw)
        if number is not None and number.is_integer() and 1 <= number <= self.scale_points:
            return Reading(float(number), False, False, None)
        return Reading(math.nan, False, False, answer_problem(raw, self.scale_points))
