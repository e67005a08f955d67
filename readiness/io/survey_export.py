"""The questionnaire written for survey tools: Qualtrics, LimeSurvey, or a plain question list.

IO layer. Each form carries every item's id where the tool keeps one, so that the tool's
export maps back to the items without guessing (:mod:`readiness.io.survey_import`):

- **Qualtrics** — the Advanced Format TXT import: ``[[AdvancedFormat]]``, a block per
  dimension (``[[Block:People]]``), one single-answer multiple-choice question per item
  (``[[Question:MC:SingleAnswer:Vertical]]``) whose export tag is the item id
  (``[[ID:PEO_HIR_1]]``), its answer labels as ``[[Choices]]``, then "Not applicable"
  where the item allows it and "Don't know"; a page break between facets. The first
  block asks "What is your role?" with the instrument's roles as choices (tag ``role``);
  the open questions, if any, come last as essay questions (``[[Question:TE:Essay]]``).
- **LimeSurvey** — the tab-separated survey structure (``.txt``): survey rows (``S``,
  ``SL``), a group (``G``) per dimension, a list question (``Q``, type ``L``) per item
  whose code is the item id without ``_`` (LimeSurvey codes are letters and digits),
  answers (``A``) coded ``1``..``5``, ``NA``, ``DK``. Each item's relevance shows it only to
  the roles it is asked of; open questions are long free-text questions (type ``T``);
  with an organization id, a hidden equation question ``orgid`` records it in every
  response.
- **csv** — a plain question list for tools without an import (Microsoft Forms, Google
  Forms): the item id beside the exact text to paste and the choices, one per line.

Example
-------
>>> write_survey("survey.txt", load_instrument(), "qualtrics")     # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..core.answers import DONT_KNOW_TEXT, NOT_APPLICABLE_TEXT
from ..core.instrument import Dimension, Instrument, Item
from ..core.survey_matching import (
    ROLE_QUESTION,
    ROLE_TARGET,
    item_choices,
    role_choices,
    unique_codes,
)
from .exporters import neutralize, write_bytes

__all__ = [
    "LIMESURVEY_ORG_CODE",
    "OPEN_SECTION",
    "SURVEY_TOOLS",
    "limesurvey_answer_codes",
    "limesurvey_question_codes",
    "limesurvey_role_codes",
    "limesurvey_tsv",
    "qualtrics_txt",
    "question_list_csv",
    "survey_text",
    "write_survey",
]

#: The forms ``readiness survey --to`` writes.
SURVEY_TOOLS = ("qualtrics", "limesurvey", "csv")
#: The section that holds the open questions (answered in the respondent's own words).
OPEN_SECTION = "In your own words"
#: The hidden LimeSurvey question that records the organization id.
LIMESURVEY_ORG_CODE = "orgid"
#: LimeSurvey question codes: letters and digits, starting with a letter.
_LS_CODE_WIDTH = 20
#: LimeSurvey answer codes: at most five letters and digits.
_LS_ANSWER_WIDTH = 5
_LS_LANGUAGE = "en"
_LS_COLUMNS = (
    "id",
    "related_id",
    "class",
    "type/scale",
    "name",
    "relevance",
    "text",
    "help",
    "language",
    "validation",
    "mandatory",
    "other",
    "default",
    "same_default",
    "hidden",
)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# ---------------------------------------------------------------------- Qualtrics
def _qualtrics_text(text: str) -> str:
    """One line of Advanced Format: no tag can open inside it, no HTML element either."""
    text = _one_line(text).replace("[[", "[ [").replace("]]", "] ]")
    return text.replace("<", "&lt;").replace(">", "&gt;")


def _qualtrics_question(tag: str, text: str, choices: list[str]) -> list[str]:
    return [
        "[[Question:MC:SingleAnswer:Vertical]]",
        f"[[ID:{tag}]]",
        _qualtrics_text(text),
        "",
        "[[Choices]]",
        *(_qualtrics_text(c) for c in choices),
        "",
    ]


def qualtrics_txt(instrument: Instrument) -> str:
    """The Qualtrics Advanced Format TXT import of ``instrument`` (see the module docstring)."""
    lines = ["[[AdvancedFormat]]", "", "[[Block:About you]]", ""]
    lines += _qualtrics_question(ROLE_TARGET, ROLE_QUESTION, [text for text, _ in role_choices(instrument)])
    for dim in _dimensions(instrument):
        lines += [f"[[Block:{_qualtrics_text(dim.title or dim.id)}]]", ""]
        for f_i, facet in enumerate(dim.facets):
            if f_i:
                lines += ["[[PageBreak]]", ""]
            for item in facet.items:
                lines += _qualtrics_question(item.id, item.text, [text for text, _ in item_choices(item)])
    if instrument.open_questions:
        lines += [f"[[Block:{OPEN_SECTION}]]", ""]
        for question in instrument.open_questions:
            lines += ["[[Question:TE:Essay]]", f"[[ID:{question.id}]]", _qualtrics_text(question.text), ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _dimensions(instrument: Instrument) -> list[Dimension]:
    by_id: dict[str, Dimension] = {d.id: d for d in instrument.dimensions}
    return [by_id[d] for d in instrument.layout.dimension_ids]


# ---------------------------------------------------------------------- LimeSurvey
def limesurvey_question_codes(instrument: Instrument) -> dict[str, str]:
    """Item or open-question id -> LimeSurvey question code (``PEO_HIR_1`` -> ``PEOHIR1``), all different.

    The codes ``role`` and :data:`LIMESURVEY_ORG_CODE` are kept for the role question and
    the organization.
    """
    ids = [*instrument.layout.item_ids, *instrument.open_question_ids]
    codes = unique_codes([ROLE_TARGET, LIMESURVEY_ORG_CODE, *ids], width=_LS_CODE_WIDTH)
    return dict(zip(ids, codes[2:]))


def limesurvey_role_codes(instrument: Instrument) -> dict[str, str]:
    """Role id -> LimeSurvey answer code of the role question (``supervisor`` -> ``super``)."""
    roles = list(instrument.roles)
    return dict(zip(roles, unique_codes(roles, width=_LS_ANSWER_WIDTH)))


def limesurvey_answer_codes(item: Item) -> list[tuple[str, str, str]]:
    """An item's LimeSurvey answers: ``(code, text shown, canonical answer)``.

    The codes are the canonical answers themselves (``1``..``5``, ``NA``, ``DK``), so an
    export of answer codes is already in the canonical form.
    """
    return [(answer, text, answer) for text, answer in item_choices(item)]


def _ls_field(value: object) -> str:
    text = _one_line(str(value))
    # A field that opens with a quote would be read as a quoted field by a CSV-aware importer.
    if text.startswith('"'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _ls_row(**fields: object) -> str:
    return "\t".join(_ls_field(fields.get(c.replace("/", "_"), "")) for c in _LS_COLUMNS)


def limesurvey_tsv(instrument: Instrument, *, org_id: str = "") -> str:
    """LimeSurvey's tab-separated survey structure of ``instrument`` (see the module docstring)."""
    title = instrument.title or instrument.id
    rows = ["\t".join(_LS_COLUMNS)]
    rows.append(_ls_row(**{"class": "S"}, name="format", text="G"))
    rows.append(_ls_row(**{"class": "S"}, name="language", text=_LS_LANGUAGE))
    rows.append(_ls_row(**{"class": "SL"}, name="surveyls_title", text=title, language=_LS_LANGUAGE))
    description = f"{title}, version {instrument.version}" + (f", for {org_id}" if org_id else "")
    rows.append(_ls_row(**{"class": "SL"}, name="surveyls_description", text=description, language=_LS_LANGUAGE))
    codes = limesurvey_question_codes(instrument)
    role_codes = limesurvey_role_codes(instrument)
    group_id = 0
    question_id = 0

    def group(name: str, text: str = "") -> None:
        nonlocal group_id
        group_id += 1
        rows.append(_ls_row(id=group_id, **{"class": "G"}, name=name, relevance="1", text=text, language=_LS_LANGUAGE))

    def question(code: str, kind: str, text: str, relevance: str, mandatory: str, hidden: str = "") -> int:
        nonlocal question_id
        question_id += 1
        rows.append(
            _ls_row(
                id=question_id,
                **{"class": "Q", "type_scale": kind},
                name=code,
                relevance=relevance,
                text=text,
                language=_LS_LANGUAGE,
                mandatory=mandatory,
                other="N",
                same_default="0",
                hidden=hidden,
            )
        )
        return question_id

    group("About you")
    qid = question(ROLE_TARGET, "L", ROLE_QUESTION, "1", "Y")
    for text, role in role_choices(instrument):
        rows.append(
            _ls_row(
                id=qid, **{"class": "A", "type_scale": "0"}, name=role_codes[role], text=text, language=_LS_LANGUAGE
            )
        )
    if org_id:
        # An equation question's text is its value: the id, stored with every response.
        question(LIMESURVEY_ORG_CODE, "*", org_id, "1", "N", hidden="1")
    every_role = set(instrument.roles)

    def shown_to(roles: tuple[str, ...]) -> str:
        if set(roles) >= every_role:
            return "1"
        return " or ".join(f'role.NAOK == "{role_codes[r]}"' for r in roles)

    for dim in _dimensions(instrument):
        group(dim.title or dim.id, dim.description)
        for facet in dim.facets:
            for item in facet.items:
                qid = question(codes[item.id], "L", item.text, shown_to(item.roles), "N")
                for code, text, answer in limesurvey_answer_codes(item):
                    value = answer if answer not in (NOT_APPLICABLE_TEXT, DONT_KNOW_TEXT) else ""
                    rows.append(
                        _ls_row(
                            id=qid,
                            **{"class": "A", "type_scale": "0"},
                            name=code,
                            relevance=value,  # the assessment value of the answer
                            text=text,
                            language=_LS_LANGUAGE,
                        )
                    )
    if instrument.open_questions:
        group(OPEN_SECTION)
        for open_question in instrument.open_questions:
            question(codes[open_question.id], "T", open_question.text, shown_to(open_question.roles), "N")
    return "\n".join(rows) + "\n"


