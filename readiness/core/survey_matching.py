"""Matching a survey tool's questions and answers to the instrument: pure text rules.

Core layer: no files. The survey definitions (:mod:`readiness.io.survey_export`) offer
each item's choices in the order :func:`item_choices` gives, and the export reader
(:mod:`readiness.io.survey_import`) reads them back with the same functions, so the two
sides cannot drift apart.

A question is matched to an item by the id it carries (an export tag, a question code,
an item id beside or inside its text), else by its text after :func:`normalize_text`:
HTML entities and tags removed, Unicode NFKC, invisible characters dropped, quotes
straightened, case folded, punctuation and runs of white space made single spaces. An
answer is matched to the item's labels the same way, first keeping punctuation, then
without it when that is still unambiguous.

Example
-------
>>> normalize_text("  Coaching &amp; feedback<br>happen <b>weekly</b>. ")
'coaching feedback happen weekly'
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .answers import (
    DONT_KNOW_LABEL,
    DONT_KNOW_SPELLINGS,
    DONT_KNOW_TEXT,
    NOT_APPLICABLE_SPELLINGS,
    NOT_APPLICABLE_TEXT,
    plain_text,
)
from .answers import normalize_label as answer_label
from .instrument import Instrument, Item

__all__ = [
    "DONT_KNOW_CHOICE",
    "NOT_APPLICABLE_CHOICE",
    "ROLE_QUESTION",
    "ROLE_TARGET",
    "AnswerReader",
    "QuestionMatcher",
    "RoleReader",
    "item_choices",
    "normalize_label",
    "normalize_text",
    "role_choices",
    "role_label",
    "unique_codes",
]

#: The question that asks the respondent's role, as the survey definitions write it.
ROLE_QUESTION = "What is your role?"
#: What a matched role question maps to (an item id never equals it: ids are case-sensitive
#: identifiers, and ``role`` is a responses column the instrument forbids as an item id).
ROLE_TARGET = "role"
#: The choices offered besides an item's labels (the canonical file writes them as
#: :data:`~readiness.core.answers.NOT_APPLICABLE_TEXT` and ``DONT_KNOW_TEXT``).
NOT_APPLICABLE_CHOICE = "Not applicable"
DONT_KNOW_CHOICE = DONT_KNOW_LABEL
# Spellings read as these two answers (after normalize_label): the loaders' own, and the
# longer forms a survey tool's choice may carry.
_NA_SPELLINGS = NOT_APPLICABLE_SPELLINGS | {"not applicable", "n.a.", "does not apply"}
_DK_SPELLINGS = DONT_KNOW_SPELLINGS | {"do not know", "i don't know"}

_TAG = re.compile(r"<[^<>]{0,200}>")
# "1.", "Q12)", "3 -", "2.1:" before a question's text: how tools and people number questions.
_NUMBERING = re.compile(r"^\s*(?:q(?:uestion)?\s*)?\d{1,3}(?:\.\d{1,3})*\s*[.):\-–]\s*", re.IGNORECASE)
# An item id before a question's text ("PEO_HIR_1. ...", "[PEO_HIR_1] ...") or after it ("... (PEO_HIR_1)").
_ID_BEFORE = re.compile(r"^\s*\[?([A-Za-z][A-Za-z0-9_]{0,63})\]?\s*(?:[.:\-–)\]]\s*|\s+-\s+)(?=\S)")
_ID_AFTER = re.compile(r"[\[(]\s*([A-Za-z][A-Za-z0-9_]{0,63})\s*[\])]\s*$")


def _clean(text: str) -> str:
    """HTML unescaped and untagged (survey tools keep question texts as HTML), then
    :func:`readiness.core.answers.plain_text`: NFKC, invisible characters dropped, quotes straight."""
    text = html.unescape(str(text))
    if "<" in text:
        text = _TAG.sub(" ", text)
    return plain_text(text)


def normalize_label(text: str) -> str:
    """An answer label as compared: HTML untagged, then as the loaders compare labels.

    :func:`readiness.core.answers.normalize_label` (NFKC, invisible characters dropped,
    quotes straightened, case folded, white space collapsed) is the one rule; punctuation
    is kept (``1-2`` and ``12`` stay different).

    >>> normalize_label("  Don\u2019t &amp;  <b>KNOW</b> ")
    "don't & know"
    """
    return answer_label(_clean(text))


def normalize_text(text: str) -> str:
    """A question's text as compared: :func:`normalize_label` less all punctuation and symbols."""
    folded = normalize_label(text)
    return " ".join("".join(" " if unicodedata.category(c)[0] in "PSZ" else c for c in folded).split())


def _strip_numbering(text: str) -> str:
    return _NUMBERING.sub("", text, count=1)


