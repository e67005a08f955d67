"""Survey-tool exports read into the canonical responses: Qualtrics, SurveyMonkey, LimeSurvey, Forms.

IO layer. :func:`convert_export` reads a tool's CSV or XLSX export and returns a
:class:`Conversion`: the canonical wide table (``org_id, respondent_id, role``, then one
column per matched item, answers as ``1``..``k``, ``NA``, ``DK`` or empty, then one per
matched open question, its answers as written) and a
:class:`ConversionReport` saying what became what. The canonical table is then read by
the normal loaders (:func:`readiness.io.loaders.parse_responses`), so an export is
validated by exactly the rules a responses file is, and their messages name the
export's file, row and column.

The layouts read (see ``docs/survey-tools.md``):

- **Qualtrics** — three header rows: column ids (the export tags), question texts, and
  ``{"ImportId": ...}``; metadata columns (``StartDate``, ``Status``, ``Progress``,
  ``Finished``, ``ResponseId``, ...) and embedded data (any other column whose ImportId
  is no question). Previews, tests and spam (``Status``) are left out; unfinished
  responses are kept and listed with their progress.
- **SurveyMonkey** — question texts in the first row, a sub-header row below
  (``Response``, or a matrix row's text); ``Respondent ID``, ``Collector ID``, dates,
  contact fields and ``Custom Data`` columns.
- **LimeSurvey** — one header row of question codes (or texts, or ``code. text``);
  ``id``, ``submitdate`` (empty for an incomplete response), ``lastpage`` and the other
  response fields; answers as codes or full texts.
- **Forms** (Microsoft, Google) — question texts as headers, a ``Timestamp`` or
  ``ID``/``Start time``/``Completion time`` columns.

A question is matched by the item id it carries, else by its text; an answer by the
item's labels, "Not applicable" and "Don't know" (:mod:`readiness.core.survey_matching`).

Example
-------
>>> conversion = convert_export("export.csv", load_instrument(), ExportOptions(org_column="site"))  # doctest: +SKIP
>>> write_responses("responses.csv", conversion)                                             # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..core.errors import MAX_PROBLEMS, InputError, Problem
from ..core.instrument import META_COLUMNS, Instrument
from ..core.responses import Responses
from ..core.survey_matching import (
    ROLE_TARGET,
    AnswerReader,
    QuestionMatcher,
    RoleReader,
    normalize_label,
    normalize_text,
)
from .loaders import parse_responses, parse_responses_isolating
from .survey_export import LIMESURVEY_ORG_CODE, limesurvey_question_codes, limesurvey_role_codes
from .tables import Limits, Table, read_rows

__all__ = [
    "EXPORT_TOOLS",
    "TOOL_NAMES",
    "Conversion",
    "ConversionReport",
    "ExportOptions",
    "convert_export",
    "detect_tool",
    "responses_bytes",
    "write_responses",
]

#: The export layouts ``--from`` names (``auto`` tells them apart by their headers).
EXPORT_TOOLS = ("qualtrics", "surveymonkey", "limesurvey", "forms")
TOOL_NAMES = {
    "qualtrics": "Qualtrics",
    "surveymonkey": "SurveyMonkey",
    "limesurvey": "LimeSurvey",
    "forms": "Microsoft/Google Forms",
}

# Metadata columns, by the normalize_label of their header (and Qualtrics' ImportIds).
_QUALTRICS_META = frozenset(
    {
        "startdate",
        "enddate",
        "status",
        "ipaddress",
        "progress",
        "duration (in seconds)",
        "finished",
        "recordeddate",
        "responseid",
        "recipientlastname",
        "recipientfirstname",
        "recipientemail",
        "externalreference",
        "externaldatareference",
        "locationlatitude",
        "locationlongitude",
        "distributionchannel",
        "userlanguage",
    }
)
_QUALTRICS_IMPORT_META = frozenset(
    {
        "startdate",
        "enddate",
        "status",
        "ipaddress",
        "progress",
        "duration",
        "finished",
        "recordeddate",
        "_recordid",
        "recipientlastname",
        "recipientfirstname",
        "recipientemail",
        "externaldatareference",
        "locationlatitude",
        "locationlongitude",
        "distributionchannel",
        "userlanguage",
    }
)
_SURVEYMONKEY_META = frozenset(
    {
        "respondent id",
        "collector id",
        "start date",
        "end date",
        "ip address",
        "email address",
        "first name",
        "last name",
    }
)
_LIMESURVEY_META = frozenset(
    {
        "id",
        "submitdate",
        "lastpage",
        "startlanguage",
        "seed",
        "token",
        "startdate",
        "datestamp",
        "ipaddr",
        "refurl",
        "interviewtime",
        "response id",
        "date submitted",
        "last page",
        "start language",
        "date started",
        "date last action",
        "ip address",
        "referrer url",
        "total time",
    }
)
_FORMS_META = frozenset(
    {
        "timestamp",
        "email address",
        "score",
        "total points",
        "quiz feedback",
        "id",
        "start time",
        "completion time",
        "email",
        "name",
        "last modified time",
        "respondent_id",
    }
)
# The response id, partial-response and duplicate-person columns of each layout.
_RESPONSE_ID = {
    "qualtrics": ("responseid", "response id"),
    "surveymonkey": ("respondent id",),
    "limesurvey": ("id", "response id"),
    "forms": ("respondent_id", "id"),
}
_PERSON = ("recipientemail", "externalreference", "externaldatareference", "email address", "email", "token")
# Headers that name the organization when no --org or --org-column is given (normalize_text).
_ORG_NAMES = frozenset(
    {
        "org",
        "org id",
        "organization",
        "organisation",
        "organization id",
        "organisation id",
        "site",
        "site id",
        "center",
        "centre",
        "center id",
        "centre id",
    }
)
# LimeSurvey's hidden organization question under a "code. text" heading.
_ORG_HEADING = re.compile(rf"^{LIMESURVEY_ORG_CODE}\s*[.:]\s", re.IGNORECASE)
_QID = re.compile(r"^(?:\d+_)?QID\d+", re.IGNORECASE)
_QUALTRICS_EXTRA = re.compile(r"_(?:TEXT|DO)$", re.IGNORECASE)
_CUSTOM_DATA = re.compile(r"^custom (?:data|variable)\b", re.IGNORECASE)
# Qualtrics response types that are not respondents (text and numeric exports).
_NOT_RESPONDENTS = {"survey preview": "a survey preview", "survey test": "a survey test", "spam": "marked as spam"}
_NOT_RESPONDENT_CODES = {"1": "a survey preview", "2": "a survey test", "8": "marked as spam", "17": "a survey preview"}


@dataclass(frozen=True)
class ExportOptions:
    """How to read an export (the ``convert`` options).

    ``tool``: one of :data:`EXPORT_TOOLS` or ``"auto"``. The organization is ``org_id``
    for every row, or the value of the column ``org_column`` (give one, not both); with
    neither, a column named ``org_id`` (or LimeSurvey's ``orgid``), else the one column
    named like an organization or site (``site``, ``organization``, ``center``, ...),
    else a SurveyMonkey export's one custom-data column. The role
    question is found by the id ``role`` or by its text (``role_question``, default
    "What is your role?"). ``ignore_columns`` leaves out questions that match no item
    instead of refusing the export.
    """

    tool: str = "auto"
    org_id: str = ""
    org_column: str = ""
    role_question: str = ""
    ignore_columns: bool = False
    #: the organization of every row when the export has no organization column
    #: (``score --from``: there ``--org`` chooses among the organizations when it has one)
    default_org: str = ""
    #: the workbook sheet to read, and how large the export may be (``--sheet``, ``--max-rows``, ...)
    sheet: str | None = None
    limits: Limits | None = None


@dataclass
class ConversionReport:
    """What :func:`convert_export` did with every column and row.

    Attributes
    ----------
    source, tool : str
        The export's file name and the layout read (:data:`EXPORT_TOOLS`).
    items : list of (column, item id, how matched)
    open_questions : list of (column, open-question id, how matched)
        Answers in the respondent's own words, carried as written.
    role_column, org_column, id_column : str
        The columns that gave the role, the organization (``--org ID`` when given) and
        the respondent id (empty: generated from the row number).
    role_found_by : str
        Empty when the role question was found by its id or text; else how.
    metadata, embedded, ignored : list of str
        Columns left out: the tool's response fields, embedded or custom data, and
        questions that matched nothing (left out with ``ignore_columns``).
    missing_items : list of str
        Items of the instrument no column holds.
    partial : list of (row, respondent id, progress)
        Unfinished responses, kept.
    duplicates : list of (row, first row, respondent id)
        Repeated copies of a response (same id, same answers), left out.
    same_person : list of (row, first row, column)
        Different responses given with the same e-mail or reference, kept; worth a look.
    excluded : list of (row, reason)
        Rows that are no respondent (previews, tests, spam), left out.
    respondents, organizations : int
        Rows written and the organizations among them.
    """

    source: str
    tool: str
    items: list[tuple[str, str, str]] = field(default_factory=list)
    open_questions: list[tuple[str, str, str]] = field(default_factory=list)
    role_column: str = ""
    role_found_by: str = ""
    org_column: str = ""
    id_column: str = ""
    metadata: list[str] = field(default_factory=list)
    embedded: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    missing_items: list[str] = field(default_factory=list)
    partial: list[tuple[int, str, str]] = field(default_factory=list)
    duplicates: list[tuple[int, int, str]] = field(default_factory=list)
    same_person: list[tuple[int, int, str]] = field(default_factory=list)
    excluded: list[tuple[int, str]] = field(default_factory=list)
    respondents: int = 0
    organizations: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The report as a JSON-ready mapping (``convert --report``)."""
        return {
            "source": self.source,
            "tool": self.tool,
            "respondents": self.respondents,
            "organizations": self.organizations,
            "columns": {
                "items": [{"column": c, "item": i, "matched_by": how} for c, i, how in self.items],
                "open_questions": [
                    {"column": c, "question": q, "matched_by": how} for c, q, how in self.open_questions
                ],
                "role": self.role_column,
                "role_found_by": self.role_found_by or "id or text",
                "organization": self.org_column,
                "respondent_id": self.id_column,
                "metadata": list(self.metadata),
                "embedded_data": list(self.embedded),
                "ignored": list(self.ignored),
            },
            "items_without_column": list(self.missing_items),
            "partial": [{"row": r, "respondent_id": rid, "progress": p} for r, rid, p in self.partial],
            "duplicates": [{"row": r, "first_row": f, "respondent_id": rid} for r, f, rid in self.duplicates],
            "same_person": [{"row": r, "first_row": f, "column": c} for r, f, c in self.same_person],
            "excluded": [{"row": r, "reason": why} for r, why in self.excluded],
        }

    def summary(self) -> str:
        """One line for the results' warnings: where the answers came from."""
        text = (
            f"answers converted from a {TOOL_NAMES[self.tool]} export ({self.source}): "
            f"{len(self.items)} questions matched to items"
        )
        extra = []
        if self.partial:
            extra.append(f"{len(self.partial)} unfinished response(s) kept")
        if self.duplicates:
            extra.append(f"{len(self.duplicates)} repeated response(s) left out")
        if self.excluded:
            extra.append(f"{len(self.excluded)} preview/test row(s) left out")
        if self.ignored:
            extra.append(f"{len(self.ignored)} question(s) matching no item left out")
        return text + ("; " + ", ".join(extra) if extra else "")

    def lines(self) -> list[str]:
        """The report as lines of text for a person."""
        out = [
            f"{self.source}: {TOOL_NAMES[self.tool]} export, {self.respondents} respondent(s), "
            f"{self.organizations} organization(s)",
            f"role from: {self.role_column}" + (f" (found by {self.role_found_by})" if self.role_found_by else ""),
            f"organization from: {self.org_column}",
            f"respondent id from: {self.id_column or '(generated from the row number)'}",
            f"{len(self.items)} question(s) matched to items:",
        ]
        out += [f"  {column} -> {item} (by {how})" for column, item, how in self.items]
        if self.open_questions:
            out.append(f"{len(self.open_questions)} open question(s), answers kept as written:")
            out += [f"  {column} -> {question} (by {how})" for column, question, how in self.open_questions]
        for title, names in (
            ("left out as metadata", self.metadata),
            ("left out as embedded or custom data", self.embedded),
            ("left out, matching no item (--ignore-columns)", self.ignored),
            ("items with no column in the export", self.missing_items),
        ):
            if names:
                out.append(f"{title}: {', '.join(names)}")
        if self.partial:
            out.append(f"{len(self.partial)} unfinished response(s), kept:")
            out += [f"  row {r}: {rid} (progress {p})" for r, rid, p in self.partial]
        if self.duplicates:
            out.append(f"{len(self.duplicates)} repeated response(s), left out:")
            out += [f"  row {r}: {rid}, same as row {f}" for r, f, rid in self.duplicates]
        if self.same_person:
            out.append(f"{len(self.same_person)} response(s) sharing a person's {self.same_person[0][2]}, kept:")
            out += [f"  row {r}: same {c} as row {f}" for r, f, c in self.same_person]
        if self.excluded:
            out.append(f"{len(self.excluded)} row(s) that are no respondent, left out:")
            out += [f"  row {r}: {why}" for r, why in self.excluded]
        return out


@dataclass(frozen=True, eq=False)
class Conversion:
    """An export in canonical form: the table the loaders read, and the report."""

    table: Table
    report: ConversionReport
    #: canonical column -> how the export names it (for messages)
    column_names: dict[str, str]

    def frame(self) -> pd.DataFrame:
        """The canonical wide responses (all text), as ``convert --out`` writes them."""
        return self.table.cells.copy()

    def relabel(self, problems: Iterable[Problem]) -> list[Problem]:
        """Problems of the canonical table told in the export's column names."""
        return [replace(p, column=self.column_names.get(p.column, p.column)) if p.column else p for p in problems]

    def parse(self, instrument: Instrument) -> Responses:
        """The validated responses (:func:`readiness.io.loaders.parse_responses`)."""
        try:
            return parse_responses(self.table, instrument)
        except InputError as exc:
            raise InputError(problems=self.relabel(exc.problems)) from None

    def parse_isolating(self, instrument: Instrument) -> tuple[Responses, dict[str, str]]:
        """Like :meth:`parse`, setting aside organizations whose own rows are bad (batches)."""
        try:
            return parse_responses_isolating(self.table, instrument)
        except InputError as exc:
            raise InputError(problems=self.relabel(exc.problems)) from None


# ---------------------------------------------------------------------- layouts
@dataclass
class _Column:
    index: int
    name: str  # how messages and the report name it
    ids: tuple[str, ...]  # names that may carry an item id (export tag, code)
    texts: tuple[str, ...]  # question texts
    key: str  # normalize_label of the first-row header
    kind: str = ""  # "metadata", "embedded", or "" (a question, matched later)


@dataclass
class _Layout:
    tool: str
    columns: list[_Column]
    data: list[list[str]]
    rows: list[int]
    header_rows: int


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index + 1)