# ---------------------------------------------------------------------- question list
QUESTION_LIST_COLUMNS = ("number", "item_id", "section", "question", "choices", "asked_of")


def question_list_csv(instrument: Instrument) -> str:
    """A plain list of the questions for tools without an import (UTF-8 with BOM, CRLF).

    One row per question: its number, the item id (``role`` for the role question), the
    section (dimension), the exact text to paste, the choices one per line (none for an
    open question, answered in the respondent's own words), and the roles it is asked of. Cells that a spreadsheet could take for a formula are
    neutralized (``readiness.io.exporters.neutralize``).
    """
    from ..core.survey_matching import role_label

    buf = io.StringIO()
    # CRLF rows make the writer quote a cell holding a line break (RFC 4180).
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(QUESTION_LIST_COLUMNS)
    roles = [text for text, _ in role_choices(instrument)]
    rows = [[1, ROLE_TARGET, "About you", ROLE_QUESTION, "\n".join(roles), "everyone"]]
    for dim in _dimensions(instrument):
        for facet in dim.facets:
            for item in facet.items:
                rows.append(
                    [
                        len(rows) + 1,
                        item.id,
                        dim.title or dim.id,
                        _one_line(item.text),
                        "\n".join(_one_line(text) for text, _ in item_choices(item)),
                        ", ".join(role_label(r) for r in item.roles),
                    ]
                )
    for open_question in instrument.open_questions:
        rows.append(
            [
                len(rows) + 1,
                open_question.id,
                OPEN_SECTION,
                _one_line(open_question.text),
                "",  # answered in the respondent's own words
                ", ".join(role_label(r) for r in open_question.roles),
            ]
        )
    writer.writerows([[neutralize(v) for v in row] for row in rows])
    return "\ufeff" + buf.getvalue()


# ---------------------------------------------------------------------- writing
def survey_text(instrument: Instrument, tool: str, *, org_id: str = "") -> str:
    """The survey definition for ``tool`` (one of :data:`SURVEY_TOOLS`) as text."""
    if tool == "qualtrics":
        return qualtrics_txt(instrument)
    if tool == "limesurvey":
        return limesurvey_tsv(instrument, org_id=org_id)
    if tool == "csv":
        return question_list_csv(instrument)
    raise ValueError(f"unknown survey tool {tool!r}; expected one of {', '.join(SURVEY_TOOLS)}")


def write_survey(path: str | Path, instrument: Instrument, tool: str, *, org_id: str = "") -> Path:
    """Write the survey definition for ``tool`` to ``path``, atomically (UTF-8)."""
    return write_bytes(path, survey_text(instrument, tool, org_id=org_id).encode("utf-8"))
