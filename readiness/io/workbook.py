"""Workbooks people fill in: the questionnaire, and the roadmap as a working document.

IO layer (openpyxl). For leaders and staff who answer offline: one row per respondent
on the ``Responses`` sheet, in exactly the canonical wide form the loaders read, so that
``readiness validate``, ``score`` and ``assess`` take a filled-in copy as it is, labels
and all.

Sheets:

- **Instructions**: how to fill it in, the roles, the scale, what N/A means;
- **Responses**: ``org_id, respondent_id, role`` then one column per item id, with after
  each facet's items a ``comment:<facet id>`` column for an optional comment on it (the
  report quotes comments, without names or roles, where enough people wrote one), then
  one column per open question. Each item cell offers a drop-down of the item's anchor labels (then
  ``N/A`` where the item allows it, and ``Don't know`` on every item); an open question's
  cell takes free text; the role cell offers the instrument's roles only; selecting a
  cell shows its question. The header row is locked (the sheet is protected without a password, to
  prevent accidents, not to keep anyone out); the answer rows are unlocked. Cells of
  items not asked of the row's role turn grey;
- **Questions**: every item with its dimension, facet, full text, roles, labels and the
  source it comes from (publication, year, title), then the open questions;
- **Lists** (hidden): the drop-down values. Excel limits a list typed into a validation
  to 255 characters, which five anchor sentences exceed, so each list is a range here.

**The roadmap workbook** (:func:`write_roadmap_workbook`, ``roadmap.xlsx``) lists the
planned actions in words with columns to record progress (Status, Responsible, Due
date, Comments); :func:`read_roadmap_progress` reads a filled-in copy back.

Example
-------
>>> write_template("questionnaire.xlsx", load_instrument())     # doctest: +SKIP
>>> read_roadmap_progress("roadmap-filled.xlsx")["define-offer"]["status"]   # doctest: +SKIP
'Done'
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from ..core.answers import DONT_KNOW_LABEL, OPEN_TEXT_MAX
from ..core.instrument import META_COLUMNS, Instrument
from ..core.responses import COMMENT_PREFIX
from ..core.roadmap import STATUSES  # what the Status column offers; a new roadmap starts "Not started"
from .citations import citation, cite
from .exporters import atomic_path

__all__ = [
    "DEFAULT_ROWS",
    "DK_TEXT",
    "FACETS_SHEET",
    "LISTS_SHEET",
    "NA_TEXT",
    "RESPONSES_SHEET",
    "ROADMAP_COLUMNS",
    "ROADMAP_SHEET",
    "STATUSES",
    "build_roadmap_workbook",
    "build_workbook",
    "read_roadmap_progress",
    "response_columns",
    "roadmap_rows",
    "write_roadmap_workbook",
    "write_template",
]

#: The answer sheet's name: :func:`readiness.io.loaders.read_table` picks it by this name.
RESPONSES_SHEET = "Responses"
LISTS_SHEET = "Lists"
QUESTIONS_SHEET = "Questions"
INSTRUCTIONS_SHEET = "Instructions"
#: What the drop-down offers for "not applicable" (the loaders accept NA and N/A) and for
#: "don't know" (the loaders accept DK and Don't know).
NA_TEXT = "N/A"
DK_TEXT = DONT_KNOW_LABEL
#: Answer rows prepared (unlocked, with drop-downs) when none is asked for.
DEFAULT_ROWS = 100
MAX_ROWS = 5000

#: Rows searched for the roadmap sheet's header, below its title rows.
_HEADER_ROWS = 30

_HEADER_FILL = "1F3B57"
_COMMENT_FILL = "4A6B8A"
_NOT_ASKED_FILL = "D9D9D9"
#: Longest comment a cell accepts (the loaders read up to 10,000 characters a cell).
MAX_COMMENT = 2000


def response_columns(instrument: Instrument) -> list[str]:
    """The Responses sheet's header: the meta columns, each facet's items and its comment column, the open questions."""
    columns = [*META_COLUMNS]
    for dim in instrument.dimensions:
        for facet in dim.facets:
            columns.extend(item.id for item in facet.items)
            columns.append(COMMENT_PREFIX + facet.id)
    columns.extend(instrument.open_question_ids)
    return columns


def write_template(path: str | Path, instrument: Instrument, *, rows: int = DEFAULT_ROWS, org_id: str = "") -> Path:
    """Write the fill-in workbook for ``instrument`` to ``path`` (atomically).

    Parameters
    ----------
    path : str or Path
        The ``.xlsx`` file to write.
    instrument : Instrument
    rows : int
        Answer rows to prepare (1..5000): one per respondent.
    org_id : str
        When given, the ``org_id`` column offers only this organization and the
        instructions name it.

    Returns
    -------
    Path
    """
    workbook = build_workbook(instrument, rows=rows, org_id=org_id)
    with atomic_path(path) as tmp:
        workbook.save(tmp)
    return Path(path)


def build_workbook(instrument: Instrument, *, rows: int = DEFAULT_ROWS, org_id: str = ""):
    """The fill-in workbook as an :class:`openpyxl.Workbook` (see the module docstring)."""
    from openpyxl import Workbook

    if not 1 <= rows <= MAX_ROWS:
        raise ValueError(f"rows must be between 1 and {MAX_ROWS}")
    workbook = Workbook()
    instructions = workbook.active
    instructions.title = INSTRUCTIONS_SHEET
    answers = workbook.create_sheet(RESPONSES_SHEET)
    questions = workbook.create_sheet(QUESTIONS_SHEET)
    lists = workbook.create_sheet(LISTS_SHEET)
    ranges = _fill_lists(lists, instrument, org_id)
    _fill_answers(answers, instrument, ranges, rows, org_id)
    _fill_questions(questions, instrument)
    _fill_instructions(instructions, instrument, rows, org_id)
    workbook.active = 0
    title = f"{instrument.title or instrument.id} questionnaire"
    workbook.properties.title = title[:200]
    return workbook


# ---------------------------------------------------------------------- sheets
def _put(ws, row: int, column: int, value: Any):
    cell = ws.cell(row=row, column=column, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula, whatever the instrument's text starts with
    return cell


def _fill_lists(ws, instrument: Instrument, org_id: str) -> dict[str, str]:
    """One column per drop-down list; returns list name -> absolute range."""
    from openpyxl.utils import get_column_letter, quote_sheetname

    sheet = quote_sheetname(LISTS_SHEET)
    columns: list[tuple[str, list[str]]] = [("role", list(instrument.roles))]
    if org_id:
        columns.append(("org_id", [org_id]))
    for item_id in instrument.layout.item_ids:
        item = instrument.items[item_id]
        columns.append((item_id, [*item.labels, *([NA_TEXT] if item.allows_na else []), DK_TEXT]))
    ranges: dict[str, str] = {}
    for c, (name, values) in enumerate(columns, start=1):
        _put(ws, 1, c, name)
        for r, value in enumerate(values, start=2):
            _put(ws, r, c, value)
        letter = get_column_letter(c)
        ranges[name] = f"{sheet}!${letter}$2:${letter}${len(values) + 1}"
    ws.sheet_state = "hidden"
    ws.protection.sheet = True
    return ranges


def _fill_answers(ws, instrument: Instrument, ranges: dict[str, str], rows: int, org_id: str) -> None:
    from openpyxl.comments import Comment
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    header = response_columns(instrument)
    questions = {q.id: q for q in instrument.open_questions}
    comment_facets = {COMMENT_PREFIX + f: f for f in instrument.facets}
    last = rows + 1
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor=_HEADER_FILL)
    comment_fill = PatternFill("solid", fgColor=_COMMENT_FILL)
    locked = Protection(locked=True)
    unlocked = Protection(locked=False)
    wrap = Alignment(vertical="top", wrap_text=True)
    for c, name in enumerate(header, start=1):
        cell = _put(ws, 1, c, name)
        cell.font, cell.fill, cell.protection = head_font, head_fill, locked
        cell.alignment = Alignment(vertical="center")
        if name in instrument.items:
            item = instrument.items[name]
            note = f"{item.text}\n\nAsked of: {', '.join(item.roles)}." + (" N/A allowed." if item.allows_na else "")
            cell.comment = Comment(note + " Don't know allowed.", "readiness", width=320, height=160)
        elif name in questions:
            note = f"{questions[name].text}\n\nAsked of: {', '.join(questions[name].roles)}. Free text, never scored."
            cell.comment = Comment(note, "readiness", width=320, height=160)
        elif name in comment_facets:
            cell.fill = comment_fill
            cell.comment = Comment(_comment_note(instrument, comment_facets[name]), "readiness", width=320, height=160)
    # Answer cells are unlocked one by one: protection then locks only the header.
    for r in range(2, last + 1):
        for c in range(1, len(header) + 1):
            cell = ws.cell(row=r, column=c)
            cell.protection = unlocked
            if c > len(META_COLUMNS):
                cell.alignment = wrap

    def validation(**kwargs: Any) -> DataValidation:
        dv = DataValidation(
            allow_blank=True, showDropDown=False, showErrorMessage=True, showInputMessage=True, **kwargs
        )
        ws.add_data_validation(dv)
        return dv

    role_col = get_column_letter(META_COLUMNS.index("role") + 1)
    dv = validation(
        type="list",
        formula1=ranges["role"],
        errorStyle="stop",
        errorTitle="Unknown role",
        error=f"Choose one of: {', '.join(instrument.roles)}"[:255],
        promptTitle="Role",
        prompt=f"The respondent's role: {', '.join(instrument.roles)}"[:255],
    )
    dv.add(f"{role_col}2:{role_col}{last}")
    org_col = get_column_letter(META_COLUMNS.index("org_id") + 1)
    if org_id:
        dv = validation(
            type="list",
            formula1=ranges["org_id"],
            errorStyle="stop",
            errorTitle="Organization",
            error=f"This questionnaire is for {org_id}"[:255],
            promptTitle="Organization",
            prompt=f"Choose {org_id}"[:255],
        )
    else:
        dv = validation(
            type="textLength",
            operator="between",
            formula1="1",
            formula2="200",
            errorStyle="stop",
            promptTitle="Organization",
            prompt="Your organization's id (the same on every row)",
        )
    dv.add(f"{org_col}2:{org_col}{last}")
    rid_col = get_column_letter(META_COLUMNS.index("respondent_id") + 1)
    dv = validation(
        type="textLength",
        operator="between",
        formula1="1",
        formula2="200",
        errorStyle="stop",
        promptTitle="Respondent",
        prompt="Any id that is unique in your organization (no names needed)",
    )
    dv.add(f"{rid_col}2:{rid_col}{last}")

    grey = PatternFill(bgColor=_NOT_ASKED_FILL, fill_type="solid")
    roles = list(instrument.roles)

    def grey_unless(letter: str, asked_of: set[str]) -> None:
        if asked_of != set(roles):
            # Grey where the row's role is not asked: "<>" compares text without case, as the loader does.
            test = ",".join(f'${role_col}2<>"{role}"' for role in roles if role in asked_of)
            ws.conditional_formatting.add(
                f"{letter}2:{letter}{last}", FormulaRule(formula=[f'AND(${role_col}2<>"",{test})'], fill=grey)
            )

    for c, name in enumerate(header, start=1):
        if name not in comment_facets:
            continue
        letter = get_column_letter(c)
        facet = instrument.facets[comment_facets[name]]
        dv = validation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(MAX_COMMENT),
            errorStyle="stop",
            errorTitle="Comment too long",
            error=f"A comment may have up to {MAX_COMMENT} characters.",
            promptTitle="Comment (optional)"[:32],
            prompt=(
                f"Anything you want to say about {facet.title.lower()}. The report quotes comments without "
                "names or roles, and only where enough people wrote one."
            )[:255],
        )
        dv.add(f"{letter}2:{letter}{last}")
        grey_unless(letter, {role for item in facet.items for role in item.roles})
        ws.column_dimensions[letter].width = 30

    for c, item_id in enumerate(header, start=1):
        if item_id not in instrument.items:
            continue
        item = instrument.items[item_id]
        letter = get_column_letter(c)
        choices = ", ".join(item.labels)
        dv = validation(
            type="list",
            formula1=ranges[item_id],
            # A warning, not a stop: typing the number 1..k is a valid answer too.
            errorStyle="warning",
            errorTitle="Not one of the answers",
            error=(
                f"Choose one of the answers from the list (or type 1 to {instrument.scale_points}"
                + (", N/A" if item.allows_na else "")
                + ", or DK for don't know)"
            )[:255],
            promptTitle=item_id[:32],
            prompt=item.text[:255],
        )
        dv.add(f"{letter}2:{letter}{last}")
        grey_unless(letter, set(item.roles))
        ws.column_dimensions[letter].width = 26 if len(choices) > 60 else 18
    for c, name in enumerate(header, start=1):
        if name not in questions:
            continue
        question = questions[name]
        letter = get_column_letter(c)
        dv = validation(
            type="textLength",
            operator="lessThanOrEqual",
            formula1=str(OPEN_TEXT_MAX),
            errorStyle="warning",
            errorTitle="Long answer",
            error=f"Answers are kept up to {OPEN_TEXT_MAX} characters"[:255],
            promptTitle=question.id[:32],
            prompt=question.text[:255],
        )
        dv.add(f"{letter}2:{letter}{last}")
        grey_unless(letter, set(question.roles))
        ws.column_dimensions[letter].width = 50
    for name, width in (("org_id", 16), ("respondent_id", 16), ("role", 14)):
        ws.column_dimensions[get_column_letter(META_COLUMNS.index(name) + 1)].width = width
    ws.row_dimensions[1].height = 22
    ws.freeze_panes = ws.cell(row=2, column=len(META_COLUMNS) + 1).coordinate
    # No password: the lock is against accidents (a renamed column makes the file unreadable).
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # resizing columns and rows stays allowed
    ws.protection.formatRows = False


def _comment_note(instrument: Instrument, facet_id: str) -> str:
    facet = instrument.facets[facet_id]
    return (
        f"Optional: a comment on {facet.title}.\n\n{facet.description}\n\nThe report quotes comments "
        "without names or roles, and only for a topic on which enough people commented."
    ).replace("\n\n\n\n", "\n\n")


def _fill_questions(ws, instrument: Instrument) -> None:
    from openpyxl.styles import Alignment, Font

    k = instrument.scale_points
    header = [
        "item",
        "dimension",
        "facet",
        "question",
        "asked of",
        "N/A allowed",
        *[f"answer {v}" for v in range(1, k + 1)],
        "source",
    ]
    for c, name in enumerate(header, start=1):
        _put(ws, 1, c, name).font = Font(bold=True)
    r = 2
    for dim in instrument.dimensions:
        for facet in dim.facets:
            for item in facet.items:
                values = [
                    item.id,
                    dim.title or dim.id,
                    facet.title or facet.id,
                    item.text,
                    ", ".join(item.roles),
                    "yes" if item.allows_na else "no",
                    *item.labels,
                    citation(item.source),
                ]
                for c, value in enumerate(values, start=1):
                    _put(ws, r, c, value).alignment = Alignment(vertical="top", wrap_text=True)
                r += 1
    for question in instrument.open_questions:
        values = [
            question.id,
            "",
            "",
            question.text,
            ", ".join(question.roles),
            "no",
            "free text, never scored",
            *[""] * (k - 1),
            citation(question.source),
        ]
        for c, value in enumerate(values, start=1):
            _put(ws, r, c, value).alignment = Alignment(vertical="top", wrap_text=True)
        r += 1
    for letter, width in zip("ABCDEF", (14, 14, 24, 60, 22, 8)):
        ws.column_dimensions[letter].width = width
    from openpyxl.utils import get_column_letter

    for c in range(7, 7 + k):
        ws.column_dimensions[get_column_letter(c)].width = 28
    ws.column_dimensions[get_column_letter(7 + k)].width = 50
    ws.freeze_panes = "B2"
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    ws.protection.formatRows = False


def _fill_instructions(ws, instrument: Instrument, rows: int, org_id: str) -> None:
    from openpyxl.styles import Alignment, Font

    roles = ", ".join(instrument.roles)
    n_na = sum(item.allows_na for item in instrument.items.values())
    lines: list[tuple[str, str]] = [
        ("title", f"{instrument.title or instrument.id}: questionnaire"),
        (
            "",
            f"Instrument {instrument.id}, version {instrument.version}: {len(instrument.items)} questions on "
            f"people, process, technology and knowledge.",
        ),
        ("", ""),
        ("head", "How to fill it in"),
        (
            "",
            f"1. Go to the '{RESPONSES_SHEET}' sheet. Each respondent fills in one row (up to {rows} rows "
            "are prepared).",
        ),
        ("", ("2. org_id: " + (f"choose {org_id}." if org_id else "your organization's id, the same on every row."))),
        (
            "",
            "3. respondent_id: any id that is unique within your organization (initials or a number; no names "
            "are needed).",
        ),
        ("", f"4. role: choose one of {roles}."),
        (
            "",
            "5. For each question, choose the answer that describes your center best from the drop-down list. "
            "Selecting a cell shows its question; the 'Questions' sheet lists them all in full.",
        ),
        ("", "6. Grey cells are questions not asked of that role: leave them empty."),
        (
            "",
            "   After each topic's questions, a 'comment:' column takes an optional comment on that topic in your "
            "own words. The report quotes comments without names or roles, and only for a topic on which "
            "enough people commented.",
        ),
        (
            "",
            f"7. Choose '{DK_TEXT}' when you cannot tell from where you sit: it is counted apart and does not "
            "lower the score. Choose N/A only where it is offered "
            f"({n_na} question{'s' if n_na != 1 else ''}): it means the question does not apply to your center. "
            "Leave a cell empty only to skip a question.",
        ),
        *(
            [
                (
                    "",
                    "8. The last column"
                    + ("s ask" if len(instrument.open_questions) > 1 else " asks")
                    + " for an answer in your own words ("
                    + "; ".join(f"'{q.text}'" for q in instrument.open_questions)
                    + "). It is optional and never scored.",
                )
            ]
            if instrument.open_questions
            else []
        ),
        (
            "",
            f"{9 if instrument.open_questions else 8}. Save the file as .xlsx and return it. Do not rename the "
            "sheet or the columns; the header row is locked for that reason.",
        ),
        ("", ""),
        ("head", "The scale"),
        (
            "",
            f"Every question has {instrument.scale_points} answers, from the least developed (1) to the most "
            "developed practice or the strongest agreement (5). The answers are described in words; you may "
            f"also type the number 1 to {instrument.scale_points}.",
        ),
        ("", ""),
        ("head", "What happens next"),
        (
            "",
            "The consultant checks the file (readiness validate) and scores it (readiness score / assess): "
            "every facet, dimension and the whole center on 0 to 100, compared with peer centers.",
        ),
    ]
    for r, (kind, text) in enumerate(lines, start=1):
        cell = _put(ws, r, 1, text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if kind == "title":
            cell.font = Font(bold=True, size=14)
        elif kind == "head":
            cell.font = Font(bold=True, size=12)
    ws.column_dimensions["A"].width = 110
    ws.protection.sheet = True


# ====================================================================== the roadmap workbook
#: The roadmap workbook's sheets.
ROADMAP_SHEET = "Roadmap"
FACETS_SHEET = "Facets"


def _phase_name(phase: Any, label: Any = None) -> str:
    from ..core.roadmap import PHASES

    try:
        number = int(phase)
    except (TypeError, ValueError):
        return str(phase or "")
    text = label or (PHASES[number][0] if number in PHASES else "")
    return f"{number} · {str(text).replace('-', '–')}" if text else str(number)


#: (header, results.json roadmap key or how to compute it, width, printed). The header
#: names are a contract: the re-assessment reads Status by them (:func:`read_roadmap_progress`).
ROADMAP_COLUMNS: tuple[tuple[str, int, bool], ...] = (
    ("Rank", 6, True),
    ("Action", 34, True),
    ("Action id", 12, True),
    ("Phase", 16, True),
    ("Timing", 14, True),
    ("Priority", 9, True),
    ("Owner", 15, True),
    ("After", 26, True),
    ("Facets", 24, True),
    ("Status", 12, True),
    ("Responsible", 16, True),
    ("Due date", 12, True),
    ("Comments", 26, True),
    ("Priority score", 9, False),
    ("Effort", 12, False),
    ("What to do", 60, False),
    ("Why here", 50, False),
    ("KPIs it should move", 28, False),
    ("Source", 24, False),
)
_EFFORT_WORDS = {"S": "Small (S)", "M": "Medium (M)", "L": "Large (L)"}
_TITLE_ROWS = 6  # title, four facts, a blank row; the header row comes next


def roadmap_rows(roadmap: list[dict[str, Any]], facet_titles: dict[str, str] | None = None) -> list[list[Any]]:
    """The roadmap as table rows in the order of :data:`ROADMAP_COLUMNS`, text neutralized.

    Names, not ids, wherever a person reads: owners, facets, KPIs and the actions an
    action comes after. The action id stays in its own column for cross-reference.
    """
    from .exporters import neutralize

    titles = facet_titles or {}
    rows = []
    for item in roadmap:
        owner = item.get("owner_name") or str(item.get("owner") or "").replace("_", " ").capitalize()
        after = item.get("after")
        if after is None:  # an older results document: the ids it depends on
            after = item.get("depends_on") or []
        kpis = item.get("kpi_names") or [str(k).replace("_", " ") for k in item.get("kpis") or []]
        start, end = item.get("start_week"), item.get("end_week")
        timing = f"weeks {start:g}–{end:g}" if isinstance(start, (int, float)) and isinstance(end, (int, float)) else ""
        if timing and item.get("end_phase") and item.get("end_phase") != item.get("phase"):
            timing += f" (runs into {item.get('end_phase_label') or 'the next phase'})"
        values = {
            "Rank": item.get("rank"),
            "Action": item.get("title", ""),
            "Action id": item.get("action", ""),
            "Phase": _phase_name(item.get("phase"), item.get("phase_label")),
            "Timing": timing,
            "Priority": item.get("priority_band") or "",
            "Owner": owner,
            "After": ", ".join(map(str, after)),
            "Facets": ", ".join(titles.get(f, str(f)) for f in item.get("facets") or []),
            "Status": STATUSES[0],
            "Responsible": "",
            "Due date": None,
            "Comments": "",
            "Priority score": item.get("priority"),
            "Effort": _EFFORT_WORDS.get(str(item.get("effort")), item.get("effort") or ""),
            "What to do": item.get("what", ""),
            "Why here": item.get("why", ""),
            "KPIs it should move": ", ".join(map(str, kpis)),
            "Source": cite(item),  # publication, year and title, never a file name
        }
        rows.append([neutralize(values[name]) for name, _, _ in ROADMAP_COLUMNS])
    return rows


def build_roadmap_workbook(
    roadmap: list[dict[str, Any]], *, results: dict[str, Any] | None = None, title: str = "Roadmap"
):
    """The roadmap as a working document: an :class:`openpyxl.Workbook` (see :func:`write_roadmap_workbook`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation

    from .exporters import neutralize

    doc = results or {}
    facet_titles = {f: (b or {}).get("title") or f for f, b in (doc.get("facets") or {}).items()}
    rows = roadmap_rows(roadmap, facet_titles)
    wb = Workbook()
    ws = wb.active
    ws.title = ROADMAP_SHEET

    # ---------------------------------------------------------------- title rows
    org = doc.get("organization") or {}
    assessment = doc.get("assessment") or {}
    plan = doc.get("plan") or {}
    facts = [
        ("Organization", org.get("name") or org.get("id") or ""),
        ("Assessment date", assessment.get("date") or "not given"),
        ("Target", plan.get("target") or "not given"),
        ("Prepared by", assessment.get("prepared_by") or "not given"),
    ]
    head = _put(ws, 1, 1, neutralize(title))
    head.font = Font(bold=True, size=14, color=_HEADER_FILL)
    for r, (label, value) in enumerate(facts, start=2):
        _put(ws, r, 1, neutralize(f"{label}: {value}")).font = Font(size=10)
    header_row = _TITLE_ROWS + 1

    # ---------------------------------------------------------------- the table
    names = [name for name, _, _ in ROADMAP_COLUMNS]
    thin = Side(style="thin", color="C9D3DD")
    for c, (name, width, printed) in enumerate(ROADMAP_COLUMNS, start=1):
        cell = _put(ws, header_row, c, name)
        cell.font = Font(bold=True, color="FFFFFF", size=10)
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL if printed else _COMMENT_FILL)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.column_dimensions[get_column_letter(c)].width = width
    fills = {1: "E8F0E8", 2: "EEF2F7", 3: "F7F3EA", 4: "F2F2F2"}
    fill_in = {"Status", "Responsible", "Due date", "Comments"}
    # Each kind of cell (its column, and its phase where the phase colours it) is styled
    # once; the others of its kind copy that cell's style, as openpyxl copies a sheet.
    # Styled one by one, a workbook took 70 ms, most of it openpyxl comparing every new
    # style with those it holds.
    styled: dict[tuple[str, Any], Any] = {}
    for r, (row, item) in enumerate(zip(rows, roadmap), start=header_row + 1):
        phase = item.get("phase")
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text: never a formula
            name = names[c - 1]
            kind = (name, None if name in fill_in else phase)
            if kind in styled:
                cell._style = copy.copy(styled[kind]._style)
                continue
            styled[kind] = cell
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.font = Font(size=8 if name == "Action id" else 10, color="6B7785" if name == "Action id" else None)
            cell.border = Border(bottom=thin)
            if name in fill_in:
                cell.fill = PatternFill("solid", fgColor="FFFFFF")
            elif phase in fills:
                cell.fill = PatternFill("solid", fgColor=fills[phase])
            if name == "Due date":
                cell.number_format = "yyyy-mm-dd"
            if name == "Priority score":
                cell.number_format = "0.0"
    last = header_row + max(len(rows), 1)
    # Drop-downs and the date check reach a little below the actions: rows a client adds.
    last_input = last + 20

    # ---------------------------------------------------------------- drop-downs
    lists = wb.create_sheet("Lists")
    owners = list(dict.fromkeys(row[names.index("Owner")] for row in rows if row[names.index("Owner")]))
    from ..core.roadmap import PHASES

    phases = [_phase_name(p, label) for p, (label, _) in sorted(PHASES.items())]
    ranges = {}
    for c, (key, values) in enumerate((("Status", list(STATUSES)), ("Owner", owners), ("Phase", phases)), start=1):
        _put(lists, 1, c, key)
        for r, value in enumerate(values or [""], start=2):
            _put(lists, r, c, value)
        letter = get_column_letter(c)
        ranges[key] = f"{quote_sheetname(lists.title)}!${letter}$2:${letter}${len(values or ['']) + 1}"
    lists.sheet_state = "hidden"

    def column(name: str) -> str:
        return get_column_letter(names.index(name) + 1)

    def add(dv: DataValidation, name: str) -> None:
        ws.add_data_validation(dv)
        dv.add(f"{column(name)}{header_row + 1}:{column(name)}{last_input}")

    add(
        DataValidation(
            type="list",
            formula1=ranges["Status"],
            allow_blank=True,
            errorStyle="stop",
            errorTitle="Status",
            error="Choose one of: " + ", ".join(STATUSES),
            promptTitle="Status",
            prompt="Not started, In progress, Done or Dropped",
            showErrorMessage=True,
            showInputMessage=True,
        ),
        "Status",
    )
    for name, prompt in (
        ("Owner", "Who owns the action; choose from the list or type another owner"),
        ("Phase", "When the action is done: move it to another phase if the plan changes"),
    ):
        add(
            DataValidation(
                type="list",
                formula1=ranges[name],
                allow_blank=True,
                errorStyle="warning",  # another owner or a re-planned phase is allowed, with a warning
                errorTitle=name,
                error=f"Not one of the {name.lower()}s in the plan; keep it anyway?",
                promptTitle=name,
                prompt=prompt,
                showErrorMessage=True,
                showInputMessage=True,
            ),
            name,
        )
    add(
        DataValidation(
            type="date",
            operator="greaterThanOrEqual",
            formula1="36526",  # 2000-01-01 as a spreadsheet date
            allow_blank=True,
            errorStyle="stop",
            errorTitle="Due date",
            error="Type a date, for example 2025-06-30.",
            promptTitle="Due date",
            prompt="The date the action is due, for example 2025-06-30",
            showErrorMessage=True,
            showInputMessage=True,
        ),
        "Due date",
    )

    # ---------------------------------------------------------------- view and print
    ws.freeze_panes = ws.cell(row=header_row + 1, column=names.index("Action id") + 1).coordinate
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(names))}{last}"
    n_printed = sum(1 for _, _, shown in ROADMAP_COLUMNS if shown)
    ws.print_area = f"A1:{get_column_letter(n_printed)}{last}"
    ws.print_title_rows = f"{header_row}:{header_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.5
    ws.oddFooter.center.text = "Page &P of &N"
    note = _put(
        ws,
        _TITLE_ROWS,
        1,
        f"Fill in Status, Responsible, Due date and Comments as the work goes on. The printout covers columns A to "
        f"{get_column_letter(n_printed)}; the columns after it explain each action.",
    )
    note.font = Font(size=9, italic=True, color="4A5A6A")

    _facets_sheet(wb.create_sheet(FACETS_SHEET), doc)
    wb.move_sheet(FACETS_SHEET, offset=-1)  # Roadmap, Facets, then the hidden lists
    wb.active = 0
    wb.properties.title = neutralize(title)[:200]
    return wb