def _short(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _named(index: int, header: str) -> str:
    """A column as messages name it: its header, and its letter when the header is text."""
    header = _short(header)
    if re.fullmatch(r"[A-Za-z0-9_.()\- ]{1,40}", header):
        return header
    return f"{_letter(index)} ({header})" if header else _letter(index)


def _import_id(cell: str) -> str | None:
    text = cell.strip()
    if not text.startswith("{"):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    value = doc.get("ImportId") if isinstance(doc, dict) else None
    return str(value) if value is not None else None


def _is_import_row(cells: Sequence[str]) -> bool:
    return any(_import_id(c) is not None for c in cells)


def _header_index(header: list[str], keys: Iterable[str]) -> int | None:
    names = [normalize_label(h) for h in header]
    return next((names.index(k) for k in keys if k in names), None)


def _qualtrics(header: list[str], body: list[list[str]], rows: list[int]) -> _Layout:
    has_ids = len(body) > 1 and _is_import_row(body[1])
    rid = _header_index(header, _RESPONSE_ID["qualtrics"])
    # The question-text row is there unless a response id stands where "Response ID" should.
    has_texts = has_ids or not (
        body and rid is not None and body[0][rid] and normalize_label(body[0][rid]) != "response id"
    )
    texts = body[0] if body and has_texts else [""] * len(header)
    import_ids = body[1] if has_ids else [""] * len(header)
    start = 2 if has_ids else int(has_texts)
    columns = []
    for i, name in enumerate(header):
        key = normalize_label(name)
        import_id = (_import_id(import_ids[i]) or "") if has_ids else ""
        kind = ""
        if key in _QUALTRICS_META or import_id.casefold() in _QUALTRICS_IMPORT_META:
            kind = "metadata"
        elif name.startswith("Q_") or import_id.startswith("Q_"):
            kind = "metadata"  # Qualtrics' own fields: Q_RecaptchaScore, Q_RelevantIDDuplicate, ...
        elif _QUALTRICS_EXTRA.search(import_id) or _QUALTRICS_EXTRA.search(name):
            kind = "metadata"  # the text typed beside a choice (_TEXT), a display order (_DO)
        elif has_ids and not _QID.match(import_id) and key != ROLE_TARGET:
            kind = "embedded"
        columns.append(_Column(i, _named(i, name or texts[i]), (name,), (texts[i],), key, kind))
    return _Layout("qualtrics", columns, body[start:], rows[start:], start + 1)


def _surveymonkey(header: list[str], body: list[list[str]], rows: list[int]) -> _Layout:
    rid = _header_index(header, _RESPONSE_ID["surveymonkey"])
    # The sub-header row holds nothing under "Respondent ID"; a respondent's row does.
    has_sub = bool(body) and (rid is None or not body[0][rid])
    sub = body[0] if has_sub else [""] * len(header)
    columns = []
    question = ""
    for i, name in enumerate(header):
        if name:
            question = name
        # A question spanning several columns names itself in its first column only.
        parent = name or (question if sub[i] else "")
        key = normalize_label(parent)
        kind = ""
        subheader = normalize_label(sub[i])
        if key in _SURVEYMONKEY_META:
            kind = "metadata"
        elif _CUSTOM_DATA.match(parent):
            kind = "embedded"
        elif subheader.startswith("other (please specify)"):
            kind = "metadata"  # the text typed beside a question's "Other" choice
        texts = [parent]
        if sub[i] and subheader not in ("response", "open-ended response"):
            texts = [sub[i], f"{parent} - {sub[i]}"]  # a matrix row: its own text is the question
        shown = parent if not sub[i] or texts[0] == parent else f"{parent} - {sub[i]}"
        columns.append(_Column(i, _named(i, shown), (), tuple(texts), key, kind))
    start = int(has_sub)
    return _Layout("surveymonkey", columns, body[start:], rows[start:], start + 1)


def _one_row(tool: str, meta: frozenset[str]):
    def layout(header: list[str], body: list[list[str]], rows: list[int]) -> _Layout:
        columns = []
        for i, name in enumerate(header):
            key = normalize_label(name)
            kind = "metadata" if key in meta else ""
            if tool == "limesurvey" and not kind and re.fullmatch(r"(?i)(?:grouptime\d+|\w+time)", name):
                kind = "metadata"  # LimeSurvey's timings: interviewtime, groupTime12, PEOHIR1Time
            columns.append(_Column(i, _named(i, name), (name,), (name,), key, kind))
        return _Layout(tool, columns, body, rows, 1)

    return layout


_LAYOUTS = {
    "qualtrics": _qualtrics,
    "surveymonkey": _surveymonkey,
    "limesurvey": _one_row("limesurvey", _LIMESURVEY_META),
    "forms": _one_row("forms", _FORMS_META),
}


def detect_tool(header: Sequence[str], body: Sequence[Sequence[str]]) -> str | None:
    """Which layout an export has, from its header rows; ``None`` when none fits."""
    names = {normalize_label(h) for h in header}
    if any(_is_import_row(r) for r in body[:2]) or ("responseid" in names and names & {"startdate", "finished"}):
        return "qualtrics"
    if "respondent id" in names and names & {"collector id", "start date", "end date"}:
        return "surveymonkey"
    if names & {"submitdate", "lastpage", "startlanguage", "date submitted", "last page", "start language"}:
        return "limesurvey"
    if "timestamp" in names or {"start time", "completion time"} <= names or set(META_COLUMNS) <= names:
        return "forms"
    return None


# ---------------------------------------------------------------------- converting
def convert_export(path: str | Path, instrument: Instrument, options: ExportOptions | None = None) -> Conversion:
    """Read a survey tool's export into the canonical responses (see the module docstring).

    Raises :class:`InputError` (naming the file, row and column) for an export that
    cannot be converted: an unknown layout, no role question, no organization, a
    question that matches no item (unless ``options.ignore_columns``), two columns for
    one item, a repeated response id with different answers. Answers that match no
    label are passed on as written, for the loaders to report (:meth:`Conversion.parse`).
    """
    options = options or ExportOptions()
    source = Path(path).name
    if options.org_id and options.org_column:
        raise InputError("give the organization as --org ID or as --org-column NAME, not both", source="command line")
    if options.tool not in ("auto", *EXPORT_TOOLS):
        raise InputError(
            f"unknown export layout {options.tool!r}; expected auto or one of {', '.join(EXPORT_TOOLS)}",
            source="command line",
        )
    raw_header, body, rows = read_rows(path, sheet=options.sheet, limits=options.limits)
    header = [str(h).lstrip("\ufeff").strip() for h in raw_header]
    tool = options.tool
    if tool == "auto":
        found = detect_tool(header, body)
        if found is None:
            raise InputError(
                "cannot tell which survey tool wrote this export (no Qualtrics, SurveyMonkey, LimeSurvey or "
                "Forms header found); name it with --from",
                source=source,
                row=1,
            )
        tool = found
    layout = _LAYOUTS[tool](header, body, rows)
    if not layout.data:
        raise InputError("has a header but no response rows", source=source, row=rows[0] if rows else 1)
    report = ConversionReport(source=source, tool=tool)
    plan = _plan_columns(layout, instrument, options, report, source)
    return _convert_rows(layout, instrument, report, plan, source)


@dataclass
class _Plan:
    items: dict[str, _Column]
    org: _Column | None
    respondent: _Column | None
    role: _Column | None = None
    finished: _Column | None = None
    progress: _Column | None = None
    status: _Column | None = None
    channel: _Column | None = None
    person: list[_Column] = field(default_factory=list)
    org_id: str = ""  # every row's organization when no column gives it
    open: dict[str, _Column] = field(default_factory=dict)  # open questions, carried as written


def _find(columns: Iterable[_Column], keys: Iterable[str]) -> _Column | None:
    wanted = list(keys)
    for key in wanted:
        for column in columns:
            if column.key == key:
                return column
    return None


def _organization_column(layout: _Layout) -> _Column | None:
    """The column that names the organization when none is given: by its name, else none.

    ``org_id`` (or LimeSurvey's hidden ``orgid``); else the one column named like an
    organization or a site (:data:`_ORG_NAMES`); else, in a SurveyMonkey export, its one
    custom-data column. Two candidates are no answer: the user names the column.
    """
    columns = layout.columns
    found = _find(columns, ("org_id", LIMESURVEY_ORG_CODE)) or next(
        (c for c in columns if _ORG_HEADING.match(c.name)), None
    )
    if found is not None:
        return found
    named = [c for c in columns if c.key and normalize_text(c.key) in _ORG_NAMES]
    if len(named) == 1:
        return named[0]
    if layout.tool == "surveymonkey" and not named:
        custom = [c for c in columns if c.kind == "embedded" and any(row[c.index] for row in layout.data)]
        if len(custom) == 1:
            return custom[0]
    return None


def _question_text(instrument: Instrument, target: str) -> str:
    if target == ROLE_TARGET:
        return "the role question"
    if target in instrument.items:
        return instrument.items[target].text
    return next(q.text for q in instrument.open_questions if q.id == target)


def _plan_columns(
    layout: _Layout, instrument: Instrument, options: ExportOptions, report: ConversionReport, source: str
) -> _Plan:
    columns = layout.columns
    org: _Column | None = None
    if options.org_column:
        wanted = normalize_text(options.org_column)
        hits = [
            c
            for c in columns
            if wanted and wanted in {normalize_text(t) for t in (*c.ids, *c.texts, c.name) if t} and c.key
        ] or [c for c in columns if wanted and normalize_text(_letter(c.index)) == wanted]
        if not hits:
            raise InputError(
                f"no column named {options.org_column!r} (--org-column)",
                source=source,
                row=1,
                column=options.org_column,
            )
        if len(hits) > 1:
            raise InputError(
                f"--org-column {options.org_column!r} names {len(hits)} columns "
                f"({', '.join(c.name for c in hits[:3])}); give the column's exact header",
                source=source,
                row=1,
            )
        org = hits[0]
    elif not options.org_id:
        org = _organization_column(layout)
    # With --org given, a column that would have named the organization is left out, listed.
    overruled = _organization_column(layout) if options.org_id else None
    org_id = options.org_id or (options.default_org if org is None else "")
    respondent = _find(columns, _RESPONSE_ID[layout.tool])
    plan = _Plan(items={}, org=org, respondent=respondent)
    plan.finished = _find(columns, ("finished",))
    plan.progress = _find(columns, ("progress", "lastpage", "last page"))
    plan.status = _find(columns, ("status",)) if layout.tool == "qualtrics" else None
    plan.channel = _find(columns, ("distributionchannel",)) if layout.tool == "qualtrics" else None
    if layout.tool == "limesurvey":
        plan.finished = _find(columns, ("submitdate", "date submitted"))
    plan.person = [c for c in columns if c.key in _PERSON]

    codes = {code: item_id for item_id, code in limesurvey_question_codes(instrument).items()}
    matcher = QuestionMatcher(instrument, codes=codes, role_question=options.role_question or None)
    problems: list[Problem] = []
    taken: dict[str, _Column] = {}
    role: _Column | None = None
    unmatched: list[_Column] = []
    for column in columns:
        if column is org or column is respondent:
            continue
        if column.kind == "metadata" or column is overruled:
            report.metadata.append(column.name)
            continue
        if column.kind == "embedded" and column.key != ROLE_TARGET:
            report.embedded.append(column.name)
            continue
        if not column.key and not any(column.texts):
            continue  # an empty column without a name: nothing in it to lose
        if column.key in ("org_id", "respondent_id"):
            report.metadata.append(column.name)
            continue
        match = matcher.match(column.ids, column.texts)
        if match is None:
            unmatched.append(column)
            continue
        if match.target in taken:
            problems.append(
                Problem(
                    source,
                    f"holds {'the role question' if match.target == ROLE_TARGET else 'item ' + match.target} "
                    f"like column {taken[match.target].name}",
                    row=1,
                    column=column.name,
                )
            )
            continue
        taken[match.target] = column
        if match.target == ROLE_TARGET:
            role = column
        elif match.target in instrument.items:
            plan.items[match.target] = column
            report.items.append((column.name, match.target, match.how))
        else:
            plan.open[match.target] = column
            report.open_questions.append((column.name, match.target, match.how))
    if role is None:
        # A role question asked in other words: the one question whose every answer is a role.
        reader = RoleReader(instrument)
        answered_roles = [
            c
            for c in unmatched
            if any(row[c.index] for row in layout.data) and all(reader.read(row[c.index]) for row in layout.data)
        ]
        if len(answered_roles) == 1:
            role = answered_roles[0]
            unmatched.remove(role)
            report.role_found_by = "its answers, which are the instrument's roles"
    for column in unmatched:
        if options.ignore_columns:
            report.ignored.append(column.name)
            continue
        hint = ""
        close = matcher.closest(next((t for t in column.texts if t), column.name))
        if close:
            hint = f"; the closest question is {close} ({_short(_question_text(instrument, close), 50)!r})"
        problems.append(
            Problem(
                source,
                f"question matches no item of instrument {instrument.id!r} nor the role question{hint}; "
                "give --ignore-columns to leave it out",
                row=1,
                column=column.name,
            )
        )
    if problems:
        problems.sort(key=lambda p: next(c.index for c in columns if c.name == p.column))
        raise InputError(problems=problems[:MAX_PROBLEMS])
    if role is None:
        asked = options.role_question or "What is your role?"
        raise InputError(
            f"no role question found (a question {asked!r} or a column 'role'); name it with --role-question TEXT",
            source=source,
            row=1,
        )
    if not plan.items:
        raise InputError(f"no question matches an item of instrument {instrument.id!r}", source=source, row=1)
    if org is None and not org_id:
        raise InputError(
            "no organization: give --org ID (one organization) or --org-column NAME (the column that holds it)",
            source=source,
            row=1,
        )
    plan.role = role
    order = {target: n for n, target in enumerate((*instrument.layout.item_ids, *instrument.open_question_ids))}
    report.items.sort(key=lambda entry: order[entry[1]])
    report.open_questions.sort(key=lambda entry: order[entry[1]])
    report.role_column = role.name
    report.org_column = org.name if org is not None else f"--org {org_id}"
    plan.org_id = org_id
    report.id_column = respondent.name if respondent is not None else ""
    report.missing_items = [i for i in instrument.layout.item_ids if i not in plan.items]
    return plan


def _excluded(plan: _Plan, cells: list[str]) -> str | None:
    """Why a Qualtrics row is no respondent (a preview, a test, spam), or ``None``."""
    if plan.status is not None:
        status = " ".join(cells[plan.status.index].casefold().split())
        if status in _NOT_RESPONDENTS:
            return _NOT_RESPONDENTS[status]
        if status in _NOT_RESPONDENT_CODES:
            return _NOT_RESPONDENT_CODES[status]
    channel = cells[plan.channel.index].strip().casefold() if plan.channel is not None else ""
    if channel in ("preview", "test"):
        return f"a survey {channel}"
    return None


def _unfinished(layout: _Layout, plan: _Plan, cells: list[str]) -> str | None:
    """The progress of an unfinished response, or ``None`` when it was finished (or cannot tell)."""
    if plan.finished is None:
        return None
    done = normalize_label(cells[plan.finished.index])
    if layout.tool == "limesurvey":
        unfinished = done == ""  # submitdate is empty until the respondent submits
    else:
        unfinished = done in ("false", "0", "no")
    if not unfinished:
        return None
    if plan.progress is not None and cells[plan.progress.index]:
        value = cells[plan.progress.index]
        return f"{value}%" if layout.tool == "qualtrics" else f"last page {value}"
    return "unknown"


def _convert_rows(
    layout: _Layout,
    instrument: Instrument,
    report: ConversionReport,
    plan: _Plan,
    source: str,
) -> Conversion:
    assert plan.role is not None  # _plan_columns refuses an export without one
    role_column = plan.role
    positions = layout.tool in ("qualtrics", "surveymonkey")
    scale = instrument.scale_points
    item_ids = [i for i in instrument.layout.item_ids if i in plan.items]
    open_ids = [q for q in instrument.open_question_ids if q in plan.open]
    readers = [(plan.items[i].index, AnswerReader(instrument.items[i], scale, positions=positions)) for i in item_ids]
    role_codes = {code: role for role, code in limesurvey_role_codes(instrument).items()}
    roles = RoleReader(instrument, codes=role_codes, positions=positions)
    out: list[list[str]] = []
    out_rows: list[int] = []
    seen: dict[tuple[str, str], tuple[int, tuple[str, ...]]] = {}
    people: dict[tuple[str, str, str], int] = {}
    problems: list[Problem] = []
    for cells, row in zip(layout.data, layout.rows):
        reason = _excluded(plan, cells)
        if reason:
            report.excluded.append((row, reason))
            continue
        org = plan.org_id if plan.org is None else cells[plan.org.index]
        rid = cells[plan.respondent.index] if plan.respondent is not None else f"row{row}"
        raw_role = cells[role_column.index]
        role = roles.read(raw_role)
        answers = []
        for index, reader in readers:
            raw = cells[index]
            answer = reader.read(raw)
            answers.append(raw if answer is None else answer)  # the loaders name what they cannot read
        texts = [cells[plan.open[q].index] for q in open_ids]  # own words: the loaders keep them as written
        record = (org, rid, raw_role if role is None else role, *answers, *texts)
        if plan.respondent is not None and rid:
            first = seen.get((org, rid))
            if first is not None:
                if first[1] == record:
                    report.duplicates.append((row, first[0], rid))
                    continue
                problems.append(
                    Problem(
                        source,
                        f"response id {rid[:40]!r} appears again in organization {org[:40]!r} with different "
                        f"answers (first at row {first[0]})",
                        row=row,
                        column=plan.respondent.name,
                    )
                )
                if len(problems) >= MAX_PROBLEMS:
                    break
                continue
            seen[(org, rid)] = (row, record)
        for column in plan.person:
            value = cells[column.index].strip().casefold()
            if value:
                key = (org, column.name, value)
                if key in people:
                    report.same_person.append((row, people[key], column.name))
                else:
                    people[key] = row
        progress = _unfinished(layout, plan, cells)
        if progress is not None:
            report.partial.append((row, rid, progress))
        out.append(list(record))
        out_rows.append(row)
    if problems:
        raise InputError(problems=problems)
    if not out:
        raise InputError("holds no respondent once previews and tests are left out", source=source)
    columns = [*META_COLUMNS, *item_ids, *open_ids]
    frame = pd.DataFrame(out, columns=columns, dtype=object)
    report.respondents = len(out)
    report.organizations = int(frame["org_id"].nunique())
    names = {
        "org_id": plan.org.name if plan.org is not None else "--org",
        "respondent_id": plan.respondent.name if plan.respondent is not None else "(row number)",
        "role": role_column.name,
        **{i: plan.items[i].name for i in item_ids},
        **{q: plan.open[q].name for q in open_ids},
    }
    table = Table(source, columns, frame, np.asarray(out_rows, dtype=np.int64))
    return Conversion(table, report, names)


# ---------------------------------------------------------------------- writing
def responses_bytes(conversion: Conversion, suffix: str = ".csv") -> bytes:
    """The canonical responses as the bytes of a ``.csv`` (UTF-8) or ``.parquet`` file.

    Every cell is an answer the loaders accepted, a role id, or an id they checked (ids
    that start like a spreadsheet formula are refused), so nothing in the file can run
    as a formula.
    """
    frame = conversion.frame()
    if suffix.lower() in (".parquet", ".pq"):
        import io

        buf = io.BytesIO()
        frame.astype(str).to_parquet(buf, index=False)
        return buf.getvalue()
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def write_responses(path: str | Path, conversion: Conversion) -> Path:
    """Write the canonical responses (``.csv`` or ``.parquet``, by extension) atomically."""
    from .exporters import write_bytes

    return write_bytes(path, responses_bytes(conversion, Path(path).suffix))
