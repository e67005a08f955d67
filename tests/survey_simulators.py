"""Simulated survey-tool exports, built from each tool's documented layout (no network).

Test helpers, not tests. Every export is generated at test time from an instrument and
a canonical answers frame (``org_id, respondent_id, role``, then item ids with answers
``"1"``..``"k"``, ``"NA"``, ``"DK"`` or ``""``), so that no bundled item id or text is
written down here. Texts shown to respondents are taken from the instrument directly
(labels, "Not applicable", "Don't know", the role capitalized), not from the code under
test.

Layouts (from the tools' documentation and public exports):

- Qualtrics CSV: row 1 column ids (metadata names, then the question export tags, then
  embedded data), row 2 question texts, row 3 ``{"ImportId": ...}``; ``Status`` is
  ``IP Address`` for a real response, ``Survey Preview`` for a preview.
- SurveyMonkey: row 1 ``Respondent ID, Collector ID, Start Date, End Date, IP Address,
  Email Address, First Name, Last Name, Custom Data 1`` then question texts (a matrix
  question names itself in its first column only), row 2 ``Response`` under a
  single-choice question or the matrix row's text.
- LimeSurvey CSV: ``id, submitdate, lastpage, startlanguage, seed`` then question codes
  (or ``Response ID, Date submitted, Last page, Start language, Seed`` then full texts);
  answers as codes or full texts; ``submitdate`` empty for an incomplete response.
- Google Forms CSV: ``Timestamp, Email Address`` then question texts; Microsoft Forms
  XLSX: ``ID, Start time, Completion time, Email, Name`` then question texts.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROLE_TEXT = "What is your role?"


# ---------------------------------------------------------------------- canonical answers
def canonical_answers(
    instrument,
    orgs: Sequence[str],
    *,
    per_role: dict[str, int] | None = None,
    seed: int = 0,
    dont_know: bool = True,
    blank: float = 0.08,
) -> pd.DataFrame:
    """Random canonical answers: every organization, every role, NA and DK sprinkled in."""
    rng = np.random.default_rng(seed)
    roles = list(instrument.roles)
    per_role = per_role or dict.fromkeys(roles, 4)
    k = instrument.scale_points
    rows = []
    for org in orgs:
        tilt = rng.normal(0, 0.8)  # organizations differ, so a mix-up between them would show
        for role in roles:
            for n in range(per_role.get(role, 0)):
                row = {"org_id": org, "respondent_id": f"{org}-{role[:2]}{n + 1}", "role": role}
                for item_id in instrument.layout.item_ids:
                    item = instrument.items[item_id]
                    if role not in item.roles:
                        row[item_id] = ""
                        continue
                    draw = rng.random()
                    if draw < blank:
                        row[item_id] = ""
                    elif item.allows_na and draw < blank + 0.06:
                        row[item_id] = "NA"
                    elif dont_know and draw < blank + 0.12:
                        row[item_id] = "DK"
                    else:
                        row[item_id] = str(int(np.clip(round(rng.normal(k / 2 + 0.5 + tilt, 1.1)), 1, k)))
                for question in instrument.open_questions:
                    asked = role in question.roles and rng.random() > blank
                    row[question.id] = f'In {org}, "{role}" {n + 1} says: more time,\nless noise' if asked else ""
                rows.append(row)
    return pd.DataFrame(rows, dtype=object)


def questions(instrument) -> list[str]:
    """The ids of every question after the role question: the items, then the open questions."""
    return [*instrument.layout.item_ids, *instrument.open_question_ids]


def question_text(instrument, question_id: str) -> str:
    if question_id in instrument.items:
        return instrument.items[question_id].text
    return next(q.text for q in instrument.open_questions if q.id == question_id)


def choice_text(instrument, item_id: str, answer: str) -> str:
    """The text a respondent chose for a canonical answer, from the instrument itself."""
    if item_id not in instrument.items:
        return answer  # an open question: the respondent's own words
    item = instrument.items[item_id]
    if answer == "":
        return ""
    if answer == "NA":
        return "Not applicable"
    if answer == "DK":
        return "Don't know"
    return item.labels[int(answer) - 1]


def choice_position(instrument, item_id: str, answer: str) -> str:
    """The position of the chosen choice as the survey offers them: labels, Not applicable (if allowed), Don't know."""
    if item_id not in instrument.items:
        return answer
    item = instrument.items[item_id]
    if answer == "":
        return ""
    k = instrument.scale_points
    if answer == "NA":
        return str(k + 1)
    if answer == "DK":
        return str(k + 2 if item.allows_na else k + 1)
    return answer


def role_text(role: str) -> str:
    words = role.replace("_", " ")
    return words[:1].upper() + words[1:]