def _facets_sheet(ws, doc: dict[str, Any]) -> None:
    """Facet scores, targets and gaps, in the instrument's order, grouped by dimension."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from .exporters import neutralize

    plan = doc.get("plan") or {}
    targets, gaps = plan.get("targets") or {}, plan.get("gaps") or {}
    dims = doc.get("dimensions") or {}
    barrier = (doc.get("overall") or {}).get("barrier")
    org = (doc.get("organization") or {}).get("name") or ""
    _put(ws, 1, 1, neutralize(f"Facet scores, targets and gaps: {org}")).font = Font(bold=True, size=13)
    _put(ws, 2, 1, neutralize(f"Scores 0–100. Target: {plan.get('target') or 'none'}.")).font = Font(size=10)
    header = ["Dimension", "Facet", "Score", "Target", "Gap", "Barrier"]
    for c, name in enumerate(header, start=1):
        cell = _put(ws, 4, c, name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
    r = 5
    for f, block in (doc.get("facets") or {}).items():
        block = block or {}
        dim = block.get("dimension") or f.split(".", 1)[0]
        values = [
            (dims.get(dim) or {}).get("title") or str(dim).capitalize(),
            block.get("title") or f,
            block.get("score"),
            targets.get(f),
            gaps.get(f),
            "yes" if f == barrier else "",
        ]
        for c, value in enumerate(values, start=1):
            cell = _put(ws, r, c, neutralize(value))
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            if c in (3, 4, 5):
                cell.number_format = "0.0"
        r += 1
    for c, width in enumerate((14, 40, 9, 9, 9, 9), start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = "A5"
    ws.print_title_rows = "4:4"
    ws.page_setup.orientation = "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_roadmap_workbook(
    path: str | Path,
    roadmap: list[dict[str, Any]],
    *,
    results: dict[str, Any] | None = None,
    title: str = "Roadmap",
) -> Path:
    """roadmap.xlsx: the roadmap as a working document, written atomically.

    Sheet **Roadmap**: title rows (organization, assessment date, target, prepared by),
    then a header row (:data:`ROADMAP_COLUMNS`) and one row per action, in words:
    owners, facets, KPIs and the actions an action comes after by name, the action id in
    a small column for cross-reference. Status (a drop-down of :data:`STATUSES`,
    "Not started" to begin with), Owner and Phase (drop-downs), Responsible, Due date (a
    date cell, checked) and Comments are there to be filled in; :func:`read_roadmap_progress`
    reads them back. Printed landscape on A4, fit to the page width, the header row on
    every page. Sheet **Facets**: facet scores, targets and gaps. No cell holds a formula.
    """
    workbook = build_roadmap_workbook(roadmap, results=results, title=title)
    stamp = _assessment_time(results or {})
    workbook.properties.created = workbook.properties.modified = stamp
    _save_reproducibly(workbook, Path(path), stamp)
    return Path(path)


def _assessment_time(results: dict[str, Any]):
    """Midnight (UTC) of the assessment's date; the first day zip files know of when there is none."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(str((results.get("assessment") or {}).get("date")))
    except ValueError:
        day = dt.date(1980, 1, 1)
    return dt.datetime(max(day.year, 1980), day.month, day.day)


