"""The fill-in questionnaire workbook: an XLSX generated from an instrument.

IO layer (openpyxl). For leaders and staff who answer offline: one row per respondent
on the ``Responses`` sheet, in exactly the canonical wide form the loaders read, so that
``readiness validate``, ``score`` and ``assess`` take a filled-in copy as it is, labels
and all.

Sheets:

- **Instructions**: how to fill it in, the roles, the scale, what N/A means;
- **Responses**: ``org_id, respondent_id, role`` then one column per item id, then one
  per open question. Each item cell offers a drop-down of the item's anchor labels (then
  ``N/A`` where the item allows it, and ``Don't know`` on every item); an open question's
  cell takes free text; the role cell offers the instrument's roles only; selecting a
  cell shows its question. The header row is locked (the sheet is protected without a password, to
  prevent accidents, not to keep anyone out); the answer rows are unlocked. Cells of
  items not asked of the row's role turn grey;
- **Questions**: every item with its dimension, facet, full text, roles, labels and the
  source it comes from (publication, year, title), then the open questions;
- **Lists** (hidden): the drop-down values. Excel limits a list typed into a validation
  to 255 characters, which five anchor sentences exceed, so each list is a range here.

It also reads back the **roadmap workbook** the client filled in
(:func:`read_roadmap_progress`): sheet ``Roadmap``, title rows at the top, then a header
row with at least ``Action id`` and ``Status`` (and ``Responsible``, ``Due date``,
``Comments`` when present), one row per action.

Example
-------
>>> write_template("questionnaire.xlsx", load_instrument())     # doctest: +SKIP
>>> read_roadmap_progress("roadmap-filled.xlsx")["define-offer"]["status"]   # doctest: +SKIP
'Done'
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.answers import DONT_KNOW_LABEL, OPEN_TEXT_MAX
from ..core.instrument import META_COLUMNS, Instrument
from .citations import citation
from .exporters import atomic_path

__all__ = [
    "DEFAULT_ROWS",
    "DK_TEXT",
    "LISTS_SHEET",
    "NA_TEXT",
    "RESPONSES_SHEET",
    "ROADMAP_SHEET",
    "build_workbook",
    "read_roadmap_progress",
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

#: The roadmap workbook's sheet of actions (``roadmap.xlsx``).
ROADMAP_SHEET = "Roadmap"
#: Rows searched for the roadmap sheet's header, below its title rows.
_HEADER_ROWS = 30

_HEADER_FILL = "1F3B57"
_NOT_ASKED_FILL = "D9D9D9"


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

    layout = instrument.layout
    header = [*META_COLUMNS, *layout.item_ids, *instrument.open_question_ids]
    questions = {q.id: q for q in instrument.open_questions}
    last = rows + 1
    head_font = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor=_HEADER_FILL)
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
    for c, item_id in enumerate(layout.item_ids, start=len(META_COLUMNS) + 1):
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
        if set(item.roles) != set(roles):
            # Grey where the row's role is not asked: "<>" compares text without case, as the loader does.
            test = ",".join(f'${role_col}2<>"{role}"' for role in item.roles)
            ws.conditional_formatting.add(
                f"{letter}2:{letter}{last}", FormulaRule(formula=[f'AND(${role_col}2<>"",{test})'], fill=grey)
            )
        ws.column_dimensions[letter].width = 26 if len(choices) > 60 else 18
    first_open = len(META_COLUMNS) + len(layout.item_ids) + 1
    for c, question in enumerate(instrument.open_questions, start=first_open):
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
        if set(question.roles) != set(roles):
            test = ",".join(f'${role_col}2<>"{role}"' for role in question.roles)
            ws.conditional_formatting.add(
                f"{letter}2:{letter}{last}", FormulaRule(formula=[f'AND(${role_col}2<>"",{test})'], fill=grey)
            )
        ws.column_dimensions[letter].width = 50
    for name, width in (("org_id", 16), ("respondent_id", 16), ("role", 14)):
        ws.column_dimensions[get_column_letter(META_COLUMNS.index(name) + 1)].width = width
    ws.row_dimensions[1].height = 22
    ws.freeze_panes = ws.cell(row=2, column=len(META_COLUMNS) + 1).coordinate
    # No password: the lock is against accidents (a renamed column makes the file unreadable).
    ws.protection.sheet = True
    ws.protection.formatColumns = False  # resizing columns and rows stays allowed
    ws.protection.formatRows = False


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


# ---------------------------------------------------------------------- the filled-in roadmap
def read_roadmap_progress(path: str | Path) -> dict[str, dict[str, Any]]:
    """What the client recorded in the roadmap workbook: each action's status and who does it.

    Parameters
    ----------
    path : str or Path
        The filled-in ``roadmap.xlsx``: sheet ``Roadmap``, title rows, then a header row
        holding ``Action id`` and ``Status`` (any case), one row per action below it.

    Returns
    -------
    dict
        action id -> ``{"status", "responsible", "due", "comments"}``. ``status`` is one
        of :data:`~readiness.core.roadmap.STATUSES` (an empty cell reads as
        ``Not started``); ``due`` is ``YYYY-MM-DD`` for a date cell, else the text
        written, or None; the others are text or None.

    Raises
    ------
    InputError
        Not a workbook, no ``Roadmap`` sheet, no header row, an unknown status or a
        duplicate action id; the message names the file, row and column.
    """
    import io
    import zipfile

    from openpyxl import load_workbook

    from ..core.errors import InputError
    from ..core.roadmap import STATUSES
    from .tables import Limits, check_unpacked_size, read_bytes

    path = Path(path)
    name = path.name
    data = read_bytes(path)
    if not data.startswith(b"PK"):
        raise InputError("cannot be read as an Excel workbook (.xlsx)", source=name)
    try:
        check_unpacked_size(data, name, Limits())  # before anything is unpacked: no zip bomb
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise InputError(f"cannot be read as an Excel workbook ({type(exc).__name__})", source=name) from None
    try:
        if ROADMAP_SHEET not in workbook.sheetnames:
            raise InputError(
                f"has no sheet {ROADMAP_SHEET!r}; give the roadmap workbook (roadmap.xlsx) the client filled in",
                source=name,
            )
        sheet = workbook[ROADMAP_SHEET]
        sheet.reset_dimensions()  # every row there is, whatever size the sheet declares
        rows = list(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()
    known = {s.casefold(): s for s in STATUSES}
    header_at, columns = None, {}
    for r, values in enumerate(rows[:_HEADER_ROWS], start=1):
        cells = {_text(v).casefold(): c for c, v in enumerate(values) if _text(v)}
        if "action id" in cells and "status" in cells:
            header_at, columns = r, cells
            break
    if header_at is None:
        raise InputError(
            f"sheet {ROADMAP_SHEET!r} has no header row with the columns 'Action id' and 'Status' "
            f"in its first {_HEADER_ROWS} rows",
            source=name,
        )

    def cell(values: tuple, column: str) -> Any:
        c = columns.get(column.casefold())
        return values[c] if c is not None and c < len(values) else None

    out: dict[str, dict[str, Any]] = {}
    for r, values in enumerate(rows[header_at:], start=header_at + 1):
        action = _text(cell(values, "Action id")).lstrip("'")
        if not action:
            continue  # a blank or a note row
        if action in out:
            raise InputError(f"action {action[:40]!r} is listed twice", source=name, row=r, column="Action id")
        raw = _text(cell(values, "Status"))
        status = known.get(" ".join(raw.split()).casefold()) if raw else STATUSES[0]
        if status is None:
            raise InputError(
                f"status {raw[:40]!r} is not one of {', '.join(STATUSES)}", source=name, row=r, column="Status"
            )
        out[action] = {
            "status": status,
            "responsible": _text(cell(values, "Responsible")) or None,
            "due": _due(cell(values, "Due date")),
            "comments": _text(cell(values, "Comments")) or None,
        }
    if not out:
        raise InputError(f"sheet {ROADMAP_SHEET!r} lists no action below its header", source=name, row=header_at)
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def _due(value: Any) -> str | None:
    from datetime import date, datetime

    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return _text(value) or None