def role_label(role: str) -> str:
    """How a role id is shown to respondents: ``first_line_agent`` -> ``First line agent``."""
    words = role.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def role_choices(instrument: Instrument) -> list[tuple[str, str]]:
    """The role question's choices: ``(text shown, role id)`` in the instrument's order."""
    return [(role_label(role), role) for role in instrument.roles]


def item_choices(item: Item) -> list[tuple[str, str]]:
    """An item's choices as the survey definitions offer them: ``(text shown, canonical answer)``.

    The item's labels in scale order (canonical answers ``"1"``..), then "Not applicable"
    where the item allows it, then "Don't know". A tool that exports the position of the
    chosen choice instead of its text is read back with this order.
    """
    choices = [(label, str(value)) for value, label in enumerate(item.labels, start=1)]
    if item.allows_na:
        choices.append((NOT_APPLICABLE_CHOICE, NOT_APPLICABLE_TEXT))
    choices.append((DONT_KNOW_CHOICE, DONT_KNOW_TEXT))
    return choices


def _numeral(text: str) -> int | None:
    plain = unicodedata.normalize("NFKC", text).strip()
    if re.fullmatch(r"\+?\d{1,4}(?:\.0*)?", plain):
        return int(float(plain))
    return None


class AnswerReader:
    """Reads one item's cells into the canonical answer (``"1"``.., ``NA``, ``DK`` or ``""``).

    ``read`` returns ``None`` for a cell it does not recognize: the caller passes such a
    cell on unchanged, so the loaders report it in their words (file, row, column).

    Parameters
    ----------
    item : Item
    scale_points : int
    positions : bool
        Read a number beyond the scale as the position of a choice in
        :func:`item_choices` (what Qualtrics and SurveyMonkey export as numeric values).
    codes : mapping, optional
        Further spellings (answer codes of a tool) -> canonical answer.

    Examples
    --------
    >>> reader = AnswerReader(item, 5, positions=True)                  # doctest: +SKIP
    >>> reader.read("Agree"), reader.read("4"), reader.read("7"), reader.read("Don't know")  # doctest: +SKIP
    ('4', '4', 'DK', 'DK')
    """

    def __init__(
        self, item: Item, scale_points: int, *, positions: bool = False, codes: Mapping[str, str] | None = None
    ) -> None:
        self.item = item
        self.scale_points = scale_points
        self.positions = positions
        self.codes = dict(codes or {})
        self._strict: dict[str, str] | None = None
        self._loose: dict[str, str] = {}
        self._read: dict[str, str | None] = {}  # cells repeat: each spelling is worked out once

    def _build(self) -> dict[str, str]:
        strict: dict[str, str] = {}
        for spelling in _NA_SPELLINGS:
            strict[spelling] = NOT_APPLICABLE_TEXT
        for spelling in _DK_SPELLINGS:
            strict[spelling] = DONT_KNOW_TEXT
        for text, answer in self.codes.items():
            strict[normalize_label(text)] = answer
        # The item's own labels win over the reserved words ("Not applicable" as a scale label).
        for value, label in enumerate(self.item.labels, start=1):
            strict[normalize_label(label)] = str(value)
        loose: dict[str, set[str]] = {}
        for text, answer in strict.items():
            loose.setdefault(normalize_text(text), set()).add(answer)
        self._loose = {key: next(iter(found)) for key, found in loose.items() if len(found) == 1 and key}
        return strict

    def read(self, raw: str) -> str | None:
        try:
            return self._read[raw]
        except KeyError:
            answer = self._read[raw] = self._read_new(raw)
            return answer

    def _read_new(self, raw: str) -> str | None:
        if self._strict is None:
            self._strict = self._build()
        if not raw or not raw.strip():
            return ""
        key = normalize_label(raw)
        if not key:
            return ""
        if key in self._strict:
            return self._strict[key]
        number = _numeral(raw)
        if number is not None:
            if 1 <= number <= self.scale_points:
                return str(number)
            if self.positions:
                choices = item_choices(self.item)
                if 1 <= number <= len(choices):
                    return choices[number - 1][1]
            return None
        return self._loose.get(normalize_text(raw))


class RoleReader:
    """Reads the role question's answers into role ids; ``None`` for a cell it does not know."""

    def __init__(self, instrument: Instrument, *, codes: Mapping[str, str] | None = None, positions: bool = False):
        self.roles = tuple(instrument.roles)
        self.positions = positions
        lookup: dict[str, str] = {}
        for text, role in role_choices(instrument):
            lookup[normalize_text(text)] = role
            lookup[normalize_text(role)] = role
        for code, role in (codes or {}).items():
            lookup[normalize_text(code)] = role
        self._lookup = lookup
        self._read: dict[str, str | None] = {}

    def read(self, raw: str) -> str | None:
        try:
            return self._read[raw]
        except KeyError:
            role = self._read[raw] = self._read_new(raw)
            return role

    def _read_new(self, raw: str) -> str | None:
        if not raw or not raw.strip():
            return ""
        found = self._lookup.get(normalize_text(raw))
        if found is None and self.positions:
            number = _numeral(raw)
            if number is not None and 1 <= number <= len(self.roles):
                found = self.roles[number - 1]
        return found