def _save_reproducibly(workbook, path: Path, stamp) -> None:
    """Save ``workbook`` atomically so that the same workbook gives the same bytes: every part dated ``stamp``.

    openpyxl's ``save`` dates the file's properties and each part it zips by the clock;
    its writer is given an archive that dates them all by the assessment instead.
    """
    import zipfile

    from openpyxl.writer.excel import ExcelWriter

    when = stamp.timetuple()[:6]

    class DatedZip(zipfile.ZipFile):
        def writestr(self, name, data, compress_type=None, compresslevel=None):
            if not isinstance(name, zipfile.ZipInfo):
                name = zipfile.ZipInfo(name, date_time=when)
                name.compress_type, name.external_attr = self.compression, 0o600 << 16
            super().writestr(name, data, compress_type, compresslevel)

        def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
            with open(filename, "rb") as fh:  # a sheet written to a temporary file: dated by the clock
                self.writestr(str(arcname or Path(filename).name), fh.read())

    with atomic_path(path) as tmp, DatedZip(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).write_data()  # what ExcelWriter.save does before closing the archive


def read_roadmap_progress(path: str | Path) -> dict[str, dict[str, Any]]:
    """The progress recorded in a filled-in roadmap.xlsx: action id -> status, responsible, due, comments.

    Tolerant of what a spreadsheet does to a file: rows re-sorted or filtered, columns
    added or moved, empty rows, title rows edited, a status typed in another case or
    with spaces, a leading apostrophe kept from neutralizing, dates as date cells, ISO
    text or spreadsheet serial numbers (other text in Due date is kept as written), a
    renamed sheet that still holds the table. An empty status reads as "Not started".
    Read as the responses are (:mod:`readiness.io.tables`): the unpacked size checked
    before anything is unpacked, every row there is whatever size a sheet declares.
    Strict otherwise: not a workbook, no sheet with the table, an unknown status, an
    action id twice, progress on a row without an action id, or no action at all is an
    :class:`InputError` naming the file, sheet, row and column.

    Returns
    -------
    dict
        ``{action_id: {"status": str, "responsible": str | None, "due": str | None,
        "comments": str | None}}``, in the order of the rows; ``status`` is one of
        :data:`~readiness.core.roadmap.STATUSES`, ``due`` is ``YYYY-MM-DD`` for a date.
    """
    import io
    import zipfile

    from openpyxl import load_workbook

    from ..core.errors import InputError, Problem
    from .tables import Limits, check_unpacked_size, read_bytes

    path = Path(path)
    name = path.name
    data = read_bytes(path)
    if not data.startswith(b"PK"):
        raise InputError("cannot be read as an Excel workbook (.xlsx)", source=name)
    try:
        check_unpacked_size(data, name, Limits())  # before anything is unpacked: no zip bomb
        wb = load_workbook(io.BytesIO(data), data_only=True, read_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"cannot be read as an Excel workbook ({type(exc).__name__})", source=name) from None
    try:
        tables: dict[str, list[tuple]] = {}
        for ws in wb.worksheets:
            ws.reset_dimensions()  # every row there is, whatever size the sheet declares
            tables[ws.title] = list(ws.iter_rows(values_only=True))
    finally:
        wb.close()
    wanted = {"action id", "status"}

    def header_of(rows: list[tuple]) -> tuple[int, list[str]] | None:
        for r, row in enumerate(rows[:_HEADER_ROWS], start=1):
            keys = [_header_key(v) for v in row]
            if wanted <= set(keys):
                return r, keys
        return None

    found = None
    if ROADMAP_SHEET in tables:
        found = (ROADMAP_SHEET, header_of(tables[ROADMAP_SHEET]))
        if found[1] is None:
            raise InputError(
                f"sheet {ROADMAP_SHEET!r} has no header row with the columns 'Action id' and 'Status' "
                f"in its first {_HEADER_ROWS} rows",
                source=name,
            )
    else:  # a renamed sheet: the one that holds the table
        for title, rows in tables.items():
            if title != LISTS_SHEET and header_of(rows) is not None:
                found = (title, header_of(rows))
                break
        if found is None:
            raise InputError(
                f"has no sheet {ROADMAP_SHEET!r}; give the roadmap workbook (roadmap.xlsx) the client filled in",
                source=name,
            )
    sheet, located = found
    assert located is not None
    header_row, keys = located
    source = f"{name}, sheet {sheet}"
    col = {
        key: keys.index(key) for key in ("action id", "status", "responsible", "due date", "comments") if key in keys
    }
    canonical = {s.casefold(): s for s in STATUSES}
    problems: list[Problem] = []
    out: dict[str, dict[str, Any]] = {}
    first_row: dict[str, int] = {}

    def cell(row: tuple, key: str) -> Any:
        return row[col[key]] if key in col and col[key] < len(row) else None

    for r, row in enumerate(tables[sheet][header_row:], start=header_row + 1):
        action = _cell_words(cell(row, "action id")).lstrip("'")  # an apostrophe kept from neutralizing
        status_text = _cell_words(cell(row, "status"))
        due_value = cell(row, "due date")
        responsible = _cell_words(cell(row, "responsible"))
        comments = "" if cell(row, "comments") is None else str(cell(row, "comments")).strip()
        if not action:
            filled = (status_text and status_text.casefold() != STATUSES[0].casefold()) or responsible or due_value
            if filled:
                problems.append(Problem(source, "progress is recorded on a row without an action id", r, "Action id"))
            continue
        if action in first_row:
            problems.append(Problem(source, f"action {action[:40]!r} is listed twice", r, "Action id"))
            continue
        first_row[action] = r
        status = canonical.get(status_text.casefold()) if status_text else STATUSES[0]
        if status is None:
            problems.append(
                Problem(source, f"status {status_text[:40]!r} is not one of {', '.join(STATUSES)}", r, "Status")
            )
            continue
        out[action] = {
            "status": status,
            "responsible": responsible or None,
            "due": _due(due_value),
            "comments": comments or None,
        }
    if problems:
        raise InputError(problems=problems)
    if not out:
        raise InputError("lists no action below its header", source=source, row=header_row)
    return out


def _cell_words(value: Any) -> str:
    """A cell as text, whitespace collapsed; a whole number typed in a text column without ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _due(value: Any) -> str | None:
    """A due date as ``YYYY-MM-DD`` when it is one (a date cell, ISO text, a spreadsheet serial), else as written."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 1 <= value < 2_958_466:
        return (dt.date(1899, 12, 30) + dt.timedelta(days=int(value))).isoformat()  # a spreadsheet serial
    text = _cell_words(value)
    try:
        return dt.date.fromisoformat(text[:10]).isoformat() if len(text) >= 10 else text or None
    except ValueError:
        return text  # a date a person typed in words ("end of Q3"): kept as written


def _header_key(value: Any) -> str:
    return " ".join(str(value).split()).casefold() if value is not None else ""
