"""Identifiers and spreadsheet safety: one home for how ids are normalized, checked and named.

Core layer, pure functions. Every reader of ids (the responses and profiles loaders, the
peer and workshop stores, the command line) and every writer of spreadsheet cells and
folder names takes its rules from here:

- :func:`normalize_id`: the form in which ids are compared and kept (Unicode NFKC,
  invisible characters removed everywhere, surrounding white space removed);
- :func:`id_problem`: why an id cannot be used (empty, too long, a control character, a
  path separator or ``..``, the start of a spreadsheet formula), or ``None``;
- :func:`case_clashes`: ids that differ only by case, which are refused rather than
  guessed at (``Acme`` and ``ACME`` are one organization typed twice, or two);
- :func:`starts_like_formula` and :data:`FORMULA_PREFIXES`: text a spreadsheet could take
  for a formula, refused in ids and neutralized in exports;
- :func:`folder_name`: a safe, collision-free folder name for an organization (the id
  itself when it is safe).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = [
    "FORMULA_PREFIXES",
    "MAX_ID",
    "case_clashes",
    "folder_name",
    "id_problem",
    "normalize_id",
    "remove_invisible",
    "starts_like_formula",
]

#: Longest id accepted, in characters.
MAX_ID = 200

#: Leading characters a spreadsheet may read as the start of a formula: OWASP's list
#: (``=``, ``+``, ``-``, ``@``, tab, carriage return), a newline, and the full-width signs
#: East Asian input methods type in place of ASCII.
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")

#: Characters that show nothing but make two ids differ: Unicode format characters
#: (category Cf: zero-width space and joiners, bidirectional marks, the byte-order mark,
#: the soft hyphen, ...) and the few letters and marks that render as blank.
_INVISIBLE_EXTRA = frozenset("\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180e\u180f\u3164\uffa0") | frozenset(
    chr(c)
    for c in range(0xFE00, 0xFE10)  # variation selectors
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: Names Windows reserves for devices: never a folder name as they are.
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})


def _invisible(ch: str) -> bool:
    return ch in _INVISIBLE_EXTRA or unicodedata.category(ch) == "Cf"


def remove_invisible(text: str) -> str:
    """``text`` without the characters that show nothing (zero-width spaces, joiners, marks).

    >>> remove_invisible("Ac\u200bme\ufeff")
    'Acme'
    """
    if any(_invisible(ch) for ch in text):
        return "".join(ch for ch in text if not _invisible(ch))
    return text


def normalize_id(value: str) -> str:
    """The form in which an id is compared and kept.

    Unicode NFKC (full-width letters and digits become ASCII, ligatures are split),
    invisible characters removed wherever they are, then surrounding white space removed.
    Case is kept: ids that differ only by case are found by :func:`case_clashes`.

    Examples
    --------
    >>> normalize_id(" Acme\\u200b ")
    'Acme'
    >>> normalize_id("\\uff21\\uff23\\uff2d\\uff25-01")
    'ACME-01'
    """
    return remove_invisible(unicodedata.normalize("NFKC", value)).strip()


def starts_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula, also after leading spaces.

    >>> starts_like_formula("=1+2"), starts_like_formula("  @SUM(A1)"), starts_like_formula("Acme")
    (True, True, False)
    """
    return text.startswith(FORMULA_PREFIXES) or text.lstrip().startswith(FORMULA_PREFIXES)


def id_problem(text: str, what: str) -> str | None:
    """Why ``text`` (already normalized) cannot be used as an id, or ``None`` when it can.

    ``what`` names the id in the message (``org_id``, ``respondent_id``, ``session``).
    The rules keep ids safe in file names, logs and spreadsheets: not empty, at most
    :data:`MAX_ID` characters, no control character, no ``/``, ``\\`` or ``..``, and no
    formula start (:func:`starts_like_formula`).

    >>> id_problem("../X", "org_id")
    "org_id '../X' contains a control character, a path separator or '..'"
    >>> id_problem("North Bank", "org_id") is None
    True
    """
    if not text:
        return f"{what} is empty"
    if len(text) > MAX_ID:
        return f"{what} is longer than {MAX_ID} characters"
    if _CONTROL.search(text) or "/" in text or "\\" in text or ".." in text:
        return f"{what} {text[:40]!r} contains a control character, a path separator or '..'"
    if starts_like_formula(text):
        return f"{what} {text[:40]!r} starts like a spreadsheet formula (=, +, -, @)"
    return None


def case_clashes(ids: Sequence[str], rows: Sequence[int] | None = None) -> list[tuple[str, int, str, int]]:
    """Ids that differ only by case: ``(first spelling, its row, other spelling, its row)``.

    One tuple per spelling after the first of each group, in the order met; ``rows`` are
    the rows the ids came from (default: positions from 1).

    >>> case_clashes(["Acme", "beta", "ACME", "acme", "Acme"], [2, 3, 4, 5, 6])
    [('Acme', 2, 'ACME', 4), ('Acme', 2, 'acme', 5)]
    """
    rows = list(rows) if rows is not None else list(range(1, len(ids) + 1))
    first: dict[str, tuple[str, int]] = {}
    spellings: set[str] = set()
    out = []
    for text, row in zip(ids, rows):
        if text in spellings:
            continue
        spellings.add(text)
        key = text.casefold()
        if key in first:
            out.append((first[key][0], first[key][1], text, int(row)))
        else:
            first[key] = (text, int(row))
    return out


def folder_name(org_id: str, others: Iterable[str] = ()) -> str:
    """A safe, collision-free folder name for an organization id: the id itself when it is safe.

    The id is the folder name when it is 1 to 48 ASCII letters, digits, ``-`` or ``_``,
    starts with a letter or digit, does not end like a suffix (``-`` and 8 hex digits),
    is no name Windows reserves (``CON``, ``NUL``, ...), and no id in ``others`` (the
    other organizations written beside it) differs from it only in case. Any other id
    keeps its safe characters (others become ``_``, at most 48) and gets a suffix: ``-``
    and a short hash of the exact id. So ids differing only in case or punctuation never
    share a folder (on a case-insensitive disk too), a suffixed name never equals a
    plain one, and no id can climb out of the output folder.

    >>> folder_name("P0001"), folder_name("P0001", others=["p0001"])
    ('P0001', 'P0001-56a8cf50')
    """
    folded = org_id.casefold()
    clash = any(o != org_id and o.casefold() == folded for o in others)
    if (
        re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,47}", org_id)
        and not re.search(r"-[0-9a-fA-F]{8}$", org_id)
        and folded.split(".")[0] not in _RESERVED
        and not clash
    ):
        return org_id
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", org_id).strip("_-")[:48] or "org"
    digest = hashlib.blake2b(org_id.encode("utf-8"), digest_size=4).hexdigest()
    return f"{stem}-{digest}"