@dataclass(frozen=True)
class Match:
    """Where a question column goes: an item or open-question id, or :data:`ROLE_TARGET`; and how."""

    target: str
    how: str  # "id", "id in text", "text", "text without numbering or punctuation"


class QuestionMatcher:
    """Finds the item, open question or role question a survey tool's column holds.

    Parameters
    ----------
    instrument : Instrument
    codes : mapping, optional
        Tool-specific question codes -> item id (LimeSurvey codes cannot hold ``_``).
    role_question : str, optional
        The role question's text, when it is not :data:`ROLE_QUESTION`.
    """

    def __init__(
        self,
        instrument: Instrument,
        *,
        codes: Mapping[str, str] | None = None,
        role_question: str | None = None,
    ) -> None:
        self.instrument = instrument
        targets = (*instrument.layout.item_ids, *instrument.open_question_ids)
        self._ids: dict[str, str] = {target.casefold(): target for target in targets}
        for code, item_id in (codes or {}).items():
            self._ids.setdefault(code.casefold(), item_id)
        self._ids[ROLE_TARGET] = ROLE_TARGET
        texts: dict[str, set[str]] = {}
        loose: dict[str, set[str]] = {}
        role_texts = {ROLE_QUESTION, *([role_question] if role_question else [])}
        pairs = [(item.text, item.id) for item in instrument.items.values()]
        pairs += [(question.text, question.id) for question in instrument.open_questions]
        pairs += [(text, ROLE_TARGET) for text in role_texts]
        for text, target in pairs:
            texts.setdefault(normalize_text(text), set()).add(target)
            loose.setdefault(normalize_text(_strip_numbering(_clean(text))), set()).add(target)
        # Two items whose texts read the same are matched by id only, never by a guess.
        self._text = {key: next(iter(found)) for key, found in texts.items() if len(found) == 1 and key}
        self._loose = {key: next(iter(found)) for key, found in loose.items() if len(found) == 1 and key}

    def match(self, ids: Iterable[str] = (), texts: Iterable[str] = ()) -> Match | None:
        """The match of a column given its id-like names (export tag, code) and its texts."""
        ids, texts = [i for i in ids if i and i.strip()], [t for t in texts if t and t.strip()]
        for name in ids:
            found = self._ids.get(_clean(name).strip().casefold())
            if found:
                return Match(found, "id")
        for text in [*ids, *texts]:
            for pattern in (_ID_BEFORE, _ID_AFTER):
                hit = pattern.search(_clean(text))
                if hit and hit.group(1).casefold() in self._ids:
                    return Match(self._ids[hit.group(1).casefold()], "id in text")
        for text in texts:
            found = self._text.get(normalize_text(text))
            if found:
                return Match(found, "text")
        for text in [*texts, *ids]:
            cleaned = _clean(text)
            found = self._loose.get(normalize_text(_strip_numbering(cleaned)))
            if found is None:
                # "Statement - Question" and "Question - Statement" as matrix exports write them
                for part in re.split(r"\s+[-–]\s+", cleaned):
                    found = self._text.get(normalize_text(part)) or found
            if found:
                return Match(found, "text without numbering or punctuation")
        return None

    def closest(self, text: str) -> str | None:
        """The item whose text is closest to ``text`` (for a message), if any is close."""
        import difflib

        key = normalize_text(text)
        if not key:
            return None
        best = difflib.get_close_matches(key, list(self._text), n=1, cutoff=0.6)
        return self._text[best[0]] if best else None


def unique_codes(names: Sequence[str], *, width: int) -> list[str]:
    """Alphanumeric codes of at most ``width`` characters, one per name, all different.

    Used for the question and answer codes of tools that allow only letters and digits:
    ``PEO_HIR_1`` -> ``PEOHIR1``. A code taken already gets a number at its end.
    """
    out: list[str] = []
    taken: set[str] = set()
    for name in names:
        base = re.sub(r"[^A-Za-z0-9]", "", name)[:width] or "X"
        if not base[0].isalpha():
            base = ("X" + base)[:width]
        code, n = base, 1
        while code.casefold() in taken:
            n += 1
            suffix = str(n)
            code = base[: width - len(suffix)] + suffix
        taken.add(code.casefold())
        out.append(code)
    return out