def ls_code(item_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", item_id)


def ls_role_code(role: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "", role)[:5]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def write_xlsx(path: Path, rows: list[list[str]], *, merge_first_row: Sequence[tuple[int, int]] = ()) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Sheet"
    for row in rows:
        ws.append([None if v == "" else v for v in row])
    for first, last in merge_first_row:  # a matrix question's title over its columns
        ws.merge_cells(start_row=1, start_column=first + 1, end_row=1, end_column=last + 1)
    wb.save(path)
    return path


# ---------------------------------------------------------------------- Qualtrics
QUALTRICS_META = [
    ("StartDate", "Start Date", '{"ImportId":"startDate","timeZone":"Europe/London"}'),
    ("EndDate", "End Date", '{"ImportId":"endDate","timeZone":"Europe/London"}'),
    ("Status", "Response Type", '{"ImportId":"status"}'),
    ("IPAddress", "IP Address", '{"ImportId":"ipAddress"}'),
    ("Progress", "Progress", '{"ImportId":"progress"}'),
    ("Duration (in seconds)", "Duration (in seconds)", '{"ImportId":"duration"}'),
    ("Finished", "Finished", '{"ImportId":"finished"}'),
    ("RecordedDate", "Recorded Date", '{"ImportId":"recordedDate","timeZone":"Europe/London"}'),
    ("ResponseId", "Response ID", '{"ImportId":"_recordId"}'),
    ("RecipientLastName", "Recipient Last Name", '{"ImportId":"recipientLastName"}'),
    ("RecipientFirstName", "Recipient First Name", '{"ImportId":"recipientFirstName"}'),
    ("RecipientEmail", "Recipient Email", '{"ImportId":"recipientEmail"}'),
    ("ExternalReference", "External Data Reference", '{"ImportId":"externalDataReference"}'),
    ("LocationLatitude", "Location Latitude", '{"ImportId":"locationLatitude"}'),
    ("LocationLongitude", "Location Longitude", '{"ImportId":"locationLongitude"}'),
    ("DistributionChannel", "Distribution Channel", '{"ImportId":"distributionChannel"}'),
    ("UserLanguage", "User Language", '{"ImportId":"userLanguage"}'),
]


def qualtrics_rows(
    instrument,
    answers: pd.DataFrame,
    *,
    tags: str = "ids",
    numeric: bool = False,
    embedded: tuple[str, ...] = ("site", "wave"),
    preview: bool = False,
    unfinished: Sequence[int] = (),
    repeat: Sequence[int] = (),
    text_prefix: str = "",
) -> list[list[str]]:
    """A Qualtrics CSV export (three header rows) of ``answers``.

    ``tags``: "ids" (export tags are the item ids, as ``readiness survey`` sets them) or
    "default" (Q1, Q2, ...: matched by text). ``numeric``: recode values instead of
    choice texts. The organization goes into the first embedded-data field.
    ``unfinished``: rows (0-based) whose response was not finished (Progress below 100,
    Finished False); ``repeat``: rows exported twice; ``preview``: a preview row first.
    """
    items = questions(instrument)
    qtags = ["role" if tags == "ids" else "Q1"] + [
        item_id if tags == "ids" else f"Q{n + 2}" for n, item_id in enumerate(items)
    ]
    head1 = [m[0] for m in QUALTRICS_META] + qtags + list(embedded)
    head2 = (
        [m[1] for m in QUALTRICS_META]
        + [text_prefix + ROLE_TEXT]
        + [text_prefix + question_text(instrument, i) for i in items]
        + list(embedded)
    )
    head3 = (
        [m[2] for m in QUALTRICS_META]
        + [json.dumps({"ImportId": f"QID{n + 1}"}, separators=(",", ":")) for n in range(len(items) + 1)]
        + [json.dumps({"ImportId": e}, separators=(",", ":")) for e in embedded]
    )
    out = [head1, head2, head3]
    roles = list(instrument.roles)

    def record(n: int, row, *, status: str = "IP Address", done: bool = True) -> list[str]:
        if numeric:
            role = str(roles.index(row["role"]) + 1)
            cells = [choice_position(instrument, i, row[i]) for i in items]
        else:
            role = role_text(row["role"])
            cells = [choice_text(instrument, i, row[i]) for i in items]
        meta = [
            "2024-03-04 09:00:00",
            "2024-03-04 09:12:00",
            status,
            "203.0.113.9",
            "100" if done else "45",
            "720",
            "True" if done else "False",
            "2024-03-04 09:12:01",
            row["respondent_id"],
            "",
            "",
            f"person{n}@example.com",
            "",
            "51.5",
            "-0.12",
            "anonymous",
            "EN",
        ]
        return meta + [role] + cells + [row["org_id"], "W1"][: len(embedded)]

    if preview:
        first = answers.iloc[0]
        out.append(record(-1, {**first, "respondent_id": "R_preview"}, status="Survey Preview"))
    for n, (_, row) in enumerate(answers.iterrows()):
        out.append(record(n, row, done=n not in unfinished))
        if n in repeat:
            out.append(record(n, row, done=n not in unfinished))
    return out


# ---------------------------------------------------------------------- SurveyMonkey
SURVEYMONKEY_META = [
    "Respondent ID",
    "Collector ID",
    "Start Date",
    "End Date",
    "IP Address",
    "Email Address",
    "First Name",
    "Last Name",
    "Custom Data 1",
]


def surveymonkey_rows(instrument, answers: pd.DataFrame, *, matrix: int = 0) -> tuple[list[list[str]], list]:
    """A SurveyMonkey export: question texts, then the sub-header row, then one row per respondent.

    The organization is in ``Custom Data 1``. With ``matrix`` > 0 the first ``matrix``
    items are one matrix question ("Please rate each statement.") whose rows are the
    item texts. Returns the rows and the (first, last) column spans of matrix titles.
    """
    items = questions(instrument)
    head1 = list(SURVEYMONKEY_META) + [ROLE_TEXT]
    head2 = [""] * len(SURVEYMONKEY_META) + ["Response"]
    spans = []
    for n, item_id in enumerate(items):
        if n < matrix:
            head1.append("Please rate each statement." if n == 0 else "")
            head2.append(instrument.items[item_id].text)
        else:
            head1.append(question_text(instrument, item_id))
            head2.append("Response" if item_id in instrument.items else "Open-Ended Response")
    if matrix:
        first = len(SURVEYMONKEY_META) + 1
        spans.append((first, first + matrix - 1))
    out = [head1, head2]
    for _, row in answers.iterrows():
        meta = [
            row["respondent_id"],
            "431234567",
            "03/04/2024 09:00:00 AM",
            "03/04/2024 09:12:00 AM",
            "198.51.100.7",
            "",
            "",
            "",
            row["org_id"],
        ]
        out.append(meta + [role_text(row["role"])] + [choice_text(instrument, i, row[i]) for i in items])
    return out, spans


# ---------------------------------------------------------------------- LimeSurvey
def limesurvey_rows(
    instrument, answers: pd.DataFrame, *, headings: str = "code", codes: bool = True, org_column: bool = True
) -> list[list[str]]:
    """A LimeSurvey response export.

    ``headings``: "code" (question codes), "text" (full question texts) or "both"
    ("CODE. text"). ``codes``: answers as answer codes, else as full answer texts. With
    ``org_column`` the hidden question ``orgid`` holds the organization.
    """
    items = questions(instrument)
    if headings == "text":
        head = ["Response ID", "Date submitted", "Last page", "Start language", "Seed"]
    else:
        head = ["id", "submitdate", "lastpage", "startlanguage", "seed"]

    def heading(code: str, text: str) -> str:
        return {"code": code, "text": text, "both": f"{code}. {text}"}[headings]

    head.append(heading("role", ROLE_TEXT))
    if org_column:
        head.append(heading("orgid", "org id"))
    head += [heading(ls_code(i), question_text(instrument, i)) for i in items]
    out = [head]
    for n, (_, row) in enumerate(answers.iterrows()):
        role = ls_role_code(row["role"]) if codes else role_text(row["role"])
        cells = [row[i] if codes else choice_text(instrument, i, row[i]) for i in items]
        meta = [str(n + 1), "2024-03-04 09:12:00", "4", "en", str(1000 + n)]
        out.append(meta + [role] + ([row["org_id"]] if org_column else []) + cells)
    return out


# ---------------------------------------------------------------------- Forms
def google_forms_rows(instrument, answers: pd.DataFrame, *, numbered: bool = False) -> list[list[str]]:
    """A Google Forms CSV: ``Timestamp, Email Address``, then the question texts (optionally numbered)."""
    items = questions(instrument)
    texts = [ROLE_TEXT] + [question_text(instrument, i) for i in items]
    if numbered:
        texts = [f"{n + 1}. {t}" for n, t in enumerate(texts)]
    out = [["Timestamp", "Email Address", *texts]]
    for n, (_, row) in enumerate(answers.iterrows()):
        out.append(
            ["2024/03/04 9:12:00 AM GMT", f"p{n}@example.com", role_text(row["role"])]
            + [choice_text(instrument, i, row[i]) for i in items]
        )
    return out


def microsoft_forms_rows(instrument, answers: pd.DataFrame) -> list[list[str]]:
    """A Microsoft Forms XLSX sheet: ``ID, Start time, Completion time, Email, Name``, then the question texts."""
    items = questions(instrument)
    out = [
        [
            "ID",
            "Start time",
            "Completion time",
            "Email",
            "Name",
            ROLE_TEXT,
            *(question_text(instrument, i) for i in items),
        ]
    ]
    for _, row in answers.iterrows():
        out.append(
            [row["respondent_id"], "3/4/24 9:00:00", "3/4/24 9:12:00", "anonymous", "", role_text(row["role"])]
            + [choice_text(instrument, i, row[i]) for i in items]
        )
    return out
