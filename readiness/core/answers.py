"""The two answers every item accepts besides its scale: "not applicable" and "don't know".

Core layer: the one home of how they are written, so that the loaders, the fill-in
workbook, the workshop app, the stores and the instrument's own checks (no item may use
these words as an answer label) agree. Spellings are compared in lower case after
stripping surrounding spaces.

- **Not applicable** (``NA`` / ``N/A``): the practice does not exist at the center, so the
  item does not count for that respondent; only items with ``allows_na`` accept it.
- **Don't know** (``DK`` / ``Don't know``): the respondent cannot see the practice. Every
  item accepts it. Like not applicable it is out of the score and out of the half rule;
  unlike it, it is counted and reported per facet (``docs/scoring.md``).
"""

from __future__ import annotations

__all__ = [
    "DONT_KNOW_LABEL",
    "DONT_KNOW_SPELLINGS",
    "DONT_KNOW_TEXT",
    "NOT_APPLICABLE_SPELLINGS",
    "NOT_APPLICABLE_TEXT",
    "OPEN_TEXT_MAX",
    "is_reserved_label",
]

#: How files written by the framework spell the two answers.
NOT_APPLICABLE_TEXT = "NA"
DONT_KNOW_TEXT = "DK"
#: What a person is offered to choose (drop-downs, the workshop form).
DONT_KNOW_LABEL = "Don't know"

#: Accepted spellings (lower case). The typographic apostrophe is what word processors and
#: phones put into "don't".
NOT_APPLICABLE_SPELLINGS: frozenset[str] = frozenset({"na", "n/a"})
DONT_KNOW_SPELLINGS: frozenset[str] = frozenset({"dk", "don't know", "don\u2019t know", "dont know"})


#: Longest free-text answer to an open question that is kept whole; longer ones are cut
#: here (with a warning), so one pasted document cannot swamp a report.
OPEN_TEXT_MAX = 2000


def is_reserved_label(text: str) -> bool:
    """Whether an answer label would be read as "not applicable" or "don't know"."""
    key = text.strip().lower()
    return key in NOT_APPLICABLE_SPELLINGS or key in DONT_KNOW_SPELLINGS
